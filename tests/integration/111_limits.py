"""Limits: lingering close after a malformed request, worker_connections,
keepalive_requests, request line / head / field count / body size bounds, and accept()
failing with EMFILE under a low open-files limit."""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limitsharness as lh  # noqa: E402
from limitsharness import LServer, Conn, build_request, socket_state  # noqa: E402

INDEX = b"<html>limits index</html>\n"

CONF = r"""
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:@PORT@;
        root www;
        client_header_timeout 20s;
        client_body_timeout 20s;
        keepalive_timeout 20s;
        send_timeout 5s;
        keepalive_requests 5;
        client_max_body_size 1k;
        location = /ret { return 200 "x"; }
    }
}
"""


class LimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = LServer(CONF, files={"www/index.html": INDEX})
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def setUp(self):
        self.worker = self.srv.worker_pids()

    def tearDown(self):
        self.srv.check_sanitizers(self)
        self.assertEqual(self.srv.worker_pids(), self.worker, "worker changed (crash?)\n" + self.srv.stderr()[-2000:])

    def raw(self, data, timeout=5.0):
        c = self.srv.conn(timeout=timeout)
        try:
            c.send(data)
            r = c.read_response()
            closed = c.is_closed(timeout)
            return r, closed
        finally:
            c.close()

    # ------------------------------------------------------------------ lingering close

    def _lingering(self, junk_len, rounds):
        head = b"GET /index.html HTTP/1.1\r\nHost : x\r\n\r\n"
        junk = (b"J" * 1023 + b"\n") * (junk_len // 1024)
        for i in range(rounds):
            s = self.srv.connect(timeout=5)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
                s.sendall(head + junk)       # one send: head and junk together
                t0 = time.monotonic()
                data, how = lh.read_until_close(s, timeout=8)
            finally:
                s.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 400 "), f"round {i}: got {how} after {data[:200]!r}")
            c = Conn(None)
            c.buf = data
            c.eof = True
            r = c.read_response()   # raises if the body is cut short
            self.assertEqual(r.status, 400)
            self.assertEqual(c.buf, b"", "bytes after the 400 response")
            self.assertEqual(how, "eof", f"round {i}: the 400 response was followed by {how}, not EOF")
            self.assertLess(time.monotonic() - t0, 7.0)

    def test_lingering_close_64k_junk(self):
        # the 400 must reach the client in full although unread junk follows the bad head
        self._lingering(64 * 1024, rounds=20)

    def test_lingering_close_1m_junk(self):
        # more junk than the socket buffers hold: the server has to read and discard it
        self._lingering(1024 * 1024, rounds=3)

    # ------------------------------------------------------------------ worker_connections

    def test_worker_connections_limit(self):
        c0 = self.srv.conn(timeout=5)
        self.addCleanup(c0.close)
        c0.send(build_request("/index.html"))
        self.assertEqual(c0.read_response().status, 200)
        socks = []
        try:
            for _ in range(100):
                socks.append(self.srv.connect(timeout=3))
            t0 = time.monotonic()
            states = [None] * len(socks)
            # closed "at once": within a second of opening them all
            while time.monotonic() - t0 < 1.0:
                for i, s in enumerate(socks):
                    if states[i] is None:
                        st = socket_state(s)
                        if st != "open":
                            states[i] = st
                time.sleep(0.02)
            closed = [i for i, st in enumerate(states) if st is not None]
            self.assertTrue(all(states[i] in ("eof", "reset") for i in closed), states)
            # 64 per worker: c0 plus 63 of ours are kept, the 37 after them are closed
            self.assertGreaterEqual(len(closed), 100 - 63, f"closed: {closed}")
            self.assertLessEqual(len(closed), 100 - 60, f"closed: {closed}")
            self.assertTrue(all(i >= 55 for i in closed), f"early connections were closed: {closed}")
            # the established connection keeps working
            c0.send(build_request("/index.html"))
            r = c0.read_response()
            self.assertEqual((r.status, r.body), (200, INDEX))
            # an accepted idle connection can still send its request
            s = socks[0]
            s.sendall(build_request("/index.html", close=True))
            c = Conn(s)
            self.assertEqual(c.read_response().status, 200)
        finally:
            for s in socks:
                s.close()
        # once they are gone, new connections are served again
        ok = lh.harness.wait_for(lambda: self._try_get() == 200, timeout=3, interval=0.1)
        self.assertTrue(ok)

    def _try_get(self):
        try:
            return self.srv.get("/index.html", timeout=2).status
        except (OSError, lh.ConnectionClosed):
            return None

    # ------------------------------------------------------------------ keepalive_requests

    def test_keepalive_requests(self):
        c = self.srv.conn(timeout=5)
        try:
            for i in range(1, 6):
                c.send(build_request("/index.html"))
                r = c.read_response()
                self.assertEqual(r.status, 200)
                conn_hdr = (r.header("Connection") or "").lower()
                if i < 5:
                    self.assertNotEqual(conn_hdr, "close", f"response {i}")
                else:
                    self.assertEqual(conn_hdr, "close", f"response {i} should close: {r}")
            self.assertTrue(c.is_closed(3))
        finally:
            c.close()

    def test_keepalive_requests_pipelined(self):
        c = self.srv.conn(timeout=5)
        try:
            c.send(build_request("/index.html") * 7)
            rs = c.read_responses(5)
            self.assertEqual([r.status for r in rs], [200] * 5)
            self.assertEqual((rs[4].header("Connection") or "").lower(), "close")
            data, closed = c.read_all_until_close(3)
            self.assertEqual(data, b"", "a 6th response was sent")
            self.assertTrue(closed)
        finally:
            c.close()

    # ------------------------------------------------------------------ size limits

    def test_request_line_9k_414(self):
        r, closed = self.raw(b"GET /" + b"a" * (9 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.status, 414)
        self.assertTrue(closed)

    def test_request_line_7k_ok(self):
        r, _ = self.raw(b"GET /index.html?" + b"a" * (7 * 1024) + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(r.status, 200)

    def test_headers_40k_431(self):
        hdrs = b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 1000) for i in range(40))
        r, closed = self.raw(b"GET /index.html HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n")
        self.assertEqual(r.status, 431)
        self.assertTrue(closed)

    def test_101_fields_431(self):
        hdrs = b"".join(b"X-F%d: v\r\n" % i for i in range(100))   # + Host = 101
        r, closed = self.raw(b"GET /index.html HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n")
        self.assertEqual(r.status, 431)
        self.assertTrue(closed)

    def test_100_fields_ok(self):
        hdrs = b"".join(b"X-F%d: v\r\n" % i for i in range(98))    # + Host + Connection = 100
        r, _ = self.raw(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + hdrs + b"\r\n")
        self.assertEqual(r.status, 200)

    def test_body_too_large_413(self):
        for path in (b"/index.html", b"/ret"):
            r, closed = self.raw(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n")
            self.assertEqual(r.status, 413, path)
            self.assertTrue(closed)

    def test_body_within_limit(self):
        r, _ = self.raw(b"POST /ret HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n" + b"b" * 1000)
        self.assertEqual((r.status, r.body), (200, b"x"))


# ---------------------------------------------------------------------- EMFILE

EMFILE_CONF = r"""
events { worker_connections 1000; }
http {
    access_log off;
    server {
        listen 127.0.0.1:@PORT@;
        root www;
        client_header_timeout 30s;
        keepalive_timeout 30s;
    }
}
"""


class EmfileTest(unittest.TestCase):
    def test_accept_emfile(self):
        srv = LServer(EMFILE_CONF, files={"www/index.html": INDEX}, rlimit_nofile=64)
        srv.start()
        self.addCleanup(srv.cleanup)
        master = srv.pid
        workers = srv.worker_pids()
        self.assertEqual(len(workers), 1)
        w = workers[0]
        # an established keep-alive connection (and a cached file) before the flood
        c0 = srv.conn(timeout=5)
        self.addCleanup(c0.close)
        c0.send(build_request("/index.html"))
        self.assertEqual(c0.read_response().status, 200)

        socks = []
        try:
            for _ in range(80):
                try:
                    socks.append(srv.connect(timeout=2))
                except OSError:
                    break   # the backlog is full: enough
            self.assertGreater(len(socks), 64)
            time.sleep(0.5)
            # the server is out of descriptors now: it must idle, not spin on accept
            cpu0 = lh.cpu_seconds(w)
            t0 = time.monotonic()
            time.sleep(2.0)
            cpu = lh.cpu_seconds(w) - cpu0
            dt = time.monotonic() - t0
            self.assertLess(cpu, 0.5, f"worker used {cpu:.2f} s CPU in {dt:.1f} s while out of descriptors")
            self.assertEqual(srv.proc.poll(), None, "master exited")
            self.assertEqual(srv.pid, master)
            self.assertEqual(srv.worker_pids(), [w], "worker crashed or was replaced")
            # the connection it already has is still served
            c0.send(build_request("/index.html"))
            r = c0.read_response()
            self.assertEqual((r.status, r.body), (200, INDEX))
        finally:
            for s in socks:
                s.close()

        def fresh_ok():
            try:
                return srv.get("/index.html", timeout=2).status == 200
            except (OSError, lh.ConnectionClosed):
                return False
        self.assertTrue(lh.harness.wait_for(fresh_ok, timeout=5, interval=0.1))
        for _ in range(20):
            r = srv.get("/index.html", timeout=3)
            self.assertEqual((r.status, r.body), (200, INDEX))
        self.assertEqual(srv.worker_pids(), [w])
        err = srv.stderr()
        self.assertRegex(err, r"(?i)accept4?\(?\)?.*(failed|error).*(24|too many open files|EMFILE)",
                         "accept failure not logged")
        srv.check_sanitizers(self)


if __name__ == "__main__":
    lh.main()
