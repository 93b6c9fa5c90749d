"""Upstream failures: next upstream on refused / closed connections, max_fails and
fail_timeout, backup servers, recovery, 502 / 504, no retry of non-idempotent requests."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backends  # noqa: E402
import harness  # noqa: E402
from backends import HTTPBackend, RawBackend, fill, refused_port, start_proxy  # noqa: E402

HEAD = "events {}\nhttp {\n    access_log off;\n"


def conf(upstream_block, location_body, extra_locations=""):
    return HEAD + upstream_block + f"""
    server {{
        listen 127.0.0.1:@PORT@;
        location / {{
{location_body}
        }}
{extra_locations}
    }}
}}
"""


class Failover(unittest.TestCase):

    def backend(self, name, **kw):
        b = HTTPBackend(name, **kw)
        self.addCleanup(b.stop)
        return b

    def raw(self, mode):
        b = RawBackend(mode)
        self.addCleanup(b.stop)
        return b

    def proxy(self, text, **ports):
        return start_proxy(self, fill(text, **ports))

    def get(self, srv, target, method="GET", body=b"", timeout=10):
        return backends.http_request(srv.port, method, target, body=body, timeout=timeout)

    def timed_get(self, srv, target, **kw):
        t0 = time.monotonic()
        r = self.get(srv, target, **kw)
        return r, time.monotonic() - t0

    # -- next upstream

    def test_refusing_server_requests_still_succeed(self):
        good = self.backend("good")
        dead = refused_port()
        srv = self.proxy(conf("""
    upstream app {
        server 127.0.0.1:@DEAD@;
        server 127.0.0.1:@GOOD@;
    }
""", "            proxy_pass http://app;\n            proxy_next_upstream error timeout;"), DEAD=dead, GOOD=good.port)
        t0 = time.monotonic()
        for i in range(20):
            r = self.get(srv, f"/r{i}")
            self.assertEqual((r.status, r.body), (200, b"good"), f"request {i}: {r}\n{srv.logs()}")
        self.assertEqual(good.count("/r"), 20)
        self.assertLess(time.monotonic() - t0, 5.0)

    def test_max_fails_then_skipped(self):
        good = self.backend("good")
        bad = self.raw("accept-close")
        srv = self.proxy(conf("""
    upstream app {
        server 127.0.0.1:@BAD@ max_fails=2 fail_timeout=10s;
        server 127.0.0.1:@GOOD@;
    }
""", "            proxy_pass http://app;"), BAD=bad.port, GOOD=good.port)
        for i in range(20):
            r = self.get(srv, f"/m{i}")
            self.assertEqual((r.status, r.body), (200, b"good"), f"request {i}: {r}\n{srv.logs()}")
        self.assertGreaterEqual(bad.connections, 1, "the failing server was never tried")
        self.assertLessEqual(bad.connections, 2, f"the failing server got {bad.connections} connection attempts "
                                                 "for 20 requests with max_fails=2 fail_timeout=10s")

    def test_backup_used_only_when_primaries_down(self):
        p1, p2, bk = self.backend("p1"), self.backend("p2"), self.backend("bk")
        srv = self.proxy(conf("""
    upstream app {
        server 127.0.0.1:@P1@;
        server 127.0.0.1:@P2@;
        server 127.0.0.1:@BK@ backup;
    }
""", "            proxy_pass http://app;"), P1=p1.port, P2=p2.port, BK=bk.port)
        names = [self.get(srv, f"/b{i}").body for i in range(10)]
        self.assertEqual(sorted(set(names)), [b"p1", b"p2"], names)
        self.assertEqual(bk.count(), 0)
        p1.stop()
        p2.stop()
        for i in range(10):
            r = self.get(srv, f"/down{i}")
            self.assertEqual((r.status, r.body), (200, b"bk"), f"request {i}: {r}\n{srv.logs()}")
        self.assertEqual(bk.count("/down"), 10)

    def test_recovery_after_fail_timeout(self):
        p1, p2 = self.backend("p1"), self.backend("p2")
        srv = self.proxy(conf("""
    upstream app {
        server 127.0.0.1:@P1@ max_fails=1 fail_timeout=1s;
        server 127.0.0.1:@P2@;
    }
""", "            proxy_pass http://app;"), P1=p1.port, P2=p2.port)
        port1 = p1.port
        names = [self.get(srv, f"/before{i}").body for i in range(4)]
        self.assertIn(b"p1", names)
        p1.stop()
        for i in range(6):
            r = self.get(srv, f"/during{i}")
            self.assertEqual((r.status, r.body), (200, b"p2"), r)
        p1b = self.backend("p1-again", port=port1)
        time.sleep(1.5)
        names = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and names.count(b"p1-again") < 2:
            r = self.get(srv, f"/after{len(names)}")
            self.assertEqual(r.status, 200, r)
            names.append(r.body)
            time.sleep(0.05)
        self.assertGreaterEqual(names.count(b"p1-again"), 2,
                                f"the restarted server got no traffic after fail_timeout: {names}")

    def test_all_down_502_quickly(self):
        d1, d2 = refused_port(), refused_port()
        srv = self.proxy(conf("""
    upstream app {
        server 127.0.0.1:@D1@;
        server 127.0.0.1:@D2@;
    }
""", "            proxy_pass http://app;", """
        location /single/ {
            proxy_pass http://127.0.0.1:@D1@;
        }
"""), D1=d1, D2=d2)
        for target in ("/x", "/y", "/single/z"):
            r, took = self.timed_get(srv, target)
            self.assertEqual(r.status, 502, f"{target}: {r}")
            self.assertLess(took, 1.0, target)
        # riptide itself is fine
        r, took = self.timed_get(srv, "/again")
        self.assertEqual(r.status, 502)

    def test_read_timeout_gives_504(self):
        hang = self.raw("hang")
        srv = self.proxy(conf("", f"""            proxy_pass http://127.0.0.1:@H@;
            proxy_read_timeout 1s;
            proxy_connect_timeout 2s;"""), H=hang.port)
        r, took = self.timed_get(srv, "/hang")
        self.assertEqual(r.status, 504, r)
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 2.5)
        self.assertGreaterEqual(len(hang.received), 1)

    def test_read_timeout_next_upstream(self):
        hang, good = self.raw("hang"), self.backend("good")
        srv = self.proxy(conf("""
    upstream app {
        server 127.0.0.1:@H@ max_fails=0;
        server 127.0.0.1:@G@;
    }
""", """            proxy_pass http://app;
            proxy_read_timeout 1s;
            proxy_next_upstream error timeout;"""), H=hang.port, G=good.port)
        for i in range(2):
            r, took = self.timed_get(srv, f"/t{i}")
            self.assertEqual((r.status, r.body), (200, b"good"), r)
            self.assertLess(took, 3.0)
        self.assertGreaterEqual(len(hang.received), 1, "the hanging server was never tried")

    def test_close_without_answer_single_server_502(self):
        closer = self.raw("close")
        srv = self.proxy(conf("", "            proxy_pass http://127.0.0.1:@C@;"), C=closer.port)
        for i in range(3):
            r, took = self.timed_get(srv, f"/c{i}")
            self.assertEqual(r.status, 502, r)
            self.assertLess(took, 2.0)
        self.assertGreaterEqual(len(closer.requests_with(b"GET /c0 ")), 1)

    def test_close_without_answer_retried_on_next_server(self):
        closer, good = self.raw("close"), self.backend("good")
        srv = self.proxy(conf("""
    upstream app {
        server 127.0.0.1:@C@ max_fails=0;
        server 127.0.0.1:@G@;
    }
""", """            proxy_pass http://app;
            proxy_next_upstream error timeout;"""), C=closer.port, G=good.port)
        for i in range(6):
            r = self.get(srv, f"/g{i}")
            self.assertEqual((r.status, r.body), (200, b"good"), f"request {i}: {r}\n{srv.logs()}")
        self.assertGreaterEqual(len(closer.received), 2, "the closing server was never tried")
        self.assertEqual(good.count("/g"), 6)

    def test_invalid_response_502(self):
        bad = self.raw("garbage")
        srv = self.proxy(conf("", "            proxy_pass http://127.0.0.1:@B@;"), B=bad.port)
        r, took = self.timed_get(srv, "/garbage")
        self.assertEqual(r.status, 502, r)
        self.assertLess(took, 2.0)

    def _truncated(self, mode):
        bad = self.raw(mode)
        srv = self.proxy(conf("", "            proxy_pass http://127.0.0.1:@B@;"), B=bad.port)
        c = srv.conn(timeout=5)
        try:
            c.send(harness.build_request("/trunc", host=f"127.0.0.1:{srv.port}"))
            try:
                r = c.read_response()
            except harness.ConnectionClosed:
                return  # the head went out, then the connection was closed: right
            self.fail(f"a truncated upstream body was passed on as complete: {r}")
        finally:
            c.close()

    def test_truncated_content_length_body_closes_client(self):
        # the head is already sent: the client must see an incomplete body and a close, never
        # a response that looks complete on a connection that stays open
        self._truncated("truncate-cl")

    def test_truncated_chunked_body_closes_client(self):
        self._truncated("truncate-chunked")

    def test_post_not_retried_after_reset(self):
        resetter, good = self.raw("reset"), self.backend("good")
        srv = self.proxy(conf("""
    upstream app {
        server 127.0.0.1:@R@ max_fails=0;
        server 127.0.0.1:@G@;
    }
""", """            proxy_pass http://app;
            proxy_next_upstream error timeout;"""), R=resetter.port, G=good.port)
        statuses = {}
        for i in range(6):
            target = f"/post{i}"
            r = self.get(srv, target, method="POST", body=f"payload {i}".encode())
            statuses[target] = r.status
            self.assertIn(r.status, (200, 502), r)
            if r.status == 200:
                self.assertEqual(r.body, b"good")
        failed = [t for t, s in statuses.items() if s == 502]
        self.assertTrue(failed, f"no POST went to the resetting server: {statuses}")
        for t in failed:
            self.assertEqual(good.count(t, method="POST"), 0, f"{t} was retried on the other server")
            self.assertEqual(len(resetter.requests_with(f"POST {t} ".encode())), 1)
        for t, s in statuses.items():
            if s == 200:
                self.assertEqual(good.count(t, method="POST"), 1)
        # a GET in the same setup is retried (idempotent)
        for i in range(4):
            r = self.get(srv, f"/get{i}")
            self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    backends.main()
