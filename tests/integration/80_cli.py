"""The command line: --help, --version, bad flags, listen addresses, --root."""

import os
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BIN = harness.BIN


def run(args, timeout=5):
    """Run the binary expecting it to exit by itself; kills its group on timeout."""
    p = harness.popen_riptide([BIN] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.communicate()
        raise AssertionError(f"riptide {args} did not exit within {timeout}s")
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


class Cli(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.TempDir()
        cls.root = harness.DocRoot(cls.tmp)
        cls.root.file("index.html", "<p>cli</p>\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def assertCleanError(self, args, *needles):
        rc, out, err = run(args)
        self.assertNotEqual(rc, 0, f"{args}: exit 0\n{out}{err}")
        self.assertLess(rc, 128, f"{args}: killed by a signal? rc={rc}")
        lines = [l for l in err.splitlines() if l.strip()]
        self.assertTrue(lines, f"{args}: nothing on stderr")
        self.assertTrue(any(l.startswith("riptide: ") or "[emerg]" in l or "error" in l.lower()
                            or any(n in l for n in needles) for l in lines),
                        f"{args}: stderr {err!r}")
        self.assertLessEqual(len(lines), 3, f"{args}: expected one clear line, got {err!r}")
        for n in needles:
            self.assertIn(n, err, args)
        for m in harness.SANITIZER_MARKERS:
            self.assertNotIn(m, err)
        return err

    def test_help(self):
        for flag in ("--help", "-h"):
            rc, out, err = run([flag])
            self.assertEqual(rc, 0, err)
            text = out + err
            self.assertIn("Usage", text)
            for opt in ("--root", "--listen", "--workers", "--accept", "--pid", "--version"):
                self.assertIn(opt, text, opt)

    def test_version(self):
        for flag in ("--version", "-v"):
            rc, out, err = run([flag])
            self.assertEqual(rc, 0, err)
            self.assertRegex(out + err, r"riptide.*\d+\.\d+\.\d+")

    def test_unknown_flag(self):
        err = self.assertCleanError(["--bogus"], "--bogus")
        self.assertEqual(len([l for l in err.splitlines() if l.strip()]), 1, err)

    def test_missing_argument(self):
        for flag in ("--root", "--listen", "--workers", "--pid", "--accept"):
            self.assertCleanError([flag])

    def test_bad_workers(self):
        for v in ("0", "x", "-1", "1x", ""):
            self.assertCleanError(["--root", self.root.path, "--listen",
                                   f"127.0.0.1:{harness.free_port()}", "--workers", v])

    def test_bad_accept_mode(self):
        self.assertCleanError(["--root", self.root.path, "--accept", "sometimes"])

    def test_address_in_use(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            err = self.assertCleanError(["--root", self.root.path, "--workers", "1",
                                         "--listen", f"127.0.0.1:{port}"])
            self.assertIn("Address already in use", err)

    def test_invalid_listen(self):
        for a in ("nonsense", "127.0.0.1:99999", "127.0.0.1:", "300.1.1.1:8080",
                  "[::1:8080", "127.0.0.1:-1", "127.0.0.1:80x"):
            self.assertCleanError(["--root", self.root.path, "--workers", "1", "--listen", a])

    def test_nonexistent_root(self):
        self.assertCleanError(["--root", os.path.join(self.tmp.path, "nope"), "--workers", "1",
                               "--listen", f"127.0.0.1:{harness.free_port()}"])

    def test_root_is_a_file(self):
        self.assertCleanError(["--root", self.root.abspath("index.html"), "--workers", "1",
                               "--listen", f"127.0.0.1:{harness.free_port()}"])

    def test_ready_message(self):
        s = harness.Server(self.root.path, workers=1, tmp=self.tmp)
        self.addCleanup(s.stop, check=False)
        s.start()
        ok = harness.wait_for(lambda: "[notice]" in s.stderr() and f":{s.port}" in s.stderr(), 2)
        self.assertTrue(ok, s.stderr())
        self.assertIn(f"http://127.0.0.1:{s.port}", s.stderr())
        s.stop()

    def test_ipv6(self):
        if not harness.ipv6_available():
            self.skipTest("::1 is not available")
        port = harness.free_port("::1")
        s = harness.Server(self.root.path, workers=1, listen=[f"[::1]:{port}"], tmp=self.tmp)
        self.addCleanup(s.stop, check=False)
        s.start()
        self.assertEqual(s.host, "::1")
        r = s.get("/index.html")
        self.assertEqual((r.status, r.body), (200, b"<p>cli</p>\n"))
        p = harness.curl(["-g", "-o", "-", f"http://[::1]:{port}/index.html"])
        self.assertEqual(p.stdout, b"<p>cli</p>\n", p.stderr)
        # redirects name the host the client used
        self.root.dir("d6")
        self.root.file("d6/index.html", "six\n")
        r = s.get("/d6")
        self.assertEqual(r.status, 301)
        self.assertIn("/d6/", r.header("Location", ""))
        s.stop()

    def test_two_listen_addresses(self):
        p1, p2 = harness.free_port(), harness.free_port()
        while p2 == p1:
            p2 = harness.free_port()
        s = harness.Server(self.root.path, workers=2,
                           listen=[f"127.0.0.1:{p1}", f"127.0.0.1:{p2}"], tmp=self.tmp)
        self.addCleanup(s.stop, check=False)
        s.start()
        for port in (p1, p2):
            self.assertTrue(harness.wait_port("127.0.0.1", port))
            for _ in range(4):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    c = harness.Conn(sock)
                    c.send(harness.build_request("/index.html", close=True))
                    r = c.read_response()
                    self.assertEqual((r.status, r.body), (200, b"<p>cli</p>\n"), port)
        s.stop()

    def test_accept_exclusive(self):
        s = harness.Server(self.root.path, workers=2, extra=["--accept", "exclusive"], tmp=self.tmp)
        self.addCleanup(s.stop, check=False)
        s.start()
        for _ in range(10):
            r = s.get("/index.html")
            self.assertEqual(r.status, 200)
        s.stop()

    def test_workers_auto(self):
        s = harness.Server(self.root.path, workers="auto", tmp=self.tmp)
        self.addCleanup(s.stop, check=False)
        s.start()
        n = os.cpu_count()
        self.assertTrue(harness.wait_for(lambda: len(s.worker_pids()) == n, 3),
                        f"{s.worker_pids()} workers, {n} CPUs")
        self.assertEqual(s.get("/index.html").status, 200)
        s.stop()

    def test_default_root_relative(self):
        # --root given as a relative path is resolved against the working directory
        p = harness.popen_riptide([BIN, "--root", "www", "--workers", "1", "--listen",
                              f"127.0.0.1:{harness.free_port()}"], cwd=self.tmp.path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            # it must either serve or fail cleanly -- not crash
            try:
                p.wait(timeout=0.5)
                self.assertLess(p.returncode, 128)
            except subprocess.TimeoutExpired:
                pass
        finally:
            if p.poll() is None:
                os.killpg(p.pid, 15)
                p.wait(timeout=5)
            p.stderr.close()


if __name__ == "__main__":
    harness.main()
