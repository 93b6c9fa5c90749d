"""Static files: MIME types, small/large bodies, paths, traversal, symlinks, directories."""

import hashlib
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import build_request  # noqa: E402

SECRET = b"TOP-SECRET-do-not-serve-4f1c2a"
SMALL = harness.pattern_bytes(10 * 1024, seed=1)        # < 16 KiB: from memory
MEDIUM = harness.pattern_bytes(16 * 1024 + 1, seed=2)   # just over the threshold
LARGE = harness.pattern_bytes(5 * 1024 * 1024, seed=3)  # sendfile

MIME = {
    "a.html": "text/html",
    "a.css": "text/css",
    "a.js": "application/javascript",
    "a.png": "image/png",
    "a.svg": "image/svg+xml",
    "a.json": "application/json",
    "a.txt": "text/plain",
    "a.unknownext": "application/octet-stream",
    "noext": "application/octet-stream",
}


class StaticFiles(harness.ServerTestCase):

    @classmethod
    def build_root(cls, root):
        root.file("index.html", "<p>root index</p>\n")
        for n in MIME:
            root.file(n, f"content of {n}\n")
        root.file("small.bin", SMALL)
        root.file("medium.bin", MEDIUM)
        root.file("large.bin", LARGE)
        root.file("empty.txt", b"")
        root.file("with space.txt", "spaced\n")
        root.file("pct%.txt", "percent\n")
        root.file("dir/index.html", "<p>dir index</p>\n")
        root.file("dir/sub/file.txt", "deep\n")
        root.dir("noindex")
        root.file("noindex/x.txt", "x\n")
        root.file("locked.txt", "locked\n", mode=0o000)
        # secrets next to the root and a parent-level dir
        root.outside("secret.txt", SECRET)
        root.outside("outdir/secret.txt", SECRET)
        root.outside("www-evil/secret.txt", SECRET)   # sibling sharing the root's prefix
        # symlinks
        root.symlink("link-in.txt", "a.txt")
        root.symlink("link-abs-in.txt", root.abspath("a.txt"))
        root.symlink("link-out.txt", "../secret.txt")
        root.symlink("link-abs-out.txt", os.path.join(root.tmp.path, "secret.txt"))
        root.symlink("linkdir-out", "../outdir")
        root.symlink("linkdir-in", "dir")
        root.symlink("dangling.txt", "does-not-exist")

    # ---------------------------------------------------------------- MIME / bodies

    def test_content_types(self):
        for n, ct in MIME.items():
            r = self.get("/" + n)
            self.assertEqual(r.status, 200, n)
            self.assertEqual(r.header("Content-Type", "").split(";")[0].strip(), ct, n)
            self.assertEqual(r.body, f"content of {n}\n".encode(), n)

    def test_small_medium_bodies(self):
        for n, d in (("small.bin", SMALL), ("medium.bin", MEDIUM)):
            r = self.get("/" + n)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Length"), str(len(d)))
            self.assertTrue(r.body == d, n)

    def test_empty_file(self):
        r = self.get("/empty.txt")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "0")
        self.assertEqual(r.body, b"")

    def test_large_body_raw(self):
        r = self.get("/large.bin")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), str(len(LARGE)))
        self.assertTrue(r.body == LARGE)

    def test_large_body_curl(self):
        p = harness.curl(["-o", "-", self.server.url("/large.bin")])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(hashlib.sha256(p.stdout).hexdigest(), hashlib.sha256(LARGE).hexdigest())

    def test_large_body_urllib(self):
        with urllib.request.urlopen(self.server.url("/large.bin"), timeout=10) as f:
            self.assertEqual(f.status, 200)
            self.assertTrue(f.read() == LARGE)

    def test_large_bodies_go_out_in_turns(self):
        """Several 5 MiB downloads at once (sent 256 KiB per connection per turn) all
        arrive byte-exact, two of them pipelined on one connection, and a small request
        on another connection is answered while they are all still in flight."""
        conns = [self.server.conn(timeout=20) for _ in range(4)]
        try:
            for i, c in enumerate(conns):
                c.send(build_request("/large.bin", close=False) * (2 if i == 0 else 1))
            small = self.server.conn(timeout=5)
            try:
                small.send(build_request("/small.bin"))
                r = small.read_response()
                self.assertEqual((r.status, r.body), (200, SMALL))
            finally:
                small.close()
            for i, c in enumerate(conns):
                for _ in range(2 if i == 0 else 1):
                    r = c.read_response()
                    self.assertEqual(r.status, 200)
                    self.assertTrue(r.body == LARGE, f"connection {i}: {len(r.body)} bytes")
        finally:
            for c in conns:
                c.close()

    def test_large_body_reader_pauses(self):
        """The client stops reading for a while: the server's sendfile hits EAGAIN and
        must resume on the EPOLLOUT edge and finish byte-exact."""
        import time
        c = self.server.conn(timeout=10)
        try:
            c.send(build_request("/large.bin"))
            time.sleep(0.3)
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertTrue(r.body == LARGE)
            # and the connection is still usable afterwards
            c.send(build_request("/a.txt"))
            self.assertEqual(c.read_response().body, b"content of a.txt\n")
        finally:
            c.close()

    def test_file_rewritten_in_place(self):
        """A file changed between two requests: the second response must describe the
        file as it is now (DESIGN: open_file_cache is off by default), and its
        Content-Length must match the bytes sent -- never a stale length with the new
        (shorter) content, which leaves the client hanging."""
        for name, old, new in (("rw-small.txt", b"A" * 3000, b"C" * 100),
                               ("rw-large.txt", b"A" * 20000, b"B" * 30000),
                               ("rw-shrink.txt", b"A" * 20000, b"C" * 100)):
            with self.subTest(file=name):
                self.root.file(name, old)
                r = self.get("/" + name)
                self.assertEqual(r.body, old)
                with open(self.root.abspath(name), "r+b") as f:   # same inode, new content
                    f.truncate(0)
                    f.write(new)
                c = self.server.conn(timeout=3)
                try:
                    c.send(build_request("/" + name, close=True))
                    try:
                        r = c.read_response()
                    except (harness.socket.timeout, harness.ConnectionClosed) as e:
                        self.fail(f"{name}: {len(old)} -> {len(new)} bytes: incomplete response ({e!r})")
                finally:
                    c.close()
                self.assertEqual(r.header("Content-Length"), str(len(new)), name)
                self.assertTrue(r.body == new, f"{name}: got {len(r.body)} bytes {r.body[:20]!r}...")

    def test_file_replaced_by_rename(self):
        self.root.file("rn.txt", b"old content\n")
        self.assertEqual(self.get("/rn.txt").body, b"old content\n")
        self.root.file("rn.tmp", b"new content, longer\n")
        os.rename(self.root.abspath("rn.tmp"), self.root.abspath("rn.txt"))
        r = self.get("/rn.txt")
        self.assertEqual(r.body, b"new content, longer\n")

    # ---------------------------------------------------------------- paths

    def test_percent_decoding(self):
        r = self.get("/with%20space.txt")
        self.assertEqual((r.status, r.body), (200, b"spaced\n"))
        r = self.get("/pct%25.txt")
        self.assertEqual((r.status, r.body), (200, b"percent\n"))
        r = self.get("/%61.txt")   # %61 = 'a'
        self.assertEqual((r.status, r.body), (200, b"content of a.txt\n"))

    def test_dot_segments(self):
        for p in ("/a/../index.html", "/./index.html", "/dir/../index.html",
                  "/dir/./sub/../../index.html", "/dir/%2e%2e/index.html"):
            r = self.get(p)
            self.assertEqual((r.status, r.body), (200, b"<p>root index</p>\n"), p)

    def test_above_root_400(self):
        for p in ("/../x", "/%2e%2e/x", "/a/../../x", "/..", "/dir/../../secret.txt",
                  "/%2E%2E/secret.txt", "/.%2e/secret.txt"):
            r = self.get(p)
            self.assertEqual(r.status, 400, p)
            self.assertNotIn(SECRET, r.body, p)

    def test_nul_and_bad_escapes_400(self):
        for p in ("/a.txt%00", "/a%00.txt", "/%zz", "/a%2", "/a%", "/%g0.txt"):
            r = self.get(p)
            self.assertEqual(r.status, 400, p)

    def test_traversal_never_leaks(self):
        encodings = [
            "/../secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/%2e%2e/secret.txt",
            "/..%5csecret.txt", "/..\\secret.txt", "/%2e%2e%5csecret.txt",
            "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt", "/..%252fsecret.txt",
            "/%c0%ae%c0%ae/secret.txt", "/%c0%ae%c0%ae%c0%afsecret.txt",
            "/%e0%80%ae%e0%80%ae/secret.txt", "/..%c0%afsecret.txt", "/..%ef%bc%8fsecret.txt",
            "/dir/../../secret.txt", "/dir/sub/../../../secret.txt", "/./../secret.txt",
            "//../secret.txt", "/.../secret.txt", "/....//secret.txt",
            "/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt", "/../www-evil/secret.txt",
            "/../../../../../../../../../../etc/passwd",
            "/../outdir/secret.txt", "/linkdir-out/secret.txt", "/link-out.txt",
            "/link-abs-out.txt", "/" + "../" * 200 + "secret.txt",
            "/" + "a/" * 3000 + "../" * 3001 + "secret.txt",
            "/" + "%2e%2e/" * 500 + "secret.txt",
        ]
        ok = (400, 403, 404, 414)
        for p in encodings:
            c = self.server.conn()
            try:
                c.send(build_request(p, close=True))
                data, _ = c.read_all_until_close()
            finally:
                c.close()
            self.assertNotIn(SECRET, data, p)
            self.assertNotIn(b"root:", data, p)
            status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
            self.assertIn(status, ok, f"{p[:80]} -> {data[:200]!r}")
        # absolute-form with traversal too
        r = self.req(b"GET http://localhost/../secret.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertIn(r.status, ok)
        self.assertNotIn(SECRET, r.body)

    def test_traversal_with_curl(self):
        # curl --path-as-is sends the path untouched
        for p in ("/../secret.txt", "/%2e%2e/secret.txt", "/link-out.txt", "/linkdir-out/secret.txt"):
            cp = harness.curl(["--path-as-is", "-o", "-", "-w", "%{http_code}", self.server.url(p)])
            self.assertNotIn(SECRET, cp.stdout, p)
            self.assertIn(cp.stdout[-3:], (b"400", b"403", b"404"), p)

    def test_very_long_path(self):
        c = self.server.conn()
        try:
            c.send(build_request("/" + "a" * 10000, close=True))
            data, closed = c.read_all_until_close()
        finally:
            c.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 414"), data[:100])

    # ---------------------------------------------------------------- symlinks

    def test_symlink_inside_followed(self):
        r = self.get("/link-in.txt")
        self.assertEqual((r.status, r.body), (200, b"content of a.txt\n"))
        # an absolute symlink that stays inside the root is followed too
        r = self.get("/link-abs-in.txt")
        self.assertEqual((r.status, r.body), (200, b"content of a.txt\n"))
        r = self.get("/linkdir-in/sub/file.txt")
        self.assertEqual((r.status, r.body), (200, b"deep\n"))

    def test_symlink_outside_forbidden(self):
        for p in ("/link-out.txt", "/link-abs-out.txt"):
            r = self.get(p)
            self.assertEqual(r.status, 403, p)
            self.assertNotIn(SECRET, r.body)

    def test_symlinked_dir_outside(self):
        r = self.get("/linkdir-out/secret.txt")
        self.assertIn(r.status, (403, 404))
        self.assertNotIn(SECRET, r.body)
        r = self.get("/linkdir-out/")
        self.assertIn(r.status, (403, 404))
        self.assertNotIn(SECRET, r.body)

    def test_dangling_symlink_404(self):
        r = self.get("/dangling.txt")
        self.assertIn(r.status, (403, 404))

    # ---------------------------------------------------------------- directories

    def test_dir_index(self):
        r = self.get("/dir/")
        self.assertEqual((r.status, r.body), (200, b"<p>dir index</p>\n"))
        self.assertEqual(r.header("Content-Type"), "text/html")

    def test_dir_redirect(self):
        r = self.get("/dir")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), f"http://127.0.0.1:{self.server.port}/dir/")
        r = self.get("/dir?x=1&y=2")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), f"http://127.0.0.1:{self.server.port}/dir/?x=1&y=2")
        r = self.get("/dir/sub")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), f"http://127.0.0.1:{self.server.port}/dir/sub/")

    def test_dir_redirect_uses_host(self):
        # nginx-like: the host name from the Host header, the port the server listens on
        r = self.req(build_request("/dir", host="example.test:8080"))
        self.assertEqual(r.status, 301)
        self.assertIn(r.header("Location"), ("http://example.test:8080/dir/",
                                             f"http://example.test:{self.server.port}/dir/"))
        r = self.req(build_request("/dir", host="example.test"))
        self.assertEqual(r.status, 301)
        self.assertRegex(r.header("Location"), r"^http://example\.test(:\d+)?/dir/$")

    def test_dir_redirect_curl_follows(self):
        p = harness.curl(["-L", "-o", "-", self.server.url("/dir")])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, b"<p>dir index</p>\n")

    def test_dir_without_index_403(self):
        r = self.get("/noindex/")
        self.assertEqual(r.status, 403)
        self.assertIn(b"403", r.body)
        self.assertIn(b"Forbidden", r.body)
        self.assertNotIn(b"x.txt", r.body)   # no listing

    def test_missing_404(self):
        for p in ("/missing", "/dir/missing.html", "/missing/", "/a.txt/"):
            r = self.get(p)
            self.assertIn(r.status, (404,) if p != "/a.txt/" else (404, 403), p)
            self.assertEqual(r.header("Content-Type", "").split(";")[0], "text/html", p)
            self.assertIn(str(r.status).encode(), r.body)

    def test_unreadable_403(self):
        if os.geteuid() == 0:
            self.skipTest("running as root: chmod 000 files are readable")
        r = self.get("/locked.txt")
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"locked", r.body)

    def test_error_body_is_small_html(self):
        r = self.get("/missing")
        self.assertEqual(r.header("Content-Type", "").split(";")[0], "text/html")
        self.assertIn(b"404 Not Found", r.body)
        self.assertLess(len(r.body), 1024)
        self.assertEqual(int(r.header("Content-Length")), len(r.body))


if __name__ == "__main__":
    harness.main()
