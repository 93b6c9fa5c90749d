"""return, try_files, error_page."""

import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confharness  # noqa: E402
from confharness import ConfServer, build_request  # noqa: E402

CONF = r"""
http {
    default_type text/plain;
    types { text/html html; text/css css; }
    server {
        listen 127.0.0.1:@PORT@;
        server_name ret.test;
        root www;

        location = /r301 { return 301 https://example.com$request_uri; }
        location = /r302 { return 302 /x; }
        location = /r307 { return 307 http://other.example/y; }
        location = /rurl { return http://example.org/bare; }
        location = /text { return 200 "text body"; }
        location = /text-var { return 200 "uri=$uri host=$host"; }
        location = /r404 { return 404; }
        location = /r403 { return 403; }
        location = /r500 { return 500; }
        location = /r500text { return 500 "custom failure"; }
        location = /r444 { return 444; }
        location = /r204 { return 204; }
        location /typed/ { default_type application/json; return 200 '{"a":1}'; }
        location /ext/ { return 200 "by extension"; }
        location /ka0/ { keepalive_timeout 0; return 200 "no keep-alive here"; }
        location /small/ { client_max_body_size 10; return 200 "small"; }
    }

    server {
        listen 127.0.0.1:@PORT2@;
        root spa;

        location / { try_files $uri $uri/ /index.html; }
        location /strict/ { try_files $uri =404; }
        location /teapot/ { try_files $uri =418; }
        location /named/ { try_files $uri @fallback; }
        location @fallback { add_header X-From fallback always; return 200 "fallback"; }
        location /chain/ { try_files /nope1 /nope2 /strict/real.txt; }
    }

    server {
        listen 127.0.0.1:@PORT3@;
        root errs;

        error_page 404 /custom404.html;
        error_page 500 502 503 504 /50x.html;

        location = /custom404.html { internal_marker_placeholder; }
        location /boom { return 503; }
        location = /e500 { return 500; }
        location /ok/ { error_page 404 =200 /ok.html; }
        location /missing-page/ { error_page 404 /does-not-exist.html; }
        location /named-err/ { error_page 404 @err; }
        location @err { return 200 "named error handler"; }
        location /redir-err/ { error_page 404 http://example.com/notfound; }
        location /eq/ { error_page 404 = /eqtarget; }
        location = /eqtarget { return 202 "eq target"; }
        location /forbidden/ { return 403; }
        location /norange/ { max_ranges 0; }
    }
}
""".replace("internal_marker_placeholder;", "")


class Return(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = ConfServer(CONF, files={
            "spa/index.html": "<html>spa index</html>\n",
            "spa/app.js": "console.log(1);\n",
            "spa/sub/index.html": "sub index\n",
            "spa/strict/real.txt": "real\n",
            "spa/teapot/real.txt": "teapot real\n",
            "spa/named/real.txt": "named real\n",
            "errs/custom404.html": "<h1>custom 404</h1>\n",
            "errs/50x.html": "<h1>50x page</h1>\n",
            "errs/ok.html": "ok page\n",
            "errs/exists.txt": "exists\n",
            "errs/norange/f.txt": "no ranges here\n",
        })
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    # ---------------------------------------------------------------- return

    def test_return_301_with_request_uri(self):
        r = self.srv.get("/r301?a=1&b=2", host="ret.test")
        self.assertEqual(r.status, 301, r)
        self.assertEqual(r.header("Location"), "https://example.com/r301?a=1&b=2")
        self.assertIn(b"301", r.body)

    def test_return_302_relative_made_absolute(self):
        r = self.srv.get("/r302", host="ret.test")
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.header("Location"), f"http://ret.test:{self.srv.port}/x")

    def test_return_307(self):
        r = self.srv.get("/r307", host="ret.test")
        self.assertEqual(r.status, 307, r)
        self.assertEqual(r.header("Location"), "http://other.example/y")

    def test_return_bare_url_is_302(self):
        r = self.srv.get("/rurl", host="ret.test")
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.header("Location"), "http://example.org/bare")

    def test_return_200_text(self):
        r = self.srv.get("/text", host="ret.test")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"text body")
        self.assertEqual(r.header("Content-Type"), "text/plain")
        self.assertEqual(r.header("Content-Length"), "9")

    def test_return_text_variables(self):
        r = self.srv.get("/text-var", host="Ret.Test")
        self.assertEqual(r.body, b"uri=/text-var host=ret.test")

    def test_return_text_default_type_from_location(self):
        r = self.srv.get("/typed/x", host="ret.test")
        self.assertEqual(r.body, b'{"a":1}')
        self.assertEqual(r.header("Content-Type"), "application/json")

    def test_return_head_has_no_body(self):
        r = self.srv.get("/text", host="ret.test", method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "9")

    def test_return_404_page(self):
        r = self.srv.get("/r404", host="ret.test")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.header("Content-Type"), "text/html")
        self.assertIn(b"<title>404 Not Found</title>", r.body)
        r = self.srv.get("/r403", host="ret.test")
        self.assertEqual(r.status, 403, r)
        self.assertIn(b"403 Forbidden", r.body)
        r = self.srv.get("/r500", host="ret.test")
        self.assertEqual(r.status, 500, r)
        self.assertIn(b"500 Internal Server Error", r.body)

    def test_return_204(self):
        r = self.srv.get("/r204", host="ret.test")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        # no content: neither a type nor a length (RFC 9110 § 8.6; nginx alike)
        self.assertIsNone(r.header("Content-Length"), r.headers)
        self.assertIsNone(r.header("Content-Type"), r.headers)

    def test_return_text_type_from_the_uri_extension(self):
        # nginx types a return's text by the URI's extension, default_type otherwise
        self.assertEqual(self.srv.get("/ext/page.html", host="ret.test").header("Content-Type"), "text/html")
        self.assertEqual(self.srv.get("/ext/page", host="ret.test").header("Content-Type"), "text/plain")
        self.assertEqual(self.srv.get("/ext/a.b/page", host="ret.test").header("Content-Type"), "text/plain")

    def test_server_errors_close_the_connection(self):
        # a return with a text of its own keeps the connection, as in nginx
        data, closed = self.srv.raw(build_request("/r500text", host="ret.test", close=False)
                                    + build_request("/text", host="ret.test", close=False), timeout=1.0)
        self.assertTrue(data.startswith(b"HTTP/1.1 500 "), data[:40])
        self.assertIn(b"text body", data)
        # error_page serving a 500 still closes (nginx drops keep-alive before it looks)
        c = self.srv.conn(self.srv.port3)
        try:
            c.send(build_request("/e500", host="x", close=False))
            r = c.read_response()
        finally:
            c.close()
        self.assertEqual((r.status, r.header("Connection")), (500, "close"), r)
        self.assertIn(b"50x page", r.body)
        for path in ("/r500",):
            data, closed = self.srv.raw(build_request(path, host="ret.test", close=False)
                                        + build_request("/text", host="ret.test", close=False))
            self.assertTrue(data.startswith(b"HTTP/1.1 500 "), data[:40])
            self.assertIn(b"Connection: close\r\n", data)
            self.assertTrue(closed)
            self.assertNotIn(b"text body", data)

    def test_location_keepalive_timeout_zero_closes(self):
        """keepalive_timeout 0 in the location: the answer says close, and nothing after it
        on that connection is answered (it used to say keep-alive and then close)."""
        data, closed = self.srv.raw(build_request("/ka0/x", host="ret.test", close=False)
                                    + build_request("/text", host="ret.test", close=False))
        self.assertIn(b"Connection: close\r\n", data)
        self.assertTrue(closed)
        self.assertEqual(data.count(b"HTTP/1.1 "), 1, data)

    def test_expect_continue_not_sent_before_413(self):
        head = (b"POST /small/x HTTP/1.1\r\nHost: ret.test\r\nContent-Length: 11\r\n"
                b"Expect: 100-continue\r\n\r\n")
        data, closed = self.srv.raw(head)
        self.assertTrue(data.startswith(b"HTTP/1.1 413 "), data[:60])
        self.assertNotIn(b"100 Continue", data)
        data, _ = self.srv.raw(head.replace(b"Length: 11", b"Length: 5"), timeout=1.0)
        self.assertTrue(data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), data[:60])

    def test_broken_chunked_body_is_400_before_the_answer(self):
        for body in (b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcX0\r\n\r\n"):
            data, closed = self.srv.raw(b"POST /text HTTP/1.1\r\nHost: ret.test\r\n"
                                        b"Transfer-Encoding: chunked\r\n\r\n" + body)
            self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data[:60])
            self.assertTrue(closed)
        # a good chunked body of any size is discarded and the connection kept (nginx)
        big = b"".join(b"%x\r\n%s\r\n" % (4000, b"x" * 4000) for _ in range(30)) + b"0\r\n\r\n"
        c = self.srv.conn()
        try:
            c.send(b"POST /small/x HTTP/1.1\r\nHost: ret.test\r\nTransfer-Encoding: chunked\r\n\r\n" + big
                   + build_request("/text", host="ret.test", close=False))
            r1 = c.read_response()
            r2 = c.read_response()
        finally:
            c.close()
        self.assertEqual((r1.status, r1.body, r1.header("Connection")), (200, b"small", "keep-alive"))
        self.assertEqual((r2.status, r2.body), (200, b"text body"))

    def test_return_444_closes_without_response(self):
        data, closed = self.srv.raw(build_request("/r444", host="ret.test"))
        self.assertTrue(closed, "connection not closed")
        self.assertEqual(data, b"")
        # also on a keep-alive connection after a good response
        c = self.srv.conn()
        try:
            c.send(build_request("/text", host="ret.test"))
            self.assertEqual(c.read_response().status, 200)
            c.send(build_request("/r444", host="ret.test"))
            data, closed = c.read_all_until_close(3)
            self.assertEqual((data, closed), (b"", True))
        finally:
            c.close()

    # ---------------------------------------------------------------- try_files

    def spa(self, path, **kw):
        return self.srv.get(path, port=self.srv.port2, **kw)

    def test_try_files_existing_file(self):
        r = self.spa("/app.js")
        self.assertEqual((r.status, r.body), (200, b"console.log(1);\n"), r)

    def test_try_files_spa_fallback(self):
        for p in ("/some/client/route", "/nope", "/deep/er/path?x=1"):
            r = self.spa(p)
            self.assertEqual((r.status, r.body), (200, b"<html>spa index</html>\n"), (p, r))
            self.assertEqual(r.header("Content-Type"), "text/html")

    def test_try_files_directory(self):
        # $uri/ matches the directory -> its index
        r = self.spa("/sub/")
        self.assertEqual((r.status, r.body), (200, b"sub index\n"), r)

    def test_post_looks_for_the_file_first(self):
        # nginx: POST to a missing file is 404 (here through error_page), to a file 405
        r = self.srv.get("/missing.txt", port=self.srv.port3, method="POST", body=b"x=1")
        self.assertEqual(r.status, 404, r)
        self.assertIn(b"custom 404", r.body)
        r = self.srv.get("/exists.txt", port=self.srv.port3, method="POST", body=b"x=1")
        self.assertEqual(r.status, 405, r)
        r = self.srv.get("/exists.txt", port=self.srv.port3, method="PUT", body=b"x=1")
        self.assertEqual(r.status, 405, r)

    def test_error_page_file_fields(self):
        # nginx sends Last-Modified only with 200/206/304, and Accept-Ranges with a 200
        r = self.srv.get("/nothing", port=self.srv.port3)
        self.assertEqual(r.status, 404, r)
        self.assertIsNone(r.header("Last-Modified"), r.headers)
        self.assertIsNotNone(r.header("ETag"), r.headers)
        self.assertIsNone(r.header("Accept-Ranges"), r.headers)
        r = self.srv.get("/ok/missing", port=self.srv.port3)
        self.assertEqual((r.status, r.body), (200, b"ok page\n"), r)
        self.assertIsNotNone(r.header("Last-Modified"), r.headers)
        self.assertEqual(r.header("Accept-Ranges"), "bytes", r.headers)

    def test_max_ranges_zero_offers_no_ranges(self):
        r = self.srv.get("/norange/f.txt", port=self.srv.port3, headers={"Range": "bytes=0-1"})
        self.assertEqual((r.status, r.body), (200, b"no ranges here\n"), r)
        self.assertIsNone(r.header("Accept-Ranges"), r.headers)
        self.assertEqual(self.srv.get("/exists.txt", port=self.srv.port3).header("Accept-Ranges"), "bytes")

    def test_redirect_page_titles_like_nginx(self):
        r = self.srv.get("/r302", host="ret.test")
        self.assertIn(b"<title>302 Found</title>", r.body)
        self.assertIn(b"<title>301 Moved Permanently</title>", self.srv.get("/r301", host="ret.test").body)

    def test_host_with_dot_dot_is_400(self):
        for host in ("..", "a..b", "ret.test.."):
            data, closed = self.srv.raw(b"GET /text HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
            self.assertTrue(data.startswith(b"HTTP/1.1 400 "), (host, data[:40]))
        r = self.srv.get("/text", host="ret.test.")
        self.assertEqual(r.status, 200, r)

    def test_try_files_directory_without_slash_redirects(self):
        # $uri/ tests the directory, the URI stays /sub, which is redirected to /sub/
        # like any directory named without its slash (nginx)
        r = self.spa("/sub?q=1")
        self.assertEqual(r.status, 301, r)
        self.assertEqual(r.header("Location"), f"http://127.0.0.1:{self.srv.port2}/sub/?q=1")

    def test_try_files_eq_404(self):
        r = self.spa("/strict/real.txt")
        self.assertEqual((r.status, r.body), (200, b"real\n"), r)
        r = self.spa("/strict/missing.txt")
        self.assertEqual(r.status, 404, r)
        self.assertIn(b"404 Not Found", r.body)

    def test_try_files_eq_other_code(self):
        r = self.spa("/teapot/missing")
        self.assertEqual(r.status, 418, r)
        r = self.spa("/teapot/real.txt")
        self.assertEqual(r.status, 200, r)

    def test_try_files_named_fallback(self):
        r = self.spa("/named/real.txt")
        self.assertEqual((r.status, r.body), (200, b"named real\n"), r)
        r = self.spa("/named/missing")
        self.assertEqual((r.status, r.body), (200, b"fallback"), r)
        self.assertEqual(r.header("X-From"), "fallback")

    def test_named_location_not_reachable_directly(self):
        r = self.spa("/@fallback")
        # goes through location / and try_files -> SPA index, never the named one
        self.assertNotEqual(r.body, b"fallback")

    def test_try_files_last_uri_internal_redirect(self):
        r = self.spa("/chain/anything")
        self.assertEqual((r.status, r.body), (200, b"real\n"), r)

    # ---------------------------------------------------------------- error_page

    def err(self, path, **kw):
        return self.srv.get(path, port=self.srv.port3, **kw)

    def test_error_page_custom_404(self):
        r = self.err("/missing.txt")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.body, b"<h1>custom 404</h1>\n")
        self.assertEqual(r.header("Content-Type"), "text/html")

    def test_error_page_existing_file_unaffected(self):
        r = self.err("/exists.txt")
        self.assertEqual((r.status, r.body), (200, b"exists\n"))

    def test_error_page_for_return_code(self):
        r = self.err("/boom")
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.body, b"<h1>50x page</h1>\n")

    def test_error_page_not_for_other_codes(self):
        r = self.err("/forbidden/x")
        self.assertEqual(r.status, 403, r)
        self.assertIn(b"403 Forbidden", r.body)

    def test_error_page_changes_code(self):
        r = self.err("/ok/missing")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"ok page\n")

    def test_error_page_to_missing_page_gives_default_404(self):
        r = self.err("/missing-page/x")
        self.assertEqual(r.status, 404, r)
        self.assertIn(b"<title>404 Not Found</title>", r.body)

    def test_error_page_named_location(self):
        r = self.err("/named-err/x")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.body, b"named error handler")

    def test_error_page_redirect_url(self):
        r = self.err("/redir-err/x")
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.header("Location"), "http://example.com/notfound")

    def test_error_page_bare_equals_uses_target_code(self):
        r = self.err("/eq/x")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.body, b"eq target")

    def test_error_page_head(self):
        r = self.err("/missing.txt", method="HEAD")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.header("Content-Length"), str(len(b"<h1>custom 404</h1>\n")))


if __name__ == "__main__":
    confharness.main()
