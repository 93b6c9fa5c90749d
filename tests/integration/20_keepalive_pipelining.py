"""Keep-alive, Connection: close, HTTP/1.0, pipelining, request bodies, 100-continue."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import build_request  # noqa: E402

FILES = {f"f{i}.txt": (f"file number {i}\n" * (i + 1)).encode() for i in range(8)}
BIG = harness.pattern_bytes(200 * 1024, seed=7)
HUGE = harness.pattern_bytes(5 * 1024 * 1024, seed=8)


class KeepAlive(harness.ServerTestCase):

    @classmethod
    def build_root(cls, root):
        root.file("index.html", "<p>index</p>\n")
        for n, d in FILES.items():
            root.file(n, d)
        root.file("big.bin", BIG)
        root.file("huge.bin", HUGE)

    def test_http11_default_keepalive(self):
        c = self.server.conn()
        try:
            for i in range(5):
                c.send(build_request("/f1.txt"))
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.body, FILES["f1.txt"])
                self.assertEqual(r.header("Connection", "").lower(), "keep-alive")
            self.assertFalse(c.is_closed(timeout=0.3))
        finally:
            c.close()

    def test_connection_close(self):
        c = self.server.conn()
        try:
            c.send(build_request("/f2.txt", close=True))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, FILES["f2.txt"])
            self.assertEqual(r.header("Connection", "").lower(), "close")
            self.assertTrue(c.is_closed())
        finally:
            c.close()

    def test_connection_close_drops_following_pipelined(self):
        c = self.server.conn()
        try:
            c.send(build_request("/f2.txt", close=True) + build_request("/f3.txt"))
            r = c.read_response()
            self.assertEqual(r.body, FILES["f2.txt"])
            self.assertTrue(c.is_closed())
        finally:
            c.close()

    def test_http10_closes_by_default(self):
        c = self.server.conn()
        try:
            c.send(b"GET /f1.txt HTTP/1.0\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, FILES["f1.txt"])
            self.assertNotEqual(r.header("Connection", "close").lower(), "keep-alive")
            self.assertTrue(c.is_closed())
        finally:
            c.close()

    def test_http10_keepalive(self):
        c = self.server.conn()
        try:
            for _ in range(3):
                c.send(b"GET /f1.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.body, FILES["f1.txt"])
                self.assertEqual(r.header("Connection", "").lower(), "keep-alive")
            self.assertFalse(c.is_closed(timeout=0.3))
        finally:
            c.close()

    def test_pipeline_in_order_with_head(self):
        names = list(FILES)
        reqs = b""
        heads = set()
        for i, n in enumerate(names):
            m = "HEAD" if i == 3 else "GET"
            if m == "HEAD":
                heads.add(i)
            reqs += build_request("/" + n, method=m)
        c = self.server.conn()
        try:
            c.send(reqs)
            rs = c.read_responses(len(names), heads=heads)
            for i, (n, r) in enumerate(zip(names, rs)):
                self.assertEqual(r.status, 200, n)
                self.assertEqual(r.header("Content-Length"), str(len(FILES[n])), n)
                self.assertEqual(r.body, b"" if i in heads else FILES[n], n)
            # nothing extra: the HEAD did not carry a body
            self.assertFalse(c.is_closed(timeout=0.3))
        finally:
            c.close()

    def test_pipeline_large_and_small(self):
        c = self.server.conn()
        try:
            c.send(build_request("/big.bin") + build_request("/f0.txt")
                   + build_request("/big.bin") + build_request("/f5.txt"))
            rs = c.read_responses(4)
            self.assertEqual([r.body for r in rs], [BIG, FILES["f0.txt"], BIG, FILES["f5.txt"]])
        finally:
            c.close()

    def test_pipeline_after_response_that_blocked(self):
        """A pipelined request waiting behind a response whose write hit EAGAIN (the
        client paused reading) must be answered once that response completes from the
        EPOLLOUT edge: the bytes are already in the read buffer, no new EPOLLIN comes."""
        import time
        c = self.server.conn(timeout=5)
        try:
            c.send(build_request("/huge.bin") + build_request("/f0.txt"))
            time.sleep(0.3)  # socket buffers fill up, the server sees EAGAIN
            r1 = c.read_response()
            self.assertTrue(r1.body == HUGE)
            try:
                r2 = c.read_response()
            except (harness.socket.timeout, harness.ConnectionClosed) as e:
                self.fail("pipelined GET /f0.txt after a 5 MiB response that blocked was "
                          f"never answered ({e!r})")
            self.assertEqual(r2.body, FILES["f0.txt"])
        finally:
            c.close()

    def test_pipeline_many(self):
        c = self.server.conn()
        try:
            n = 100
            c.send(b"".join(build_request(f"/f{i % 8}.txt") for i in range(n)))
            rs = c.read_responses(n)
            for i, r in enumerate(rs):
                self.assertEqual(r.body, FILES[f"f{i % 8}.txt"], i)
        finally:
            c.close()

    def test_pipeline_with_content_length_body(self):
        body = b"a=1&b=2&" * 100
        c = self.server.conn()
        try:
            c.send(build_request("/f1.txt", {"Content-Length": str(len(body))}, body=body)
                   + build_request("/f2.txt"))
            r1, r2 = c.read_responses(2)
            self.assertEqual(r1.status, 200)
            self.assertEqual(r1.body, FILES["f1.txt"])
            self.assertEqual(r2.status, 200)
            self.assertEqual(r2.body, FILES["f2.txt"])
        finally:
            c.close()

    def test_pipeline_with_405_body(self):
        body = b"GET /f7.txt HTTP/1.1\r\nHost: x\r\n\r\n"  # must not be parsed as a request
        c = self.server.conn()
        try:
            c.send(build_request("/f1.txt", {"Content-Length": str(len(body))}, method="POST", body=body)
                   + build_request("/f3.txt"))
            r1, r2 = c.read_responses(2)
            self.assertEqual(r1.status, 405)
            self.assertEqual(r2.status, 200)
            self.assertEqual(r2.body, FILES["f3.txt"])
            self.assertFalse(c.is_closed(timeout=0.3))
        finally:
            c.close()

    def test_pipeline_with_chunked_body(self):
        chunked = (b"5\r\nhello\r\n"
                   b"1a; ext=1\r\n" + b"x" * 26 + b"\r\n"
                   b"0\r\nTrailer-Field: v\r\n\r\n")
        c = self.server.conn()
        try:
            c.send(build_request("/f4.txt", {"Transfer-Encoding": "chunked"}, body=chunked)
                   + build_request("/f5.txt"))
            r1, r2 = c.read_responses(2)
            self.assertEqual(r1.status, 200)
            self.assertEqual(r1.body, FILES["f4.txt"])
            self.assertEqual(r2.status, 200)
            self.assertEqual(r2.body, FILES["f5.txt"])
        finally:
            c.close()

    def test_body_sent_later(self):
        body = b"z" * 5000
        c = self.server.conn()
        try:
            c.send(build_request("/f1.txt", {"Content-Length": str(len(body))}))
            r1 = c.read_response()  # static GET may be answered before the body
            self.assertEqual(r1.body, FILES["f1.txt"])
            c.send(body[:2000])
            c.send(body[2000:] + build_request("/f6.txt"))
            r2 = c.read_response()
            self.assertEqual(r2.body, FILES["f6.txt"])
        finally:
            c.close()

    def test_expect_100_continue(self):
        body = b"q" * 100
        c = self.server.conn()
        try:
            c.send(build_request("/f1.txt", {"Content-Length": str(len(body)),
                                            "Expect": "100-continue"}))
            r = c.read_response()
            if r.status == 100:
                self.assertEqual(r.raw_head.split(b"\r\n")[0], b"HTTP/1.1 100 Continue")
                c.send(body)
                r = c.read_response()
            else:
                self.fail(f"expected 100 Continue first, got {r}")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, FILES["f1.txt"])
            c.send(build_request("/f2.txt"))
            self.assertEqual(c.read_response().body, FILES["f2.txt"])
        finally:
            c.close()

    def test_one_byte_at_a_time(self):
        c = self.server.conn()
        try:
            c.send_slowly(build_request("/f3.txt"))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, FILES["f3.txt"])
        finally:
            c.close()

    def test_leading_empty_lines(self):
        r = self.req(b"\r\n\r\n" + build_request("/f1.txt"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, FILES["f1.txt"])

    def test_bare_lf_accepted(self):
        r = self.req(b"GET /f1.txt HTTP/1.1\nHost: x\n\n")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, FILES["f1.txt"])


if __name__ == "__main__":
    harness.main()
