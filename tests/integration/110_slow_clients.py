"""Slow clients: slowloris (1,000 trickling connections) does not starve ordinary clients or
grow memory, and client_header_timeout covers the whole head; client_body_timeout,
send_timeout and keepalive_timeout close stalled connections."""

import errno
import http.client
import os
import select
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limitsharness as lh  # noqa: E402
from limitsharness import LServer, Conn, build_request  # noqa: E402
import backends  # noqa: E402

INDEX = b"<html>slow clients index</html>\n"
MiB = 1024 * 1024

SLOWLORIS_CONNS = 1000


def conf(header_timeout, extra=""):
    return r"""
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:@PORT@;
        root www;
        client_header_timeout %s;
        client_body_timeout 2s;
        send_timeout 2s;
        keepalive_timeout 2s;
        location = /ret { return 200 "x"; }
        %s
    }
}
""" % (header_timeout, extra)


class Slowloris:
    """N non-blocking connections that send a partial request head and then one more byte
    of a header value every `interval` seconds, never finishing the head. Records when the
    server closes each one (EOF or reset), relative to its connect time."""

    HEAD = b"GET /index.html HTTP/1.1\r\nHost: slow\r\nX-Slow: "

    def __init__(self, port, n):
        self.port = port
        self.n = n
        self.socks = []
        self.t_conn = []
        self.closed_at = {}      # index -> seconds after its connect
        self.data = {}           # index -> bytes the server sent (should be none)
        self.poll = select.poll()
        self.fd2i = {}

    def open(self, deadline):
        batch = 100
        for start in range(0, self.n, batch):
            pending = []
            for _ in range(start, min(self.n, start + batch)):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                rc = s.connect_ex(("127.0.0.1", self.port))
                if rc not in (0, errno.EINPROGRESS):
                    s.close()
                    raise OSError(rc, os.strerror(rc))
                pending.append(s)
            # wait until this batch is connected (writable), bounded
            left = set(pending)
            while left and time.monotonic() < deadline:
                _, w, _ = select.select([], list(left), [], 0.5)
                for s in w:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, os.strerror(err))
                    left.discard(s)
            if left:
                raise AssertionError(f"{len(left)} slowloris connections did not connect in time")
            for s in pending:
                i = len(self.socks)
                s.send(self.HEAD)
                self.socks.append(s)
                self.t_conn.append(time.monotonic())
                self.fd2i[s.fileno()] = i
                self.poll.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)

    def _closed(self, i, now):
        if i in self.closed_at:
            return
        self.closed_at[i] = now - self.t_conn[i]
        try:
            self.poll.unregister(self.socks[i])
        except (KeyError, ValueError):
            pass

    def check(self, timeout_ms=0):
        now = time.monotonic()
        for fd, _ev in self.poll.poll(timeout_ms):
            i = self.fd2i[fd]
            s = self.socks[i]
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                self._closed(i, now)
                continue
            if not d:
                self._closed(i, now)
            else:
                self.data[i] = self.data.get(i, b"") + d

    def trickle(self):
        now = time.monotonic()
        for i, s in enumerate(self.socks):
            if i in self.closed_at:
                continue
            try:
                s.send(b"a")
            except BlockingIOError:
                pass
            except OSError:
                self._closed(i, now)

    def open_count(self):
        return self.n - len(self.closed_at)

    def close(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def ordinary_clients(port, n, spacing, results, stop):
    """n GETs, each on a new http.client connection; results gets (seconds, status|error)."""
    for _ in range(n):
        if stop.is_set():
            return
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/index.html")
            r = c.getresponse()
            body = r.read()
            c.close()
            results.append((time.monotonic() - t0, r.status if body == INDEX else f"body {body[:50]!r}"))
        except Exception as e:  # noqa: BLE001
            results.append((time.monotonic() - t0, repr(e)))
        time.sleep(spacing)


class SlowlorisTest(unittest.TestCase):
    def start(self, header_timeout):
        srv = LServer(conf(header_timeout), files={"www/index.html": INDEX})
        srv.start()
        self.addCleanup(srv.cleanup)
        return srv

    def test_slowloris_does_not_starve_or_bloat(self):
        # a long header timeout: the 1,000 connections stay for the whole test
        srv = self.start("30s")
        workers = srv.worker_pids()
        self.assertEqual(srv.get("/index.html").status, 200)
        rss0 = lh.workers_rss_kib(srv.pid)
        self.assertGreater(rss0, 0)

        sl = Slowloris(srv.port, SLOWLORIS_CONNS)
        self.addCleanup(sl.close)
        sl.open(time.monotonic() + 10)

        results, stop = [], threading.Event()
        th = threading.Thread(target=ordinary_clients, args=(srv.port, 50, 0.08, results, stop), daemon=True)
        self.addCleanup(stop.set)
        th.start()
        rss_max = rss0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 6.0 and (th.is_alive() or time.monotonic() - t0 < 2.0):
            sl.trickle()
            rss_max = max(rss_max, lh.workers_rss_kib(srv.pid))
            tick = time.monotonic() + 0.5
            while time.monotonic() < tick:
                sl.check(50)
        stop.set()
        th.join(10)
        rss_max = max(rss_max, lh.workers_rss_kib(srv.pid))

        self.assertEqual(len(results), 50, results)
        bad = [r for r in results if r[1] != 200]
        self.assertEqual(bad, [], "ordinary requests failed during slowloris")
        slow = [round(r[0], 3) for r in results if r[0] >= 0.5]
        self.assertEqual(slow, [], "ordinary requests took >= 0.5 s during slowloris")
        # the trickling connections were there all along (nothing answered, nothing closed)
        self.assertGreaterEqual(sl.open_count(), SLOWLORIS_CONNS - 10,
                                f"{len(sl.closed_at)} slowloris connections closed early")
        self.assertEqual(sl.data, {}, "the server answered an incomplete head")
        growth = (rss_max - rss0) / 1024
        self.assertLess(growth, 64, f"worker RSS grew by {growth:.1f} MiB ({rss0} -> {rss_max} KiB)")
        self.assertEqual(srv.worker_pids(), workers)
        srv.check_sanitizers(self)

    def test_header_timeout_not_extended_by_trickling(self):
        srv = self.start("2s")
        workers = srv.worker_pids()
        sl = Slowloris(srv.port, SLOWLORIS_CONNS)
        self.addCleanup(sl.close)
        sl.open(time.monotonic() + 10)
        t_last = sl.t_conn[-1]
        lat = []
        # trickle until all are closed or 5 s after the last connect (bounded)
        while time.monotonic() - t_last < 5.0 and sl.open_count() > 0:
            sl.trickle()
            tick = time.monotonic() + 0.5
            while time.monotonic() < tick:
                sl.check(50)
            if len(lat) < 10:
                t = time.monotonic()
                r = srv.get("/index.html", timeout=3)
                lat.append((time.monotonic() - t, r.status))
        sl.check(0)
        times = sorted(sl.closed_at.values())
        self.assertGreaterEqual(len(times), SLOWLORIS_CONNS * 0.95,
                                f"only {len(times)} of {SLOWLORIS_CONNS} trickling connections were closed "
                                f"by 5 s after the last connect (client_header_timeout 2s)")
        early = [round(t, 2) for t in times if t < 1.5]
        self.assertEqual(early, [], "closed before client_header_timeout")
        in_window = [t for t in times if t <= 4.5]
        self.assertGreaterEqual(len(in_window), SLOWLORIS_CONNS * 0.95,
                                f"closed too late: {times[len(times) // 2]:.2f} s median, max {times[-1]:.2f}")
        self.assertEqual(sl.data, {}, "the server answered an incomplete head")
        self.assertTrue(all(s == 200 and t < 0.5 for t, s in lat), lat)
        self.assertEqual(srv.worker_pids(), workers)
        srv.check_sanitizers(self)


class TimeoutsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.backend = backends.HTTPBackend("b1")
        cls.big = lh.harness.pattern_bytes(50 * MiB)
        cls.srv = LServer(conf("2s", "location /echo { proxy_pass http://127.0.0.1:%d; }" % cls.backend.port),
                          files={"www/index.html": INDEX, "www/big.bin": cls.big,
                                 "www/mid.bin": cls.big[:8 * MiB]})
        try:
            cls.srv.start()
        except BaseException:
            cls.backend.stop()
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            cls.backend.stop()

    def setUp(self):
        self.workers = self.srv.worker_pids()
        self.assertEqual(len(self.workers), 1)

    def tearDown(self):
        self.assertEqual(self.srv.worker_pids(), self.workers, "worker replaced (crash?)")
        self.srv.check_sanitizers(self)

    # -- client_body_timeout

    def _stalled_body(self, method, path):
        s = self.srv.connect(timeout=5)
        try:
            s.sendall(method + b" " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
            t0 = time.monotonic()
            data, how = lh.read_until_close(s, timeout=6)
            return data, how, time.monotonic() - t0
        finally:
            s.close()

    def test_body_timeout_return(self):
        # `return` answers at once and discards the body; the stalled body still ends the connection
        data, how, dt = self._stalled_body(b"POST", b"/ret")
        self.assertIn(how, ("eof", "reset"), f"not closed after {dt:.1f} s; got {data[:200]!r}")
        self.assertTrue(1.5 <= dt <= 4.0, f"closed after {dt:.2f} s (client_body_timeout 2s)")

    def test_body_timeout_static(self):
        data, how, dt = self._stalled_body(b"POST", b"/index.html")
        self.assertIn(how, ("eof", "reset"), f"not closed after {dt:.1f} s; got {data[:200]!r}")
        self.assertLessEqual(dt, 4.0)

    def test_body_timeout_proxied(self):
        # here the body is really read (to be forwarded): no answer, closed after the timeout
        data, how, dt = self._stalled_body(b"POST", b"/echo")
        self.assertIn(how, ("eof", "reset"), f"not closed after {dt:.1f} s; got {data[:200]!r}")
        self.assertTrue(1.5 <= dt <= 4.0, f"closed after {dt:.2f} s (client_body_timeout 2s)")
        self.assertFalse(data.startswith(b"HTTP/1.1 2"), data[:200])

    def test_body_trickle_is_not_a_pause(self):
        # client_body_timeout is between reads: a body sent in pieces 0.5 s apart over 3 s is fine
        c = self.srv.conn(timeout=5)
        try:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n")
            for ch in b"abcdef":
                time.sleep(0.5)
                c.send(bytes([ch]))
            time.sleep(0.5)
            c.send(b"g")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b"abcdefg"))
        finally:
            c.close()

    # -- send_timeout

    def test_send_timeout_non_reader(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.settimeout(5)
        s.connect(("127.0.0.1", self.srv.port))
        w = self.workers[0]
        cport = s.getsockname()[1]
        s.sendall(build_request("/big.bin"))
        t0 = time.monotonic()
        holds = lambda: lh.holds_connection(w, self.srv.port, cport)  # noqa: E731
        self.assertTrue(lh.harness.wait_for(holds, timeout=1), "the worker does not hold our connection")
        # meanwhile others are served promptly
        for _ in range(10):
            t = time.monotonic()
            r = self.srv.get("/index.html", timeout=3)
            self.assertEqual((r.status, r.body), (200, INDEX))
            self.assertLess(time.monotonic() - t, 0.5)
            time.sleep(0.1)
        released = lh.harness.wait_for(lambda: not holds(), timeout=6)
        dt = time.monotonic() - t0
        self.assertTrue(released, "the worker still holds the stalled connection after 7 s (send_timeout 2s)")
        self.assertTrue(1.5 <= dt <= 5.0, f"connection released after {dt:.2f} s (send_timeout 2s)")
        n, how = lh.drain_count(s, timeout=5)
        self.assertIn(how, ("eof", "reset"))
        self.assertLess(n, 50 * MiB, "the whole file arrived: the connection was not cut")

    def test_send_timeout_slow_but_steady_reader(self):
        # send_timeout is between writes, not for the whole response: a reader taking ~4 s
        # in steps of 0.25 s gets everything
        c = self.srv.conn(timeout=5)
        try:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            c.send(build_request("/mid.bin", close=True))
            got = bytearray()
            deadline = time.monotonic() + 20
            eof = False
            while not eof and time.monotonic() < deadline:
                step = 0
                while step < 512 * 1024:
                    d = c.sock.recv(min(65536, 512 * 1024 - step))
                    if not d:
                        eof = True
                        break
                    got += d
                    step += len(d)
                time.sleep(0.25)
            self.assertTrue(eof, "response not finished in 20 s")
            head, _, body = bytes(got).partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head[:100])
            self.assertEqual(len(body), 8 * MiB)
            self.assertTrue(body == self.big[:8 * MiB])
        finally:
            c.close()

    # -- keepalive_timeout

    def test_keepalive_timeout(self):
        c = self.srv.conn(timeout=5)
        try:
            c.send(build_request("/index.html"))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            t0 = time.monotonic()
            closed = c.is_closed(timeout=5)
            dt = time.monotonic() - t0
            self.assertTrue(closed, "idle keep-alive connection still open after 5 s")
            self.assertTrue(1.0 <= dt <= 3.0, f"closed after {dt:.2f} s (keepalive_timeout 2s)")
        finally:
            c.close()

    def test_keepalive_timeout_restarts_per_request(self):
        # a connection used every second for 3 s is not cut by the 2 s idle timeout
        c = self.srv.conn(timeout=5)
        try:
            for _ in range(4):
                c.send(build_request("/index.html"))
                self.assertEqual(c.read_response().status, 200)
                time.sleep(1.0)
            c.send(build_request("/index.html", close=True))
            self.assertEqual(c.read_response().status, 200)
        finally:
            c.close()


if __name__ == "__main__":
    lh.main()
