"""autoindex, add_header (always, inheritance), expires, server_tokens, keep-alive limits,
client_max_body_size, default_type / types / include mime.types."""

import email.utils
import html
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confharness  # noqa: E402
from confharness import ConfServer, build_request  # noqa: E402

CONF = r"""
http {
    default_type text/plain;
    types { text/html html; }
    add_header X-Http http-level;

    # autoindex
    server {
        listen 127.0.0.1:@PORT@;
        root www;
        location /list/ { autoindex on; }
        location /nolist/ { autoindex off; }
        location /withindex/ { autoindex on; }
    }

    # headers and expires
    server {
        listen 127.0.0.1:@PORT2@;
        root www;
        add_header X-A 1;
        add_header X-B 2 always;
        add_header X-Empty "";
        expires 1h;
        location /inner/ { add_header X-Inner in; }
        location /e/ { expires epoch; }
        location /m/ { expires max; }
        location /neg/ { expires -1h; }
        location /off/ { expires off; }
        location = /redir { return 302 /x; }
        location = /r404 { return 404; }
        location = /r500 { return 500; }
    }

    # server_tokens off, keepalive_timeout 0, no http-level add_header inherited? (it is)
    server {
        listen 127.0.0.1:@PORT3@;
        root www;
        server_tokens off;
        keepalive_timeout 0;
    }

    # keepalive_requests, client_max_body_size
    server {
        listen 127.0.0.1:@PORT4@;
        root www;
        keepalive_requests 3;
        client_max_body_size 10;
        location = /post { return 200 "posted"; }
        location /big/ { client_max_body_size 1k; return 200 "big ok"; }
        location /unlimited/ { client_max_body_size 0; return 200 "unlimited ok"; }
    }

    # types: include mime.types
    server {
        listen 127.0.0.1:@PORT5@;
        root www;
        include mime.types;
        default_type application/octet-stream;
        location /plain/ { types { } default_type text/plain; }
    }

    # the same files as PORT2 (same root) with other settings: charset, no ETag, an
    # add_header value made per request
    server {
        listen 127.0.0.1:@PORT6@;
        root www;
        charset koi8-r;
        etag off;
        add_header X-Six six;
    }
    server {
        listen 127.0.0.1:@PORT7@;
        root www;
        add_header X-Arg $arg_v;
        keepalive_timeout 30s 25s;
    }
}
"""

LISTED = {
    "a<b>&c.txt": b"abc\n",
    "sp ace%.txt": b"space\n",
    "h\u00e9llo.txt": b"utf8\n",
    "big.bin": b"\0" * 12345,
    'q"uote.txt': b"q\n",
}


class AutoindexHeaders(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        files = {"www/index.html": "top index\n",
                 "www/withindex/index.html": "dir index\n",
                 "www/withindex/other.txt": "o\n",
                 "www/nolist/file.txt": "f\n",
                 "www/page.txt": "page\n",
                 "www/inner/page.txt": "inner page\n",
                 "www/e/page.txt": "e\n", "www/m/page.txt": "m\n",
                 "www/neg/page.txt": "n\n", "www/off/page.txt": "o\n",
                 "www/style.css": "body{}\n", "www/script.js": "1;\n",
                 "www/pic.png": "png", "www/noext": "noext\n", "www/x.unknownext": "u\n",
                 "www/plain/style.css": "body{}\n",
                 "www/t5/a.css": "a{}\n", "www/t5/a.PNG": "png", "www/t5/a.js": "1;\n",
                 "www/t5/a.unknownext": "u\n"}
        for name, data in LISTED.items():
            files["www/list/" + name] = data
        cls.srv = ConfServer(CONF, files=files)
        os.makedirs(cls.srv.path("www/list/subdir"), exist_ok=True)
        os.makedirs(cls.srv.path("www/list/.hidden_dir"), exist_ok=True)
        cls.srv.write("www/list/.hidden", "h")
        cls.srv.copy_mime_types()
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    # ---------------------------------------------------------------- autoindex

    def test_autoindex_listing(self):
        r = self.srv.get("/list/")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type", "").startswith("text/html"), r)
        body = r.body.decode("utf-8")
        self.assertIn("Index of /list/", body)
        self.assertIn('<a href="../">../</a>', body)
        # hrefs: percent-encoded, decode back to the names; texts: HTML-escaped
        hrefs = re.findall(r'<a href="([^"]*)">([^<]*)</a>', body)
        by_name = {}
        for href, text in hrefs:
            by_name[html.unescape(text)] = href
        for name in LISTED:
            self.assertIn(name, by_name, body)
            href = by_name[name]
            for bad in ('<', '>', '"', ' ', '&c'):
                self.assertNotIn(bad, href, href)
            self.assertEqual(urllib.parse.unquote(html.unescape(href)), name)
        # the raw name never appears unescaped in the text
        self.assertNotIn("a<b>&c.txt", body)
        self.assertIn("a&lt;b&gt;&amp;c.txt", body)
        # directories have a trailing slash
        self.assertEqual(by_name.get("subdir/"), "subdir/", body)
        # hidden files are not listed (nginx)
        self.assertNotIn(".hidden", body)

    def test_autoindex_sizes_and_dates(self):
        body = self.srv.get("/list/").body.decode("utf-8")
        today = time.strftime("%d-%b-%Y", time.gmtime())
        line = [l for l in body.splitlines() if "big.bin" in l]
        self.assertEqual(len(line), 1, body)
        m = re.search(r"</a>\s+(\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d)\s+(\S+)\s*$", line[0])
        self.assertTrue(m, line[0])
        self.assertEqual(m.group(2), "12345")
        d = m.group(1).split()[0]
        # allow a midnight rollover
        yesterday = time.strftime("%d-%b-%Y", time.gmtime(time.time() - 60))
        self.assertIn(d, (today, yesterday))
        sub = [l for l in body.splitlines() if "subdir/" in l][0]
        self.assertTrue(re.search(r"\s-\s*$", sub), sub)

    def test_autoindex_links_work(self):
        body = self.srv.get("/list/").body.decode("utf-8")
        hrefs = dict((html.unescape(t), h) for h, t in re.findall(r'<a href="([^"]*)">([^<]*)</a>', body))
        for name, data in LISTED.items():
            href = html.unescape(hrefs[name])
            r = self.srv.get("/list/" + href)
            self.assertEqual((r.status, r.body), (200, data), (name, href))

    def test_autoindex_index_file_preferred(self):
        r = self.srv.get("/withindex/")
        self.assertEqual((r.status, r.body), (200, b"dir index\n"))

    def test_autoindex_off_403(self):
        r = self.srv.get("/nolist/")
        self.assertEqual(r.status, 403, r)
        self.assertIn(b"403 Forbidden", r.body)
        self.assertEqual(self.srv.get("/nolist/file.txt").status, 200)

    def test_autoindex_head(self):
        r = self.srv.get("/list/", method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("text/html"))

    # ---------------------------------------------------------------- add_header

    def h(self, path, **kw):
        return self.srv.get(path, port=self.srv.port2, **kw)

    def test_add_header_on_200(self):
        r = self.h("/page.txt")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header_all("X-A"), ["1"])
        self.assertEqual(r.header_all("X-B"), ["2"])
        self.assertIsNone(r.header("X-Empty"))
        # the server's list replaces the http-level one
        self.assertIsNone(r.header("X-Http"))

    def test_header_order_like_nginx(self):
        """nginx writes the entity fields, Connection, then its header list in the order
        the modules add to it: ETag (static handler), Expires/Cache-Control and add_header
        (headers filter), Accept-Ranges (range filter). Clients may not care; diffs do."""
        for extra in ({}, {"If-None-Match": '"nope"'}):
            r = self.h("/page.txt", headers=extra)
            names = [k.lower() for k, _ in r.headers]
            want = ["server", "date", "content-type", "content-length", "last-modified", "connection",
                    "etag", "expires", "cache-control", "x-a", "x-b", "accept-ranges"]
            self.assertEqual([n for n in names if n in want], want, r.headers)
        r1 = self.h("/page.txt")
        r = self.h("/page.txt", headers={"If-None-Match": r1.header("ETag")})
        self.assertEqual(r.status, 304)
        names = [k.lower() for k, _ in r.headers]
        self.assertLess(names.index("etag"), names.index("expires"), r.headers)
        self.assertLess(names.index("etag"), names.index("x-a"), r.headers)

    def test_add_header_not_on_404_unless_always(self):
        r = self.h("/missing.txt")
        self.assertEqual(r.status, 404)
        self.assertIsNone(r.header("X-A"), r)
        self.assertEqual(r.header("X-B"), "2", r)
        r = self.h("/r500")
        self.assertEqual(r.status, 500)
        self.assertIsNone(r.header("X-A"), r)
        self.assertEqual(r.header("X-B"), "2", r)

    def test_add_header_on_redirect_and_304(self):
        r = self.h("/redir")
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header("X-A"), "1")
        r1 = self.h("/page.txt")
        r = self.h("/page.txt", headers={"If-None-Match": r1.header("ETag")})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.header("X-A"), "1")

    def test_add_header_inner_level_replaces(self):
        r = self.h("/inner/page.txt")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Inner"), "in")
        self.assertIsNone(r.header("X-A"), r)
        self.assertIsNone(r.header("X-B"), r)

    def test_add_header_inherited_from_http(self):
        r = self.srv.get("/page.txt")   # first server sets no add_header
        self.assertEqual(r.header("X-Http"), "http-level", r)

    # ---------------------------------------------------------------- expires

    def test_expires_1h(self):
        r = self.h("/page.txt")
        self.assertEqual(r.header("Cache-Control"), "max-age=3600")
        exp = email.utils.parsedate_to_datetime(r.header("Expires")).timestamp()
        date = email.utils.parsedate_to_datetime(r.header("Date")).timestamp()
        self.assertAlmostEqual(exp - date, 3600, delta=2)

    def test_expires_epoch(self):
        r = self.h("/e/page.txt")
        self.assertEqual(r.header("Expires"), "Thu, 01 Jan 1970 00:00:01 GMT")
        self.assertEqual(r.header("Cache-Control"), "no-cache")

    def test_expires_max(self):
        r = self.h("/m/page.txt")
        self.assertEqual(r.header("Expires"), "Thu, 31 Dec 2037 23:55:55 GMT")
        self.assertEqual(r.header("Cache-Control"), "max-age=315360000")

    def test_expires_negative(self):
        r = self.h("/neg/page.txt")
        self.assertEqual(r.header("Cache-Control"), "no-cache")
        exp = email.utils.parsedate_to_datetime(r.header("Expires")).timestamp()
        self.assertLess(exp, time.time() - 3000)

    def test_expires_off(self):
        r = self.h("/off/page.txt")
        self.assertIsNone(r.header("Expires"))
        self.assertIsNone(r.header("Cache-Control"))

    def test_expires_not_on_404(self):
        r = self.h("/missing.txt")
        self.assertIsNone(r.header("Expires"), r)
        self.assertIsNone(r.header("Cache-Control"), r)

    # ---------------------------------------------------------------- server_tokens, keep-alive

    def test_server_tokens_on(self):
        r = self.srv.get("/page.txt")
        self.assertRegex(r.header("Server", ""), r"^riptide/\d+\.\d+\.\d+$")

    def test_server_tokens_on_error_page_shows_version(self):
        r = self.srv.get("/missing")
        self.assertEqual(r.status, 404)
        self.assertRegex(r.body.decode(), r"<center>riptide/\d+\.\d+\.\d+</center>")

    def test_server_tokens_off(self):
        r = self.srv.get("/page.txt", port=self.srv.port3)
        self.assertEqual(r.header("Server"), "riptide")
        r = self.srv.get("/missing", port=self.srv.port3)
        self.assertEqual(r.header("Server"), "riptide")
        self.assertNotRegex(r.body.decode(), r"riptide/\d")

    def test_keepalive_timeout_zero(self):
        c = self.srv.conn(self.srv.port3)
        try:
            c.send(build_request("/page.txt"))   # keep-alive requested
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Connection", "").lower(), "close")
            self.assertTrue(c.is_closed(2.0))
        finally:
            c.close()

    def test_keepalive_requests(self):
        c = self.srv.conn(self.srv.port4)
        try:
            for i in range(3):
                c.send(build_request("/page.txt"))
                r = c.read_response()
                self.assertEqual(r.status, 200)
                want = "close" if i == 2 else "keep-alive"
                self.assertEqual(r.header("Connection", "").lower(), want, i)
            self.assertTrue(c.is_closed(2.0))
        finally:
            c.close()

    def test_keepalive_requests_pipelined(self):
        c = self.srv.conn(self.srv.port4)
        try:
            c.send(build_request("/page.txt") * 5)
            data, closed = c.read_all_until_close(3.0)
            self.assertTrue(closed)
            self.assertEqual(data.count(b"HTTP/1.1 200"), 3, data)
        finally:
            c.close()

    # ---------------------------------------------------------------- client_max_body_size

    def post(self, path, n, chunked=False):
        if chunked:
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (n, b"x" * n)
            hdrs = {"Transfer-Encoding": "chunked"}
        else:
            body = b"x" * n
            hdrs = {"Content-Length": str(n)}
        return self.srv.get(path, port=self.srv.port4, method="POST", headers=hdrs, body=body)

    def test_body_within_limit(self):
        r = self.post("/post", 10)
        self.assertEqual((r.status, r.body), (200, b"posted"), r)

    def test_body_too_large(self):
        r = self.post("/post", 100)
        self.assertEqual(r.status, 413, r)
        self.assertIn(b"413", r.body)
        r = self.post("/post", 11)
        self.assertEqual(r.status, 413, r)

    def test_body_limit_per_location(self):
        self.assertEqual(self.post("/big/x", 1000).status, 200)
        self.assertEqual(self.post("/big/x", 1025).status, 413)
        self.assertEqual(self.post("/unlimited/x", 100000).status, 200)

    # ---------------------------------------------------------------- types

    def test_default_type_without_types(self):
        r = self.srv.get("/x.unknownext")
        self.assertEqual(r.header("Content-Type"), "text/plain")
        r = self.srv.get("/noext")
        self.assertEqual(r.header("Content-Type"), "text/plain")
        # types { text/html html; } only: .css is unknown here
        r = self.srv.get("/style.css")
        self.assertEqual(r.header("Content-Type"), "text/plain")

    def test_mime_types_include(self):
        p = self.srv.port5
        # files requested through this server only
        self.assertEqual(self.srv.get("/t5/a.css", port=p).header("Content-Type"), "text/css")
        self.assertEqual(self.srv.get("/t5/a.PNG", port=p).header("Content-Type"), "image/png")
        self.assertIn(self.srv.get("/t5/a.js", port=p).header("Content-Type"),
                      ("application/javascript", "text/javascript"))
        self.assertEqual(self.srv.get("/t5/a.unknownext", port=p).header("Content-Type"),
                         "application/octet-stream")

    def test_type_depends_on_location_not_on_cache(self):
        # the same file through two servers with different type tables: each gets its
        # own type, whichever asked first (a per-file cache must not leak the type)
        for _ in range(2):
            self.assertEqual(self.srv.get("/style.css").header("Content-Type"), "text/plain")
            self.assertEqual(self.srv.get("/style.css", port=self.srv.port5).header("Content-Type"),
                             "text/css")
            self.assertEqual(self.srv.get("/plain/style.css", port=self.srv.port5).header("Content-Type"),
                             "text/plain")

    # ------------------------------------------------- one file, many settings

    def test_same_file_under_other_settings_keeps_each_ones_headers(self):
        """A file's head is made once per location's settings and reused: asking for the
        same file through servers with other settings, in turn, keep-alive and close,
        must give each its own fields, every time."""
        def check(port, path, keep_alive, want, absent):
            c = self.srv.conn(port)
            try:
                for _ in range(2):
                    c.send(build_request(path, None, "GET", host=f"127.0.0.1:{port}", close=not keep_alive))
                    r = c.read_response()
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.body, b"page\n")
                    for k, v in want.items():
                        self.assertEqual(r.header(k), v, (port, path, keep_alive, r.headers))
                    for k in absent:
                        self.assertIsNone(r.header(k), (port, path, keep_alive, r.headers))
                    if not keep_alive:
                        break
            finally:
                c.close()
        for _ in range(2):
            for ka in (True, False):
                conn = "keep-alive" if ka else "close"
                check(self.srv.port2, "/page.txt", ka,
                      {"Content-Type": "text/plain", "X-A": "1", "Cache-Control": "max-age=3600",
                       "Connection": conn, "Accept-Ranges": "bytes"},
                      ["X-Six", "X-Arg", "Keep-Alive"])
                self.assertIsNotNone(self.h("/page.txt").header("ETag"))
                check(self.srv.port6, "/page.txt", ka,
                      {"Content-Type": "text/plain; charset=koi8-r", "X-Six": "six", "Connection": conn},
                      ["ETag", "X-A", "Expires", "Keep-Alive"])
                check(self.srv.port7, "/page.txt?v=first", ka,
                      {"Content-Type": "text/plain", "X-Arg": "first", "Connection": conn,
                       **({"Keep-Alive": "timeout=25"} if ka else {})},
                      ["X-Six", "X-A"])
                check(self.srv.port7, "/page.txt?v=second", ka, {"X-Arg": "second"}, ["X-Six"])
                check(self.srv.port7, "/page.txt", ka, {"Content-Length": "5"}, ["X-Arg"])

    def test_relative_expires_follows_the_clock(self):
        """expires 1h is counted from each answer's Date, not from the first answer."""
        seen = set()
        for _ in range(2):
            r = self.h("/page.txt")
            exp = email.utils.parsedate_to_datetime(r.header("Expires")).timestamp()
            date = email.utils.parsedate_to_datetime(r.header("Date")).timestamp()
            self.assertEqual(exp - date, 3600, r.headers)
            seen.add(exp)
            time.sleep(1.2)
        self.assertEqual(len(seen), 2)

    def test_empty_types_clears(self):
        r = self.srv.get("/plain/style.css", port=self.srv.port5)
        self.assertEqual(r.header("Content-Type"), "text/plain")


if __name__ == "__main__":
    confharness.main()
