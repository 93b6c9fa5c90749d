"""Access and error logs: combined format, custom log_format variables, access_log off,
buffered logs with flush, reopen (logrotate style), worker crash in the error log."""

import datetime
import os
import re
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confharness  # noqa: E402
from confharness import ConfServer, build_request, read_lines, run_bin, wait_for  # noqa: E402

COMBINED = re.compile(
    r'^127\.0\.0\.1 - - \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
    r'"([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$')

CONF = r"""
worker_processes 2;
http {
    default_type text/plain;
    log_format custom '$status $body_bytes_sent $request_length $host $request_time $time_iso8601';
    log_format seq '$request_uri $status';
    access_log logs/access.log;
    server {
        listen 127.0.0.1:@PORT@;
        root www;
        access_log logs/access.log;
        access_log logs/custom.log custom;
        location /nolog/ { access_log off; return 200 "quiet"; }
        location /ret/ { return 200 "twelve bytes"; }
    }
    server {
        listen 127.0.0.1:@PORT2@;
        root www;
        access_log logs/buffered.log seq buffer=32k flush=1s;
        location /b/ { return 200 "b"; }
    }
    server {
        listen 127.0.0.1:@PORT3@;
        root www;
        access_log logs/rot.log seq;
        location /r/ { return 200 "r"; }
    }
}
"""


class Logs(unittest.TestCase):

    def setUp(self):
        self.srv = ConfServer(CONF, files={"www/index.html": "hello index\n",
                                           "www/file.txt": "0123456789"})
        self.srv.start()
        self.addCleanup(self.srv.cleanup)

    def log(self, name):
        return read_lines(self.srv.path("logs/" + name))

    def wait_lines(self, name, n, timeout=3):
        wait_for(lambda: len(self.log(name)) >= n, timeout)
        return self.log(name)

    # ---------------------------------------------------------------- formats

    def test_combined_format(self):
        before = time.time()
        r = confharness.curl(["-A", "curl/8.test", "-e", "http://ref.example/", "-o", "/dev/null",
                              "-w", "%{http_code}", f"http://127.0.0.1:{self.srv.port}/file.txt?a=b"])
        self.assertEqual(r.stdout, b"200")
        r = confharness.curl(["-o", "/dev/null", f"http://127.0.0.1:{self.srv.port}/missing"])
        lines = self.wait_lines("access.log", 2)
        self.assertEqual(len(lines), 2, lines)
        m = COMBINED.match(lines[0])
        self.assertTrue(m, f"not combined: {lines[0]!r}")
        self.assertEqual(m.group(2), "GET /file.txt?a=b HTTP/1.1")
        self.assertEqual(m.group(3), "200")
        self.assertEqual(m.group(4), "10")
        self.assertEqual(m.group(5), "http://ref.example/")
        self.assertEqual(m.group(6), "curl/8.test")
        t = datetime.datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp()
        self.assertLess(abs(t - before), 5)
        m = COMBINED.match(lines[1])
        self.assertTrue(m, f"not combined: {lines[1]!r}")
        self.assertEqual(m.group(3), "404")
        self.assertEqual(m.group(5), "-")
        self.assertTrue(m.group(6).startswith("curl/"), m.group(6))
        self.assertGreater(int(m.group(4)), 0)

    def test_combined_escapes_quotes(self):
        confharness.curl(["-A", 'evil"agent\\x', "-o", "/dev/null", f"http://127.0.0.1:{self.srv.port}/"])
        lines = self.wait_lines("access.log", 1)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('"evil\\x22agent\\x5Cx"', lines[0])

    def test_custom_format(self):
        body = b"x" * 7
        raw = build_request("/ret/a", host="Log.Example:81", close=True,
                            headers={"Content-Length": "7"}, body=body)
        data, closed = self.srv.raw(raw)
        self.assertIn(b"twelve bytes", data)
        lines = self.wait_lines("custom.log", 1)
        self.assertEqual(len(lines), 1, lines)
        f = lines[0].split(" ")
        self.assertEqual(len(f), 6, lines[0])
        self.assertEqual(f[0], "200")
        self.assertEqual(f[1], "12")
        # request line + headers (+ the body, which `return` never reads: either is fine)
        self.assertIn(f[2], (str(len(raw)), str(len(raw) - len(body))))
        self.assertEqual(f[3], "log.example")
        self.assertRegex(f[4], r"^\d+\.\d{3}$")
        self.assertLess(float(f[4]), 2.0)
        self.assertRegex(f[5], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
        t = datetime.datetime.fromisoformat(f[5]).timestamp()
        self.assertLess(abs(t - time.time()), 5)

    def test_access_log_off_in_location(self):
        self.assertEqual(self.srv.get("/nolog/x").body, b"quiet")
        self.assertEqual(self.srv.get("/file.txt").status, 200)
        lines = self.wait_lines("custom.log", 1)
        time.sleep(0.2)
        lines = self.log("custom.log")
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith("200 10 "), lines)
        self.assertEqual(len(self.log("access.log")), 1)

    def test_buffered_flush(self):
        p2 = self.srv.port2
        for i in range(5):
            self.assertEqual(self.srv.get(f"/b/{i}", port=p2).status, 200)
        t0 = time.monotonic()
        ok = wait_for(lambda: len(self.log("buffered.log")) >= 5, 3.0, 0.05)
        self.assertTrue(ok, self.log("buffered.log"))
        self.assertLess(time.monotonic() - t0, 2.5)
        # two workers, two buffers: order across them is free
        self.assertEqual(sorted(self.log("buffered.log")), sorted(f"/b/{i} 200" for i in range(5)))

    def test_buffered_written_at_graceful_stop(self):
        p2 = self.srv.port2
        for i in range(20):
            self.srv.get(f"/b/{i}", port=p2)
        rc = self.srv.stop(signal.SIGQUIT, timeout=10)
        self.assertEqual(rc, 0)
        lines = self.log("buffered.log")
        self.assertEqual(sorted(lines), sorted(f"/b/{i} 200" for i in range(20)))

    def test_buffered_written_at_fast_stop(self):
        p2 = self.srv.port2
        for i in range(20):
            self.srv.get(f"/b/{i}", port=p2)
        rc = self.srv.stop(signal.SIGTERM, timeout=5)
        self.assertEqual(rc, 0)
        self.assertEqual(len(self.log("buffered.log")), 20)

    # ---------------------------------------------------------------- reopen

    def _reopen_under_load(self, use_cli):
        srv = self.srv
        p3 = srv.port3
        sent = []
        lock = threading.Lock()
        stop = threading.Event()
        errors = []

        def client(k):
            i = 0
            c = None
            while not stop.is_set():
                uri = f"/r/{k}-{i}"
                i += 1
                try:
                    if c is None:
                        c = srv.conn(p3)
                    c.send(build_request(uri))
                    r = c.read_response()
                    if r.status != 200:
                        errors.append((uri, r.status))
                    with lock:
                        sent.append(uri)
                    if i % 10 == 0:
                        c.close()
                        c = None
                except Exception as e:  # noqa: BLE001
                    errors.append((uri, repr(e)))
                    c = None
            if c:
                c.close()

        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            os.rename(srv.path("logs/rot.log"), srv.path("logs/rot.log.1"))
            time.sleep(0.2)   # lines still go to the renamed file until the reopen
            if use_cli:
                r = run_bin(["-p", srv.dir, "-c", srv.conf_path, "-s", "reopen"])
                self.assertEqual(r.returncode, 0, r.stderr.decode())
            else:
                srv.send(signal.SIGUSR1)
            self.assertTrue(wait_for(lambda: os.path.exists(srv.path("logs/rot.log")), 3),
                            "reopen did not create a new log file")
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(5)
        self.assertEqual(errors, [])
        # after the reopen settled, marker requests land in the new file only
        time.sleep(0.3)
        for i in range(10):
            self.assertEqual(srv.get(f"/r/marker-{i}", port=p3).status, 200)
        self.assertEqual(srv.stop(signal.SIGQUIT, timeout=10), 0)
        old = self.log("rot.log.1")
        new = self.log("rot.log")
        line_re = re.compile(r"^/r/[\w-]+ 200$")
        for l in old + new:
            self.assertRegex(l, line_re)           # no cut or merged lines
        self.assertGreater(len(old), 0)
        self.assertGreater(len(new), 10)
        got = [l.split(" ")[0] for l in old + new]
        self.assertEqual(len(got), len(set(got)), "duplicated lines")
        self.assertEqual(sorted(got), sorted(sent + [f"/r/marker-{i}" for i in range(10)]),
                         "lines lost or extra")
        for i in range(10):
            self.assertIn(f"/r/marker-{i} 200", new)
            self.assertNotIn(f"/r/marker-{i} 200", old)

    def test_reopen_sigusr1(self):
        self._reopen_under_load(use_cli=False)

    def test_reopen_cli(self):
        self._reopen_under_load(use_cli=True)

    # ---------------------------------------------------------------- error log

    def test_worker_crash_logged_and_respawned(self):
        srv = self.srv
        self.assertTrue(wait_for(lambda: len(srv.worker_pids()) == 2, 5))
        victim = srv.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: len(srv.worker_pids()) == 2 and victim not in srv.worker_pids(), 5),
                        srv.worker_pids())
        self.assertTrue(wait_for(lambda: str(victim) in srv.error_log(), 3), srv.error_log())
        line = [l for l in srv.error_log().splitlines() if str(victim) in l]
        self.assertTrue(any(re.search(r"signal 9|SIGKILL|killed", l) for l in line), line)
        self.assertRegex(srv.error_log(), r"respawn|started worker")
        # still serving on both workers
        for _ in range(10):
            self.assertEqual(srv.get("/file.txt").status, 200)

    def test_error_log_reopened(self):
        srv = self.srv
        os.rename(srv.path("error.log"), srv.path("error.log.1"))
        srv.send(signal.SIGUSR1)
        self.assertTrue(wait_for(lambda: os.path.exists(srv.path("error.log")), 3))
        victim = srv.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: str(victim) in srv.error_log(), 3), srv.error_log())

    def test_error_log_level_filters(self):
        # info level: the notice "reopening logs" appears; a warn-level server would not log it
        srv = self.srv
        srv.send(signal.SIGUSR1)
        self.assertTrue(wait_for(lambda: "reopen" in srv.error_log(), 3), srv.error_log())

    def test_error_log_level_warn_hides_notices(self):
        srv2 = ConfServer("http { server { listen 127.0.0.1:@PORT@; return 200 \"x\"; } }\n",
                          preamble=False)
        srv2.template = (f"error_log {srv2.dir}/error.log warn;\npid {srv2.dir}/riptide.pid;\n"
                         + srv2.template)
        srv2.start()
        self.addCleanup(srv2.cleanup)
        srv2.send(signal.SIGUSR1)
        time.sleep(0.3)
        self.assertEqual(srv2.get("/").body, b"x")
        self.assertNotIn("[notice]", srv2.error_log())
        self.assertNotIn("reopen", srv2.error_log())


if __name__ == "__main__":
    confharness.main()
