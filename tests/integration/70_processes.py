"""Master and workers: worker count, respawn after SIGKILL, SIGTERM, graceful SIGQUIT,
SIGHUP reload without refusing connections."""

import hashlib
import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import build_request  # noqa: E402

SMALL = b"<p>process test</p>\n"
HUGE_SIZE = 50 * 1024 * 1024


def make_huge(path):
    block = os.urandom(1024 * 1024 - 8)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(HUGE_SIZE // (1024 * 1024)):
            chunk = i.to_bytes(8, "big") + block   # every MiB different
            f.write(chunk)
            h.update(chunk)
    return h.hexdigest()


class Load:
    """A background client: one new connection per request, counting results."""

    def __init__(self, server, path="/small.html", expect=SMALL):
        self.server, self.path, self.expect = server, path, expect
        self.ok = 0
        self.failures = []          # (time, error)
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def one(self):
        c = None
        try:
            c = self.server.conn(timeout=2)
            c.send(build_request(self.path, close=True))
            r = c.read_response()
            if r.status != 200 or r.body != self.expect:
                raise AssertionError(f"bad response {r!r}")
            return None
        except Exception as e:  # noqa: BLE001
            return e
        finally:
            if c:
                c.close()

    def run(self):
        while not self.stop_flag.is_set():
            e = self.one()
            if e is None:
                self.ok += 1
            else:
                self.failures.append((time.monotonic(), repr(e)))

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_flag.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


class Processes(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.TempDir()
        cls.root = harness.DocRoot(cls.tmp)
        cls.root.file("index.html", "<p>index</p>\n")
        cls.root.file("small.html", SMALL)
        cls.huge_sha = None

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def start(self, workers=2, extra=()):
        s = harness.Server(self.root.path, workers=workers, extra=extra, tmp=self.tmp)
        self.addCleanup(s.stop, check=False)
        s.start()
        self.addCleanup(s.check_stderr)
        return s

    def huge(self):
        if Processes.huge_sha is None:
            Processes.huge_sha = make_huge(self.root.abspath("huge.bin"))
        return Processes.huge_sha

    def assertAllGone(self, pids, timeout=2.0):
        left = harness.wait_for(lambda: not any(harness.pid_alive(p) for p in pids), timeout=timeout)
        self.assertTrue(left, f"still alive after {timeout}s: {[p for p in pids if harness.pid_alive(p)]}")

    # ------------------------------------------------------------------ tests

    def test_two_workers(self):
        s = self.start(workers=2)
        pids = s.worker_pids()
        self.assertEqual(len(pids), 2, pids)
        for p in pids:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            self.assertEqual(ppid, s.pid)
        for _ in range(20):
            self.assertEqual(s.get("/small.html").body, SMALL)

    def test_respawn_after_sigkill_under_load(self):
        s = self.start(workers=2)
        old = s.worker_pids()
        self.assertEqual(len(old), 2)
        load = Load(s).start()
        try:
            time.sleep(0.4)
            victim = old[0]
            os.kill(victim, signal.SIGKILL)
            t_kill = time.monotonic()
            new = harness.wait_for(lambda: (lambda w: len(w) == 2 and victim not in w and w)(s.worker_pids()),
                                   timeout=2.0)
            self.assertTrue(new, f"no respawn within 2 s: workers {s.worker_pids()}")
            t_respawn = time.monotonic()
            self.assertIn(old[1], new, "the other worker must be untouched")
            time.sleep(0.2)
            ok_before = load.ok
            fails_before = len(load.failures)
            time.sleep(0.8)
        finally:
            load.stop()
        total = load.ok + len(load.failures)
        self.assertGreater(load.ok - ok_before, 20, "no progress after the respawn")
        late = [f for f in load.failures[fails_before:]]
        self.assertEqual(late, [], "failures after the respawn")
        self.assertLessEqual(len(load.failures), max(1, total * 0.02),
                             f"{len(load.failures)} failures of {total}: {load.failures[:5]}")
        self.assertLess(t_respawn - t_kill, 2.0)
        self.assertIn("exited on signal 9", s.stderr())

    def test_sigterm_stops_everything(self):
        s = self.start(workers=2)
        pids = [s.pid] + s.worker_pids()
        c = s.conn()      # an idle keep-alive connection must not delay a fast stop
        self.addCleanup(c.close)
        c.send(build_request("/small.html"))
        c.read_response()
        t0 = time.monotonic()
        os.kill(s.pid, signal.SIGTERM)
        self.assertAllGone(pids, 2.0)
        rc = s.proc.wait(timeout=1)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(rc, 0, s.stderr())
        self.assertTrue(c.is_closed(timeout=1))
        c.close()
        with self.assertRaises(OSError):
            s.connect(timeout=1).close()

    def test_sigint_stops_everything(self):
        s = self.start(workers=1)
        pids = [s.pid] + s.worker_pids()
        os.kill(s.pid, signal.SIGINT)
        self.assertAllGone(pids, 2.0)

    def test_sigquit_graceful(self):
        sha = self.huge()
        s = self.start(workers=1)
        pids = [s.pid] + s.worker_pids()

        idle = s.conn()
        self.addCleanup(idle.close)
        idle.send(build_request("/small.html"))
        self.assertEqual(idle.read_response().body, SMALL)

        big = s.conn(timeout=10)
        self.addCleanup(big.close)
        big.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        big.send(build_request("/huge.bin"))
        head = b""
        while b"\r\n\r\n" not in head:
            d = big.sock.recv(4096)
            self.assertTrue(d)
            head += d
        hdr, _, got = head.partition(b"\r\n\r\n")
        self.assertIn(b"200 OK", hdr)
        self.assertIn(f"Content-Length: {HUGE_SIZE}".encode(), hdr)
        h = hashlib.sha256(got)
        n = len(got)

        os.kill(s.pid, signal.SIGQUIT)
        t_quit = time.monotonic()
        idle_closed_at = None
        idle.sock.setblocking(False)
        # read slowly: ~1.5 s for 50 MiB while the server is stopping
        while n < HUGE_SIZE:
            d = big.sock.recv(min(1024 * 1024, HUGE_SIZE - n))
            if not d:
                break
            h.update(d)
            n += len(d)
            time.sleep(0.0015 if len(d) < 256 * 1024 else 0.03)
            if idle_closed_at is None:
                try:
                    if idle.sock.recv(100) == b"":
                        idle_closed_at = time.monotonic()
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    idle_closed_at = time.monotonic()
            self.assertLess(time.monotonic() - t_quit, 30, "transfer too slow")
        t_done = time.monotonic()
        self.assertEqual(n, HUGE_SIZE, "response cut short by SIGQUIT")
        self.assertEqual(h.hexdigest(), sha, "response corrupted")
        self.assertGreater(t_done - t_quit, 0.5, "the slow read was not slow; test is meaningless")
        # the idle keep-alive connection was closed while the big one was still going
        if idle_closed_at is None:
            idle.sock.setblocking(True)
            self.assertTrue(idle.is_closed(timeout=0.5), "idle keep-alive connection kept after SIGQUIT")
            self.fail("idle keep-alive connection was closed only after the in-flight response")
        self.assertLess(idle_closed_at - t_quit, 1.0)
        # then the in-flight connection is closed and everything exits
        self.assertTrue(big.is_closed(timeout=2))
        self.assertAllGone(pids, 2.0)
        self.assertEqual(s.proc.wait(timeout=1), 0)
        idle.close()
        big.close()

    def test_sigquit_idle_server_exits(self):
        s = self.start(workers=2)
        pids = [s.pid] + s.worker_pids()
        os.kill(s.pid, signal.SIGQUIT)
        self.assertAllGone(pids, 2.0)

    def test_sighup_reload(self):
        self.check_sighup_reload([])

    def test_sighup_reload_accept_exclusive(self):
        self.check_sighup_reload(["--accept", "exclusive"])

    def check_sighup_reload(self, extra):
        s = self.start(workers=2, extra=extra)
        old = s.worker_pids()
        self.assertEqual(len(old), 2)
        load = Load(s).start()
        try:
            time.sleep(0.3)
            os.kill(s.pid, signal.SIGHUP)
            new = harness.wait_for(
                lambda: (lambda w: len(w) == 2 and not set(w) & set(old) and w)(s.worker_pids()),
                timeout=3.0)
            self.assertTrue(new, f"workers after SIGHUP: {s.worker_pids()} (old {old})")
            time.sleep(0.5)
        finally:
            load.stop()
        self.assertAllGone(old, 2.0)
        self.assertTrue(harness.pid_alive(s.pid))
        self.assertGreater(load.ok, 50)
        self.assertEqual(load.failures, [], f"failures during reload ({load.ok} ok)")
        self.assertEqual(s.get("/small.html").body, SMALL)

    def test_sighup_keepalive_connection_finishes(self):
        s = self.start(workers=1)
        old = s.worker_pids()
        c = s.conn()
        self.addCleanup(c.close)
        c.send(build_request("/small.html"))
        c.read_response()
        big_len = 2 * 1024 * 1024
        self.root.file("mid.bin", harness.pattern_bytes(big_len))
        # a request in flight on the old worker across the reload
        c.send(build_request("/mid.bin"))
        os.kill(s.pid, signal.SIGHUP)
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), big_len)
        # the old worker retires gracefully: the idle connection closes, it exits
        self.assertTrue(c.is_closed(timeout=3))
        c.close()
        self.assertAllGone(old, 3.0)
        self.assertEqual(s.get("/small.html").body, SMALL)

    def test_pid_file(self):
        pidfile = os.path.join(self.tmp.path, "riptide.pid")
        s = self.start(workers=1, extra=["--pid", pidfile])
        self.assertTrue(harness.wait_for(lambda: os.path.exists(pidfile), 2))
        with open(pidfile) as f:
            self.assertEqual(int(f.read().strip()), s.pid)


if __name__ == "__main__":
    harness.main()
