"""Basic GET/HEAD: status line, the standard headers, methods."""

import email.utils
import http.client
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import IMF_FIXDATE, build_request  # noqa: E402

INDEX = b"<!doctype html><title>riptide</title><p>hello</p>\n"


class Basic(harness.ServerTestCase):

    @classmethod
    def build_root(cls, root):
        root.file("index.html", INDEX)
        root.file("hello.txt", "hello world\n")

    def test_get_standard_headers(self):
        r = self.get("/index.html")
        self.assertEqual(r.version, "HTTP/1.1")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.reason, "OK")
        self.assertEqual(r.body, INDEX)
        self.assertTrue(r.header("Server", "").startswith("riptide"), r)
        self.assertRegex(r.header("Date", ""), IMF_FIXDATE)
        date = email.utils.parsedate_to_datetime(r.header("Date")).timestamp()
        self.assertLess(abs(date - time.time()), 5)
        self.assertEqual(r.header("Content-Type"), "text/html")
        self.assertEqual(r.header("Content-Length"), str(len(INDEX)))
        self.assertRegex(r.header("Last-Modified", ""), IMF_FIXDATE)
        mtime = os.stat(self.root.abspath("index.html")).st_mtime
        lm = email.utils.parsedate_to_datetime(r.header("Last-Modified")).timestamp()
        self.assertEqual(int(lm), int(mtime))
        self.assertRegex(r.header("ETag", ""), r'^"[^"]+"$')
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        # each of these headers exactly once
        for h in ("Server", "Date", "Content-Type", "Content-Length", "ETag", "Last-Modified"):
            self.assertEqual(len(r.header_all(h)), 1, h)

    def test_connection_header(self):
        c = self.server.conn()
        try:
            c.send(build_request("/hello.txt"))
            r = c.read_response()
            self.assertEqual(r.header("Connection", "").lower(), "keep-alive")
            c.send(build_request("/hello.txt", close=True))
            r = c.read_response()
            self.assertEqual(r.header("Connection", "").lower(), "close")
        finally:
            c.close()

    def test_root_serves_index(self):
        r = self.get("/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, INDEX)

    def test_head_same_headers_no_body(self):
        g = self.get("/hello.txt")
        c = self.server.conn()
        try:
            c.send(build_request("/hello.txt", method="HEAD")
                   + build_request("/hello.txt"))
            h = c.read_response(head=True)
            # if HEAD had sent a body, the next response would not parse / would be wrong
            g2 = c.read_response()
        finally:
            c.close()
        self.assertEqual(h.status, 200)
        self.assertEqual(h.body, b"")
        for name in ("Content-Type", "Content-Length", "Last-Modified", "ETag", "Accept-Ranges"):
            self.assertEqual(h.header(name), g.header(name), name)
        self.assertEqual(g2.status, 200)
        self.assertEqual(g2.body, b"hello world\n")

    def test_http10_status_line_is_http11(self):
        r = self.req(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        self.assertEqual(r.version, "HTTP/1.1")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello world\n")

    def test_http_client(self):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        try:
            for _ in range(3):  # keep-alive reuse
                c.request("GET", "/hello.txt")
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.read(), b"hello world\n")
                self.assertEqual(r.version, 11)
        finally:
            c.close()

    def test_curl(self):
        p = harness.curl(["-D", "-", self.server.url("/hello.txt")])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"HTTP/1.1 200 OK\r\n", p.stdout)
        self.assertTrue(p.stdout.endswith(b"\r\n\r\nhello world\n"), p.stdout)

    def test_missing_404(self):
        r = self.get("/nope.html")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("Content-Type", "").split(";")[0], "text/html")
        self.assertIn(b"404", r.body)
        self.assertIn(b"Not Found", r.body)
        self.assertEqual(r.header("Content-Length"), str(len(r.body)))

    def test_disallowed_methods_405_keepalive(self):
        c = self.server.conn()
        try:
            for m in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"):
                body = b"" if m not in ("POST", "PUT", "PATCH") else b"x=1"
                hdrs = {"Content-Length": str(len(body))} if body else {}
                c.send(build_request("/hello.txt", hdrs, method=m, body=body))
                r = c.read_response()
                self.assertEqual(r.status, 405, m)
                self.assertEqual(r.header("Allow"), "GET, HEAD", m)
                self.assertIn(b"405", r.body)
            # connection still usable
            c.send(build_request("/hello.txt"))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"hello world\n")
        finally:
            c.close()

    def test_unknown_method_501(self):
        for m in ("FOO", "get", "BREW"):
            r = self.req(build_request("/hello.txt", method=m))
            self.assertEqual(r.status, 501, m)
            self.assertIn(b"501", r.body)

    def test_absolute_form(self):
        r = self.req(b"GET http://localhost/hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello world\n")

    def test_query_string_ignored_for_files(self):
        r = self.get("/hello.txt?a=1&b=2")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello world\n")


if __name__ == "__main__":
    harness.main()
