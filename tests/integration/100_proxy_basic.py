"""Reverse proxy basics: methods, URI rewriting, request/response headers (Host, X-Forwarded-For,
proxy_set_header, hop-by-hop), bodies in every framing, status codes, client keep-alive and
pipelining, $upstream_* access log variables."""

import os
import re
import socket
import subprocess
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backends  # noqa: E402
import harness  # noqa: E402
from backends import HTTPBackend, ProxyServer, fill  # noqa: E402
from harness import Conn, build_request, pattern_bytes  # noqa: E402

CONF = r"""
events {}
http {
    access_log off;
    upstream app {
        server 127.0.0.1:@B1@;
    }
    server {
        listen 127.0.0.1:@PORT@;
        client_max_body_size 10m;

        location /api/ {
            proxy_pass http://app;
        }
        location /pre/ {
            proxy_pass http://127.0.0.1:@B1@/prefix/;
        }
        location /direct/ {
            proxy_pass http://127.0.0.1:@B1@;
        }
        location /hosted/ {
            proxy_pass http://app;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header Accept-Encoding "";
        }
        location / {
            proxy_pass http://app;
        }
    }
}
"""

HOP_REQUEST_HEADERS = ("X-Hop", "Keep-Alive", "TE", "Trailer", "Proxy-Connection", "Upgrade")


class ProxyBasic(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.b = HTTPBackend("alpha")
        try:
            cls.srv = ProxyServer(fill(CONF, B1=cls.b.port))
            cls.srv.start()
        except BaseException:
            cls.b.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            cls.b.stop()

    # -- helpers

    def request(self, method, target, headers=None, body=b"", host=None):
        return backends.http_request(self.srv.port, method, target, headers, body, host=host)

    def seen(self, target):
        """What the backend received for `target` (fails if it received nothing)."""
        rec = harness.wait_for(lambda: self.b.find(target), timeout=2)
        self.assertIsNotNone(rec, f"backend never received {target!r}; it saw {self.b.requests[-5:]}\n"
                                  f"riptide log:\n{self.srv.logs()}")
        return rec

    def assertOwnServerDate(self, r):
        servers = r.header_all("Server")
        self.assertEqual(len(servers), 1, r)
        self.assertNotIn("BackendHTTP", servers[0], "the upstream's Server header reached the client")
        dates = r.header_all("Date")
        self.assertEqual(len(dates), 1, r)
        self.assertRegex(dates[0], harness.IMF_FIXDATE)

    # -- methods and framing

    def test_get_passthrough(self):
        r = self.request("GET", "/api/item?x=1&y=2")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"alpha")
        self.assertEqual(r.header("X-Backend"), "alpha")
        self.assertEqual(r.header("X-Target"), "/api/item?x=1&y=2")
        self.assertEqual(r.header("Content-Type"), "text/plain")
        self.assertOwnServerDate(r)
        rec = self.seen("/api/item?x=1&y=2")
        self.assertEqual(rec.method, "GET")

    def test_head(self):
        c = self.srv.conn()
        try:
            c.send(build_request("/api/head-me", method="HEAD", host=f"127.0.0.1:{self.srv.port}"))
            r = c.read_response(head=True)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("X-Backend"), "alpha")
            if r.header("Content-Length") is not None:
                self.assertEqual(r.header("Content-Length"), "5", r)
            # no body bytes may follow: the next response on the connection parses cleanly
            c.send(build_request("/api/after-head", host=f"127.0.0.1:{self.srv.port}"))
            r2 = c.read_response()
            self.assertEqual(r2.status, 200, r2)
            self.assertEqual(r2.body, b"alpha")
            self.assertEqual(r2.header("X-Target"), "/api/after-head")
        finally:
            c.close()
        self.assertEqual(self.seen("/api/head-me").method, "HEAD")

    def test_post_content_length(self):
        body = pattern_bytes(100_000, seed=7)
        r = self.request("POST", "/echo/cl", {"Content-Type": "application/x-test"}, body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, body)
        rec = self.seen("/echo/cl")
        self.assertEqual(rec.method, "POST")
        self.assertEqual(rec.body, body)
        self.assertEqual(rec.header("Content-Type"), "application/x-test")

    def test_post_empty_body(self):
        r = self.request("POST", "/echo/empty", {"Content-Length": "0"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(self.seen("/echo/empty").body, b"")

    def test_post_chunked_request(self):
        body = pattern_bytes(50_000, seed=9)
        pieces = [body[:1], body[1:1000], body[1000:1001], body[1001:40000], body[40000:]]
        raw = (f"POST /echo/chunked HTTP/1.1\r\nHost: 127.0.0.1:{self.srv.port}\r\n"
               "Transfer-Encoding: chunked\r\nContent-Type: application/x-test\r\nConnection: close\r\n\r\n").encode()
        for p in pieces:
            raw += b"%x\r\n" % len(p) + p + b"\r\n"
        raw += b"0\r\n\r\n"
        c = self.srv.conn()
        try:
            c.send(raw)
            r = c.read_response()
        finally:
            c.close()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, body)
        rec = self.seen("/echo/chunked")
        self.assertEqual(rec.body, body)
        # either re-framed with a length or passed on chunked, never both
        self.assertFalse(rec.chunked and rec.has("Content-Length"), rec)

    def test_put_and_delete(self):
        r = self.request("PUT", "/echo/put", body=b"put-body")
        self.assertEqual((r.status, r.body), (200, b"put-body"), r)
        self.assertEqual(self.seen("/echo/put").method, "PUT")
        r = self.request("DELETE", "/api/del")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.seen("/api/del").method, "DELETE")

    def test_response_content_length(self):
        for n in (0, 1, 300_000):
            r = self.request("GET", f"/data/cl/{n}")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.body), n)
            self.assertEqual(r.body, pattern_bytes(n, seed=n))

    def test_response_chunked(self):
        for n in (1, 300_000):
            r = self.request("GET", f"/data/chunked/{n}")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.body), n)
            self.assertEqual(r.body, pattern_bytes(n, seed=n))
            self.assertIsNone(r.header("Trailer"))

    def test_response_chunked_keepalive(self):
        # a chunked upstream response must be framed so the client connection stays usable
        c = self.srv.conn()
        try:
            for n in (300_000, 5):
                c.send(build_request(f"/data/chunked/{n}", host=f"127.0.0.1:{self.srv.port}"))
                r = c.read_response()
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, pattern_bytes(n, seed=n))
        finally:
            c.close()

    def test_response_close_delimited(self):
        n = 300_000
        r = self.request("GET", f"/data/close/{n}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.body), n)
        self.assertEqual(r.body, pattern_bytes(n, seed=n))

    def test_response_close_delimited_keepalive(self):
        # riptide knows the end when the upstream closes: it may re-frame (chunked) and keep
        # the client connection, or close it; either way the body is exact and complete
        n = 100_000
        c = self.srv.conn()
        try:
            c.send(build_request(f"/data/close/{n}", host=f"127.0.0.1:{self.srv.port}"))
            r = c.read_response()
            self.assertEqual(r.body, pattern_bytes(n, seed=n))
            if r.header("Content-Length") or "chunked" in (r.header("Transfer-Encoding") or ""):
                c.send(build_request("/api/after-close-delimited", host=f"127.0.0.1:{self.srv.port}"))
                r2 = c.read_response()
                self.assertEqual(r2.body, b"alpha")
        finally:
            c.close()

    def test_status_codes_pass_through(self):
        c = self.srv.conn()
        try:
            for code in (200, 201, 204, 301, 404, 500, 302, 403, 503):
                c.send(build_request(f"/status/{code}", host=f"127.0.0.1:{self.srv.port}"))
                r = c.read_response()
                self.assertEqual(r.status, code, r)
                self.assertEqual(r.header("X-Backend"), "alpha", r)
                if code == 204:
                    self.assertEqual(r.body, b"")
                    self.assertIsNone(r.header("Transfer-Encoding"))
                else:
                    self.assertEqual(r.body, f"status {code} body\n".encode(), r)
                if code in (301, 302):
                    self.assertEqual(r.header("Location"), "http://elsewhere.example/moved/target?x=1")
        finally:
            c.close()

    # -- URI and Host

    def test_uri_unchanged_with_upstream_group(self):
        r = self.request("GET", "/api/a/b.txt?c=d&e=%20f")
        self.assertEqual(r.status, 200, r)
        rec = self.seen("/api/a/b.txt?c=d&e=%20f")
        self.assertEqual(rec.method, "GET")
        self.assertIn(rec.version, ("HTTP/1.0", "HTTP/1.1"))
        self.assertEqual(rec.header("Host"), "app")

    def test_uri_prefix_replaced(self):
        r = self.request("GET", "/pre/x/y.html?q=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("X-Target"), "/prefix/x/y.html?q=1")
        rec = self.seen("/prefix/x/y.html?q=1")
        self.assertEqual(rec.header("Host"), f"127.0.0.1:{self.b.port}")
        r = self.request("GET", "/pre/")
        self.assertEqual(r.header("X-Target"), "/prefix/", r)

    def test_uri_unchanged_without_uri_part(self):
        r = self.request("GET", "/direct/z?k=v")
        self.assertEqual(r.status, 200, r)
        rec = self.seen("/direct/z?k=v")
        self.assertEqual(rec.header("Host"), f"127.0.0.1:{self.b.port}")

    def test_host_from_client_with_proxy_set_header(self):
        r = self.request("GET", "/hosted/host", host="client.example")
        self.assertEqual(r.status, 200, r)
        rec = self.seen("/hosted/host")
        self.assertEqual(rec.header_all("Host"), ["client.example"])

    def test_default_host_is_proxy_host(self):
        self.request("GET", "/api/default-host", host="client.example")
        self.assertEqual(self.seen("/api/default-host").header_all("Host"), ["app"])

    def test_x_forwarded_for_and_real_ip(self):
        self.request("GET", "/hosted/xff1")
        rec = self.seen("/hosted/xff1")
        self.assertEqual(rec.header("X-Forwarded-For"), "127.0.0.1")
        self.assertEqual(rec.header("X-Real-IP"), "127.0.0.1")
        self.request("GET", "/hosted/xff2", {"X-Forwarded-For": "10.1.2.3"})
        rec = self.seen("/hosted/xff2")
        self.assertEqual(rec.header_all("X-Forwarded-For"), ["10.1.2.3, 127.0.0.1"])

    def test_header_set_to_empty_is_not_sent(self):
        self.request("GET", "/hosted/no-ae", {"Accept-Encoding": "gzip, deflate", "X-Custom": "kept"})
        rec = self.seen("/hosted/no-ae")
        self.assertFalse(rec.has("Accept-Encoding"), rec)
        self.assertEqual(rec.header("X-Custom"), "kept")

    def test_client_headers_forwarded(self):
        hdrs = {"X-Custom": "1", "Cookie": "a=b; c=d", "User-Agent": "proxytest/1.0",
                "Accept": "text/x-test", "Accept-Language": "fr", "Authorization": "Bearer t0k3n"}
        self.request("GET", "/api/fwd", hdrs)
        rec = self.seen("/api/fwd")
        for k, v in hdrs.items():
            self.assertEqual(rec.header_all(k), [v], f"{k}: {rec}")

    def test_request_hop_by_hop_not_forwarded(self):
        hdrs = {"Connection": "keep-alive, X-Hop", "X-Hop": "1", "Keep-Alive": "timeout=300",
                "TE": "trailers", "Trailer": "X-Trailer-Thing", "Proxy-Connection": "keep-alive",
                "Upgrade": "h2c", "X-Custom": "end-to-end"}
        raw = build_request("/api/hop-req", hdrs, host=f"127.0.0.1:{self.srv.port}")
        c = self.srv.conn()
        try:
            c.send(raw)
            r = c.read_response()
        finally:
            c.close()
        self.assertEqual(r.status, 200, r)
        rec = self.seen("/api/hop-req")
        for h in HOP_REQUEST_HEADERS:
            self.assertFalse(rec.has(h), f"{h} reached the backend: {rec}")
        for v in rec.header_all("Connection"):
            self.assertNotIn("x-hop", v.lower(), rec)
        self.assertEqual(rec.header("X-Custom"), "end-to-end")

    def test_response_hop_by_hop_removed(self):
        r = self.request("GET", "/hop")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"hop body\n")
        self.assertEqual(r.header("X-End-To-End"), "kept")
        for h in ("X-Resp-Hop", "Proxy-Connection", "Trailer", "Upgrade"):
            self.assertIsNone(r.header(h), f"{h} reached the client: {r}")
        self.assertNotEqual(r.header("Keep-Alive"), "timeout=55, max=77", r)
        for v in r.header_all("Connection"):
            self.assertNotIn("x-resp-hop", v.lower(), r)
        self.assertOwnServerDate(r)

    def test_multiple_set_cookie(self):
        r = self.request("GET", "/cookies")
        self.assertEqual(r.header_all("Set-Cookie"), ["a=1; Path=/", "b=2; HttpOnly"], r)

    # -- client keep-alive

    def test_client_keepalive_sequential(self):
        c = self.srv.conn()
        try:
            for i in range(10):
                if i % 3 == 2:
                    body = f"body-{i}".encode() * (i + 1)
                    c.send(build_request(f"/echo/ka{i}", {"Content-Length": str(len(body))},
                                         method="POST", host=f"127.0.0.1:{self.srv.port}", body=body))
                    r = c.read_response()
                    self.assertEqual(r.body, body, r)
                else:
                    c.send(build_request(f"/api/ka{i}", host=f"127.0.0.1:{self.srv.port}"))
                    r = c.read_response()
                    self.assertEqual(r.header("X-Target"), f"/api/ka{i}", r)
                self.assertEqual(r.status, 200, r)
                self.assertNotEqual((r.header("Connection") or "").lower(), "close", r)
        finally:
            c.close()

    def test_client_pipelining_in_order(self):
        host = f"127.0.0.1:{self.srv.port}"
        reqs = [build_request("/sleep/200/p0", host=host),
                build_request("/api/p1", host=host),
                build_request("/echo/p2", {"Content-Length": "6"}, method="POST", host=host, body=b"p2body"),
                build_request("/api/p3", method="HEAD", host=host),
                build_request("/data/chunked/70000", host=host),
                build_request("/status/404", host=host),
                build_request("/api/p6", host=host, close=True)]
        c = self.srv.conn(timeout=10)
        try:
            c.send(b"".join(reqs))
            rs = c.read_responses(7, heads=(3,))
        finally:
            c.close()
        self.assertEqual([r.status for r in rs], [200, 200, 200, 200, 200, 404, 200], rs)
        self.assertEqual(rs[0].header("X-Target"), "/sleep/200/p0")
        self.assertEqual(rs[1].body, b"alpha")
        self.assertEqual(rs[2].body, b"p2body")
        self.assertEqual(rs[3].header("X-Target"), "/api/p3")
        self.assertEqual(rs[4].body, pattern_bytes(70000, seed=70000))
        self.assertEqual(rs[5].body, b"status 404 body\n")
        self.assertEqual(rs[6].header("X-Target"), "/api/p6")

    def test_curl_post_and_chunked_upload(self):
        data = pattern_bytes(200_000, seed=3)
        path = os.path.join(self.srv.dir, "upload.bin")
        with open(path, "wb") as f:
            f.write(data)
        url = f"http://127.0.0.1:{self.srv.port}/echo/curl"
        p = harness.curl(["--data-binary", f"@{path}", "-H", "Content-Type: application/octet-stream", url],
                         timeout=15)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(zlib.crc32(p.stdout), zlib.crc32(data))
        url2 = f"http://127.0.0.1:{self.srv.port}/echo/curl-chunked"
        p = harness.curl(["--data-binary", f"@{path}", "-H", "Transfer-Encoding: chunked", url2], timeout=15)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(zlib.crc32(p.stdout), zlib.crc32(data))
        self.assertEqual(self.seen("/echo/curl-chunked").body, data)


LOG_CONF = r"""
events {}
http {
    log_format up '$upstream_addr $upstream_status $upstream_response_time';
    access_log @TMP@/up.log up;
    server {
        listen 127.0.0.1:@PORT@;
        location / {
            proxy_pass http://127.0.0.1:@B1@;
        }
    }
}
"""


class UpstreamLogVariables(unittest.TestCase):

    def test_upstream_variables_in_access_log(self):
        b = HTTPBackend("logged")
        self.addCleanup(b.stop)
        srv = backends.start_proxy(self, fill(LOG_CONF, B1=b.port))
        r = backends.http_request(srv.port, "GET", "/logme")
        self.assertEqual(r.status, 200, r)
        r = backends.http_request(srv.port, "GET", "/status/404")
        self.assertEqual(r.status, 404, r)
        path = srv.path("up.log")
        lines = harness.wait_for(lambda: [l for l in backends.confharness.read_lines(path) if l.strip()][:2]
                                 if len([l for l in backends.confharness.read_lines(path) if l.strip()]) >= 2
                                 else None, timeout=3)
        self.assertTrue(lines, f"access log: {backends.confharness.read_lines(path)}\n{srv.logs()}")
        self.assertRegex(lines[0], rf"^127\.0\.0\.1:{b.port} 200 \d+\.\d{{3}}$")
        self.assertRegex(lines[1], rf"^127\.0\.0\.1:{b.port} 404 \d+\.\d{{3}}$")
        t = float(lines[0].split()[2])
        self.assertLess(t, 2.0)


if __name__ == "__main__":
    backends.main()
