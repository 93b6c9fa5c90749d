"""Conditional requests (RFC 9110 § 13) and byte ranges (§ 14)."""

import email.utils
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import build_request  # noqa: E402

DATA = harness.pattern_bytes(1000, seed=11)   # position-dependent content
TINY = b"0123456789" * 3                      # multipart would be bigger than the file
LEN = len(DATA)
BIG = harness.pattern_bytes(1024 * 1024, seed=5)
MTIME = 1_700_000_000  # fixed, in the past


def httpdate(ts):
    return email.utils.formatdate(ts, usegmt=True)


def parse_multipart(resp):
    ct = resp.header("Content-Type", "")
    m = re.match(r'multipart/byteranges;\s*boundary="?([^";]+)"?', ct)
    assert m, f"not multipart/byteranges: {ct!r}"
    boundary = m.group(1).encode()
    body = resp.body
    parts = []
    delim = b"--" + boundary
    assert body.count(delim + b"--") == 1, body
    segs = body.split(delim)
    # segs[0] preamble (empty or CRLF), last is "--\r\n" epilogue
    for seg in segs[1:]:
        if seg.startswith(b"--"):
            break
        assert seg.startswith(b"\r\n"), seg[:50]
        head, _, content = seg[2:].partition(b"\r\n\r\n")
        assert content.endswith(b"\r\n"), content[-10:]
        content = content[:-2]
        hdrs = {}
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        parts.append((hdrs, content))
    return parts


class ConditionalRange(harness.ServerTestCase):

    @classmethod
    def build_root(cls, root):
        root.file("index.html", "<p>x</p>\n")
        p = root.abspath(root.file("data.txt", DATA) and "data.txt")
        os.utime(p, (MTIME, MTIME))
        root.file("big.bin", BIG)
        root.file("tiny.txt", TINY)

    def setUp(self):
        r = self.get("/data.txt")
        self.assertEqual(r.status, 200)
        self.etag = r.header("ETag")
        self.lastmod = r.header("Last-Modified")
        self.assertEqual(self.lastmod, httpdate(MTIME))

    # ---------------------------------------------------------------- conditionals

    def test_if_none_match_304(self):
        r = self.get("/data.txt", {"If-None-Match": self.etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("ETag"), self.etag)
        self.assertEqual(r.header("Last-Modified"), self.lastmod)

    def test_304_has_no_body_on_keepalive(self):
        c = self.server.conn()
        try:
            c.send(build_request("/data.txt", {"If-None-Match": self.etag})
                   + build_request("/data.txt"))
            r1, r2 = c.read_responses(2)
            self.assertEqual(r1.status, 304)
            self.assertEqual(r2.status, 200)
            self.assertEqual(r2.body, DATA)
        finally:
            c.close()

    def test_if_none_match_star_and_lists(self):
        for v in ("*", f'"nope", {self.etag}', f'W/{self.etag}', f'"a",W/{self.etag} ,"b"'):
            r = self.get("/data.txt", {"If-None-Match": v})
            self.assertEqual(r.status, 304, v)
            self.assertEqual(r.body, b"", v)

    def test_if_none_match_other_200(self):
        for v in ('"other"', 'W/"other"', '"%s"' % self.etag.strip('"')[:-1]):
            r = self.get("/data.txt", {"If-None-Match": v})
            self.assertEqual(r.status, 200, v)
            self.assertEqual(r.body, DATA)

    def test_head_if_none_match(self):
        r = self.get("/data.txt", {"If-None-Match": self.etag}, method="HEAD")
        self.assertEqual(r.status, 304)

    def test_if_modified_since(self):
        for v, want in ((self.lastmod, 304), (httpdate(MTIME + 3600), 304),
                        (httpdate(MTIME - 1), 200), (httpdate(MTIME - 86400), 200)):
            r = self.get("/data.txt", {"If-Modified-Since": v})
            self.assertEqual(r.status, want, v)
            self.assertEqual(r.body, b"" if want == 304 else DATA, v)
        # an unparsable date is ignored
        r = self.get("/data.txt", {"If-Modified-Since": "yesterday"})
        self.assertEqual(r.status, 200)

    def test_if_none_match_precedence(self):
        # INM fails (etag differs) -> 200 although IMS alone would give 304
        r = self.get("/data.txt", {"If-None-Match": '"other"', "If-Modified-Since": self.lastmod})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, DATA)
        # INM matches -> 304 although IMS alone would give 200
        r = self.get("/data.txt", {"If-None-Match": self.etag,
                                   "If-Modified-Since": httpdate(MTIME - 86400)})
        self.assertEqual(r.status, 304)

    def test_if_match(self):
        r = self.get("/data.txt", {"If-Match": '"other"'})
        self.assertEqual(r.status, 412)
        self.assertIn(b"412", r.body)
        for v in (self.etag, "*"):
            r = self.get("/data.txt", {"If-Match": v})
            self.assertEqual((r.status, r.body), (200, DATA), v)

    def test_if_unmodified_since(self):
        r = self.get("/data.txt", {"If-Unmodified-Since": httpdate(MTIME - 60)})
        self.assertEqual(r.status, 412)
        r = self.get("/data.txt", {"If-Unmodified-Since": httpdate(MTIME)})
        self.assertEqual((r.status, r.body), (200, DATA))
        r = self.get("/data.txt", {"If-Unmodified-Since": httpdate(MTIME + 60)})
        self.assertEqual((r.status, r.body), (200, DATA))

    def test_412_keeps_connection(self):
        c = self.server.conn()
        try:
            c.send(build_request("/data.txt", {"If-Match": '"x"'}) + build_request("/data.txt"))
            r1, r2 = c.read_responses(2)
            self.assertEqual((r1.status, r2.status), (412, 200))
        finally:
            c.close()

    def test_etag_changes_with_content(self):
        self.root.file("changing.txt", "v1\n")
        os.utime(self.root.abspath("changing.txt"), (MTIME, MTIME))
        e1 = self.get("/changing.txt").header("ETag")
        self.root.file("changing.txt", "v2 longer\n")
        os.utime(self.root.abspath("changing.txt"), (MTIME + 10, MTIME + 10))
        # the file changed: its old validator must not produce a 304 any more
        r = self.get("/changing.txt", {"If-None-Match": e1})
        self.assertEqual((r.status, r.body), (200, b"v2 longer\n"))
        self.assertNotEqual(r.header("ETag"), e1)

    def test_changed_file_never_stale_behind_a_burst(self):
        """A request sent after the file changed must see the new content, also when it
        reaches the worker while a burst of connections sent before the change is still
        being accepted and answered (a deferred listener answers in its accept loop: a
        connection accepted later in that loop was read before the file-change event
        this stop found and fixed)."""
        path = self.root.abspath("race.txt")
        for i in range(20):
            old, new = f"old {i}\n", f"new {i} longer\n"
            with open(path, "w") as f:
                f.write(old)
            self.assertEqual(self.get("/race.txt").body, old.encode())   # cached now
            fillers = []
            for _ in range(60):
                s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
                fillers.append(s)
            for s in fillers:   # the burst: the worker is busy accepting these ...
                s.sendall(build_request("/index.html", close=True))
            with open(path, "w") as f:   # ... when the file changes
                f.write(new)
            r = self.get("/race.txt")
            for s in fillers:
                s.close()
            self.assertEqual((r.status, r.body), (200, new.encode()), f"round {i}")

    # ---------------------------------------------------------------- ranges

    def range(self, spec, extra=None, method="GET", path="/data.txt"):
        h = {"Range": spec}
        h.update(extra or {})
        return self.get(path, h, method=method)

    def test_range_first_bytes(self):
        r = self.range("bytes=0-9")
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), f"bytes 0-9/{LEN}")
        self.assertEqual(r.header("Content-Length"), "10")
        self.assertEqual(r.body, DATA[0:10])
        self.assertEqual(r.header("ETag"), self.etag)

    def test_range_forms(self):
        cases = {
            "bytes=10-": (10, LEN - 1),
            "bytes=-5": (LEN - 5, LEN - 1),
            "bytes=5-5": (5, 5),
            f"bytes={LEN - 10}-{LEN + 100}": (LEN - 10, LEN - 1),     # clipped
            f"bytes=0-{LEN * 10}": (0, LEN - 1),
            f"bytes=-{LEN + 50}": (0, LEN - 1),  # suffix longer than the file
            f"bytes={LEN - 1}-": (LEN - 1, LEN - 1),
        }
        for spec, (a, b) in cases.items():
            r = self.range(spec)
            self.assertEqual(r.status, 206, spec)
            self.assertEqual(r.header("Content-Range"), f"bytes {a}-{b}/{LEN}", spec)
            self.assertEqual(r.body, DATA[a:b + 1], spec)
            self.assertEqual(int(r.header("Content-Length")), b - a + 1, spec)

    def test_range_unsatisfiable_416(self):
        for spec in (f"bytes={LEN}-", f"bytes={LEN + 100}-{LEN + 200}", "bytes=-0"):
            r = self.range(spec)
            self.assertEqual(r.status, 416, spec)
            self.assertEqual(r.header("Content-Range"), f"bytes */{LEN}", spec)
            self.assertNotIn(DATA[:20], r.body)

    def test_range_invalid_ignored(self):
        for spec in ("bytes=abc", "items=0-1", "bytes=5-2", "bytes=", "bytes=--1", "bytes 0-1",
                     "bytes=0-1-2", "bytes=1x-2"):
            r = self.range(spec)
            self.assertEqual(r.status, 200, spec)
            self.assertEqual(r.body, DATA, spec)
            self.assertIsNone(r.header("Content-Range"), spec)

    def test_range_large_file(self):
        a, b = 300_000, 700_123
        r = self.range(f"bytes={a}-{b}", path="/big.bin")
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), f"bytes {a}-{b}/{len(BIG)}")
        self.assertTrue(r.body == BIG[a:b + 1])

    def test_range_curl(self):
        p = harness.curl(["-r", "1000-1999", "-o", "-", self.server.url("/big.bin")])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, BIG[1000:2000])

    def test_if_range(self):
        r = self.range("bytes=0-9", {"If-Range": self.etag})
        self.assertEqual((r.status, r.body), (206, DATA[:10]))
        r = self.range("bytes=0-9", {"If-Range": self.lastmod})
        self.assertEqual((r.status, r.body), (206, DATA[:10]))
        for v in ('"other"', httpdate(MTIME - 3600), f"W/{self.etag}"):
            r = self.range("bytes=0-9", {"If-Range": v})
            self.assertEqual(r.status, 200, v)
            self.assertEqual(r.body, DATA, v)

    def test_multiple_ranges(self):
        r = self.range("bytes=0-1,5-6")
        self.assertEqual(r.status, 206)
        self.assertIsNone(r.header("Content-Range"))
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        parts = parse_multipart(r)
        self.assertEqual(len(parts), 2)
        (h1, b1), (h2, b2) = parts
        self.assertEqual(h1.get("content-range"), f"bytes 0-1/{LEN}")
        self.assertEqual(b1, DATA[0:2])
        self.assertEqual(h2.get("content-range"), f"bytes 5-6/{LEN}")
        self.assertEqual(b2, DATA[5:7])
        self.assertEqual(h1.get("content-type"), "text/plain")

    def test_multiple_ranges_tiny_file(self):
        # a server may answer 200 with the whole (smaller than multipart) file
        r = self.range("bytes=0-1,5-6", path="/tiny.txt")
        self.assertIn(r.status, (200, 206))
        if r.status == 200:
            self.assertEqual(r.body, TINY)
        else:
            self.assertEqual([p[1] for p in parse_multipart(r)], [b"01", b"56"])

    def test_multiple_ranges_three_with_suffix(self):
        r = self.range("bytes=0-0, 50-59, -3")
        self.assertEqual(r.status, 206)
        parts = parse_multipart(r)
        self.assertEqual([p[1] for p in parts], [DATA[0:1], DATA[50:60], DATA[-3:]])
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        self.assertEqual([p[0]["content-range"] for p in parts],
                         [f"bytes 0-0/{LEN}", f"bytes 50-59/{LEN}", f"bytes {LEN - 3}-{LEN - 1}/{LEN}"])

    def test_multipart_large_file(self):
        r = self.range("bytes=0-99999,500000-599999", path="/big.bin")
        self.assertEqual(r.status, 206)
        parts = parse_multipart(r)
        self.assertTrue(parts[0][1] == BIG[0:100000])
        self.assertTrue(parts[1][1] == BIG[500000:600000])

    def test_overlapping_ranges_as_asked(self):
        # nginx sends every part as asked, in the order asked (RFC 9110 § 14.6)
        r = self.range("bytes=0-5,3-8")
        self.assertEqual(r.status, 206)
        parts = parse_multipart(r)
        self.assertEqual([p[1] for p in parts], [DATA[0:6], DATA[3:9]])

    def test_parts_in_the_order_asked(self):
        r = self.range("bytes=50-59,0-9")
        self.assertEqual(r.status, 206)
        parts = parse_multipart(r)
        self.assertEqual([p[1] for p in parts], [DATA[50:60], DATA[0:10]])
        self.assertEqual([p[0]["content-range"] for p in parts], [f"bytes 50-59/{LEN}", f"bytes 0-9/{LEN}"])

    def test_ranges_adding_up_past_the_file_get_it_whole(self):
        r = self.range("bytes=0-,0-")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, DATA)

    def test_head_with_range(self):
        c = self.server.conn()
        try:
            c.send(build_request("/data.txt", {"Range": "bytes=0-9"}, method="HEAD")
                   + build_request("/data.txt"))
            h = c.read_response(head=True)
            g = c.read_response()
        finally:
            c.close()
        self.assertIn(h.status, (200, 206))
        self.assertEqual(h.body, b"")
        self.assertEqual((g.status, g.body), (200, DATA))

    def test_range_keepalive_pipelined(self):
        c = self.server.conn()
        try:
            c.send(build_request("/data.txt", {"Range": "bytes=0-1,5-6"})
                   + build_request("/data.txt", {"Range": f"bytes={LEN}-"})
                   + build_request("/data.txt", {"Range": "bytes=-5"}))
            r1, r2, r3 = c.read_responses(3)
            self.assertEqual((r1.status, r2.status, r3.status), (206, 416, 206))
            self.assertEqual(r3.body, DATA[-5:])
        finally:
            c.close()


if __name__ == "__main__":
    harness.main()
