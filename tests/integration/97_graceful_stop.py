"""Graceful stop (SIGQUIT / -s quit) lets a large slow download finish byte-exact, then
the master exits; fast stop (SIGTERM) exits at once."""

import hashlib
import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confharness  # noqa: E402
from confharness import ConfServer, build_request, run_bin, wait_for  # noqa: E402

MIB = 1 << 20
SIZE = 100 * MIB

CONF = r"""
worker_processes 2;
http {
    default_type application/octet-stream;
    access_log off;
    server {
        listen 127.0.0.1:@PORT@;
        root www;
        sendfile on;
        location /nosf/ { sendfile off; alias www/; }
    }
}
"""


def make_big(path):
    block = os.urandom(MIB)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(SIZE // MIB):
            b = i.to_bytes(8, "big") + block[8:]
            f.write(b)
            h.update(b)
    return h.hexdigest()


class Download:
    """A raw GET of the big file; reads the header, then the body on demand."""

    def __init__(self, port, path="/big.bin"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        # a small receive buffer keeps most of the file on the server side
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.s.sendall(build_request(path, close=True))
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise AssertionError("closed before the header")
            self.buf += d
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.head = head.decode("latin-1")
        self.h = hashlib.sha256()
        self.got = 0
        if self.buf:
            self.h.update(self.buf)
            self.got = len(self.buf)
            self.buf = b""

    def read(self, n, rate=None):
        """Read up to n more body bytes (at about `rate` bytes/s if given); returns
        False at EOF."""
        want = self.got + n
        t0 = time.monotonic()
        start = self.got
        while self.got < want:
            try:
                d = self.s.recv(min(65536, want - self.got))
            except ConnectionResetError:
                return False
            if not d:
                return False
            self.h.update(d)
            self.got += len(d)
            if rate:
                ahead = (self.got - start) / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        return True

    def close(self):
        self.s.close()


class GracefulStop(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = confharness.TempDir("riptide-quit-")
        os.makedirs(os.path.join(cls.tmp.path, "www"))
        cls.digest = make_big(os.path.join(cls.tmp.path, "www", "big.bin"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def start(self):
        srv = ConfServer(CONF, tmp=self.tmp)
        srv.start()
        self.addCleanup(srv.stop)
        self.addCleanup(lambda: srv.errf and srv.errf.close())
        self.assertTrue(wait_for(lambda: len(srv.worker_pids()) == 2, 5))
        return srv

    def _graceful(self, path, use_cli):
        srv = self.start()
        dl = Download(srv.port, path)
        try:
            self.assertIn(" 200 ", dl.head.split("\r\n")[0])
            self.assertIn(f"Content-Length: {SIZE}", dl.head)
            self.assertTrue(dl.read(2 * MIB))
            workers = srv.worker_pids()
            if use_cli:
                r = run_bin(["-p", srv.dir, "-c", srv.conf_path, "-s", "quit"])
                self.assertEqual(r.returncode, 0, r.stderr.decode())
            else:
                srv.send(signal.SIGQUIT)
            time.sleep(0.3)
            # keep reading slowly for a while: the server must not give up
            self.assertTrue(dl.read(4 * MIB, rate=4 * MIB))
            self.assertIsNone(srv.proc.poll(), "master exited while a response was in flight")
            self.assertTrue(any(confharness.pid_alive(p) for p in workers))
            # then the rest at full speed
            self.assertTrue(dl.read(SIZE - dl.got), f"closed after {dl.got} of {SIZE}")
            self.assertEqual(dl.got, SIZE)
            self.assertEqual(dl.h.hexdigest(), self.digest)
            # Connection: close was asked for: EOF follows
            dl.s.settimeout(5)
            self.assertEqual(dl.s.recv(10), b"")
        finally:
            dl.close()
        try:
            rc = srv.proc.wait(10)
        except Exception:  # noqa: BLE001
            self.fail("master did not exit after the download finished")
        self.assertEqual(rc, 0)
        for p in workers:
            self.assertTrue(wait_for(lambda: not confharness.pid_alive(p), 3), p)
        self.assertFalse(os.path.exists(srv.path("riptide.pid")))
        srv.check_sanitizers(self)

    def test_sigquit_sendfile(self):
        self._graceful("/big.bin", use_cli=False)

    def test_quit_cli_no_sendfile(self):
        self._graceful("/nosf/big.bin", use_cli=True)

    def test_sigquit_stops_accepting(self):
        """nginx closes the listening sockets at once on QUIT (master and workers): a new
        connection is refused, not left hanging in a backlog nobody accepts from."""
        srv = self.start()
        dl = Download(srv.port)
        try:
            self.assertTrue(dl.read(MIB))
            srv.send(signal.SIGQUIT)

            def refused():
                with socket.socket() as s:
                    s.settimeout(1)
                    return s.connect_ex(("127.0.0.1", srv.port)) != 0
            ok = wait_for(refused, 3)
            if not ok:
                # accepted by the kernel: is it at least served?
                try:
                    r = srv.get("/nosf/missing", timeout=2)
                    served = f"served: {r.status}"
                except OSError as e:
                    served = f"not served: {e!r}"
                self.fail(f"still accepting connections 3 s after SIGQUIT ({served})")
        finally:
            dl.close()
        self.assertEqual(srv.proc.wait(10), 0)

    def test_sigquit_closes_idle_keepalive(self):
        srv = self.start()
        c = srv.conn()
        try:
            c.send(build_request("/nosf/missing"))
            self.assertEqual(c.read_response().status, 404)
            t0 = time.monotonic()
            srv.send(signal.SIGQUIT)
            self.assertTrue(c.is_closed(3.0), "idle keep-alive connection not closed")
            rc = srv.proc.wait(5)
            self.assertEqual(rc, 0)
            self.assertLess(time.monotonic() - t0, 3.0)
        finally:
            c.close()

    def test_sigterm_fast(self):
        srv = self.start()
        dl = Download(srv.port)
        try:
            self.assertTrue(dl.read(MIB))
            t0 = time.monotonic()
            srv.send(signal.SIGTERM)
            rc = srv.proc.wait(3)
            self.assertLess(time.monotonic() - t0, 1.5)
            self.assertEqual(rc, 0)
            # the download is cut short
            dl.s.settimeout(5)
            dl.read(SIZE)
            self.assertLess(dl.got, SIZE)
        finally:
            dl.close()
        self.assertTrue(wait_for(lambda: not srv.worker_pids(), 2))

    def test_sigterm_idle(self):
        srv = self.start()
        self.assertEqual(srv.get("/nosf/missing").status, 404)
        t0 = time.monotonic()
        srv.send(signal.SIGTERM)
        self.assertEqual(srv.proc.wait(3), 0)
        self.assertLess(time.monotonic() - t0, 1.0)

    def test_sigint_fast(self):
        srv = self.start()
        t0 = time.monotonic()
        srv.send(signal.SIGINT)
        self.assertEqual(srv.proc.wait(3), 0)
        self.assertLess(time.monotonic() - t0, 1.0)


if __name__ == "__main__":
    confharness.main()
