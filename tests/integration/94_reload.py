"""Reload (SIGHUP / -s reload) under continuous load: no failed request, no refused
connection; new config served; worker pids change; an invalid config keeps the old
one serving and is logged; listen addresses added and removed by a reload."""

import importlib
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confharness  # noqa: E402
from confharness import ConfServer, build_request, run_bin, wait_for  # noqa: E402

WORKERS = 2

# @V@ is the version text; @EXTRA_LISTEN@ an optional second listen line
TEMPLATE = r"""
worker_processes 2;
http {
    default_type text/plain;
    access_log off;
    keepalive_timeout 30s;
    server {
        listen 127.0.0.1:@PORT@;
        @EXTRA_LISTEN@
        root www;
        location = /v { return 200 "@V@"; }
        location /static/ { }
    }
}
"""

STATIC = confharness.harness.pattern_bytes(20000)


def conf(version, extra_port=False, broken=False):
    t = TEMPLATE.replace("@V@", version)
    t = t.replace("@EXTRA_LISTEN@", "listen 127.0.0.1:@PORT2@;" if extra_port else "")
    if broken:
        t = t.replace("root www;", "root www;\n        this_is_not_a_directive on;")
    return t


class Load:
    """Threads sending requests continuously: half on a new connection each time,
    half on keep-alive connections. Records every failure."""

    def __init__(self, port, versions, n_fresh=4, n_keepalive=4):
        self.port = port
        self.versions = versions          # allowed bodies for /v (a set, may grow)
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.refused = 0
        self.ka_retries = 0
        self.threads = [threading.Thread(target=self.fresh_loop, args=(i,), daemon=True)
                        for i in range(n_fresh)]
        self.threads += [threading.Thread(target=self.keepalive_loop, args=(i,), daemon=True)
                         for i in range(n_keepalive)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(10)

    def fail(self, what):
        with self.lock:
            if len(self.failures) < 50:
                self.failures.append(what)
            else:
                self.failures.append("...")

    def check(self, path, r):
        if r.status != 200:
            self.fail(f"{path}: status {r.status} {r.body[:100]!r}")
            return False
        if path == "/v":
            if r.body.decode("latin-1") not in self.versions:
                self.fail(f"/v: unexpected body {r.body[:100]!r}")
                return False
        elif r.body != STATIC:
            self.fail(f"{path}: body differs ({len(r.body)} bytes)")
            return False
        with self.lock:
            self.ok += 1
        return True

    def path(self, i):
        return "/v" if i % 2 == 0 else "/static/blob.bin"

    def fresh_loop(self, k):
        i = k
        while not self.stop_ev.is_set():
            i += 1
            path = self.path(i)
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", self.port))
            except ConnectionRefusedError:
                with self.lock:
                    self.refused += 1
                s.close()
                continue
            except OSError as e:
                self.fail(f"connect: {e!r}")
                s.close()
                continue
            c = confharness.Conn(s)
            try:
                c.send(build_request(path, close=True))
                self.check(path, c.read_response())
            except Exception as e:  # noqa: BLE001
                self.fail(f"fresh {path}: {e!r}")
            finally:
                c.close()

    def keepalive_loop(self, k):
        i = k
        c = None
        used = 0
        while not self.stop_ev.is_set():
            i += 1
            path = self.path(i)
            if c is None:
                s = socket.socket()
                s.settimeout(5)
                try:
                    s.connect(("127.0.0.1", self.port))
                except ConnectionRefusedError:
                    with self.lock:
                        self.refused += 1
                    s.close()
                    continue
                except OSError as e:
                    self.fail(f"connect: {e!r}")
                    s.close()
                    continue
                c = confharness.Conn(s)
                used = 0
            try:
                c.send(build_request(path))
                r = c.read_response()
            except (confharness.ConnectionClosed, ConnectionResetError, BrokenPipeError) as e:
                # A reused keep-alive connection closed by the server before any byte of
                # the response (old worker going away) is the usual HTTP race: the client
                # retries on a new connection. On a fresh connection it is a failure.
                nothing = not c.buf
                c.close()
                c = None
                if used > 0 and nothing:
                    with self.lock:
                        self.ka_retries += 1
                    continue
                self.fail(f"keepalive {path} (request {used} on conn): {e!r}")
                continue
            except Exception as e:  # noqa: BLE001
                self.fail(f"keepalive {path}: {e!r}")
                c.close()
                c = None
                continue
            used += 1
            self.check(path, r)
            if r.header("Connection", "").lower() == "close":
                c.close()
                c = None
        if c is not None:
            c.close()


def get_v(port, timeout=3):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    c = confharness.Conn(s)
    try:
        c.send(build_request("/v", close=True))
        return c.read_response().body.decode()
    finally:
        c.close()


def refused(port):
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        # connected: is it served? a socket left in a listen backlog but never
        # accepted would hang here
        try:
            s.sendall(build_request("/v", close=True))
            s.recv(100)
        except OSError:
            pass
        return False


class Reload(unittest.TestCase):

    def setUp(self):
        self.srv = ConfServer(conf("v1"), files={"www/static/blob.bin": STATIC}, workers=None)
        self.srv.start()
        self.addCleanup(self.srv.cleanup)

    def reload(self, template, use_cli=False):
        # the second port must keep its number across rewrites
        self.srv.write_conf(template)
        if use_cli:
            r = run_bin(["-p", self.srv.dir, "-c", self.srv.conf_path, "-s", "reload"])
            self.assertEqual(r.returncode, 0, r.stderr.decode())
        else:
            self.srv.send(signal.SIGHUP)

    def wait_version(self, v, port=None, timeout=8):
        port = port or self.srv.port
        got = wait_for(lambda: self._v(port) == v, timeout, 0.05)
        self.assertTrue(got, f"version {v!r} not served on {port}; last {self._v(port)!r}\n"
                             f"{self.srv.error_log()[-2000:]}")

    def _v(self, port):
        try:
            return get_v(port)
        except OSError:
            return None

    def wait_new_workers(self, old):
        def ok():
            cur = set(self.srv.worker_pids())
            return len(cur) == WORKERS and not (cur & set(old))
        self.assertTrue(wait_for(ok, 8, 0.05),
                        f"workers did not turn over: old {old}, now {self.srv.worker_pids()}")
        # the old workers are gone (not zombies either)
        for p in old:
            self.assertTrue(wait_for(lambda: not confharness.pid_alive(p), 5), p)

    def test_reload_under_load(self):
        srv = self.srv
        self.assertEqual(get_v(srv.port), "v1")
        master = srv.pid
        self.assertTrue(wait_for(lambda: len(srv.worker_pids()) == WORKERS, 5))
        versions = {"v1"}
        load = Load(srv.port, versions)
        load.start()
        try:
            time.sleep(1.0)

            # 1: the text changes
            old = srv.worker_pids()
            versions.add("v2")
            self.reload(conf("v2"))
            self.wait_version("v2")
            self.wait_new_workers(old)
            time.sleep(1.5)

            # 2: add a second listen port (via -s reload)
            old = srv.worker_pids()
            versions.add("v3")
            t = conf("v3", extra_port=True)
            srv.template = t
            text = srv.render()
            self.assertIn(str(srv.port2), text)
            self.reload(t, use_cli=True)
            self.wait_version("v3")
            self.wait_version("v3", port=srv.port2)
            self.wait_new_workers(old)
            time.sleep(1.5)

            # 3: an invalid config: logged, the old one keeps serving, same workers
            old = srv.worker_pids()
            log_before = len(srv.error_log())
            self.reload(conf("v4-broken", extra_port=True, broken=True))
            self.assertTrue(wait_for(lambda: "this_is_not_a_directive" in srv.error_log()[log_before:], 5),
                            srv.error_log()[-2000:])
            err = srv.error_log()[log_before:]
            self.assertRegex(err, re.escape(srv.conf_path) + r":\d+:\d+:")
            time.sleep(1.5)
            self.assertEqual(get_v(srv.port), "v3")
            self.assertEqual(get_v(srv.port2), "v3")
            self.assertEqual(sorted(srv.worker_pids()), sorted(old))

            # 4: a valid config again, without the second port
            versions.add("v5")
            self.reload(conf("v5"))
            self.wait_version("v5")
            self.wait_new_workers(old)
            self.assertTrue(wait_for(lambda: refused(srv.port2), 5),
                            f"removed listen port {srv.port2} still accepts connections")
            time.sleep(1.5)

            # 5: one more
            old = srv.worker_pids()
            versions.add("v6")
            self.reload(conf("v6"))
            self.wait_version("v6")
            self.wait_new_workers(old)
            time.sleep(1.0)
        finally:
            load.stop()

        sys.stderr.write(f"\n[reload] {load.ok} ok, {load.refused} refused, {len(load.failures)} failed, "
                         f"{load.ka_retries} keep-alive connections closed idle by old workers (retried)\n")
        self.assertEqual(srv.pid, master)
        self.assertIsNone(srv.proc.poll(), "master exited")
        self.assertEqual(load.refused, 0, "connections refused during reloads")
        self.assertEqual(load.failures, [], f"failed requests ({load.ok} ok, "
                                            f"{load.ka_retries} keep-alive retries)")
        self.assertGreater(load.ok, 500)
        # That race hits each keep-alive client about once per worker turnover (4 clients,
        # 4 turnovers); twice when its retry reaches an old worker that has not yet taken
        # its SIGQUIT (seen under the sanitizers, where that window is wider). More would
        # mean old workers close connections they should not.
        self.assertLessEqual(load.ka_retries, 4 * 4 * 2)
        srv.check_sanitizers(self)

    def test_reload_applies_deferred_to_the_open_socket(self):
        """`listen ... deferred` added by a reload applies to the listening socket the
        master kept open: the new workers answer a Connection: close request without the
        connection ever entering epoll; removed again, every connection is registered."""
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed")
        wm = importlib.import_module("60_worker_model")
        srv = self.srv
        tmp = tempfile.mkdtemp(prefix="riptide-deferred-")
        self.addCleanup(shutil.rmtree, tmp, True)

        def trace_close_requests(tag):
            traces = []
            for pid in srv.worker_pids():
                st = wm.Strace(pid, os.path.join(tmp, f"{tag}-{pid}.trace"), trace="epoll_ctl,accept4")
                if not st.wait_attached():
                    err = st.err()
                    st.stop()
                    self.skipTest(f"strace cannot attach: {err.strip()}")
                traces.append(st)
            for _ in range(6):
                # Connected first, the request a moment later: a deferred socket hands the
                # connection over only with the request, a plain one at once (then the
                # worker's first read finds nothing and the connection goes into epoll).
                c = srv.conn()
                try:
                    time.sleep(0.2)
                    c.send(build_request("/static/blob.bin", close=True))
                    self.assertEqual(c.read_response().body, STATIC)
                finally:
                    c.close()
                time.sleep(0.1)
            time.sleep(0.2)
            calls = [c for st in traces for c in wm.parse_trace(st.stop()) if c.ret is not None]
            accepted = [c for c in calls if c.name == "accept4" and c.ret >= 0]
            added = [c for c in calls if c.name == "epoll_ctl" and "EPOLL_CTL_ADD" in c.args]
            return len(accepted), len(added)

        deferred = conf("v2").replace("listen 127.0.0.1:@PORT@;", "listen 127.0.0.1:@PORT@ deferred;")
        old = srv.worker_pids()
        self.reload(deferred)
        self.wait_version("v2")
        self.wait_new_workers(old)
        accepted, added = trace_close_requests("on")
        self.assertGreaterEqual(accepted, 6)
        self.assertEqual(added, 0, "deferred added by a reload: connections still went into epoll")

        old = srv.worker_pids()
        self.reload(conf("v3"))
        self.wait_version("v3")
        self.wait_new_workers(old)
        accepted, added = trace_close_requests("off")
        self.assertGreaterEqual(accepted, 6)
        self.assertEqual(added, accepted, "deferred removed by a reload: connections not registered")

    def test_invalid_config_then_restore(self):
        """Without load: the invalid config's error names file:line:col, the master
        keeps running, and a later valid reload works."""
        srv = self.srv
        old = srv.worker_pids()
        self.reload(conf("bad", broken=True))
        self.assertTrue(wait_for(lambda: "this_is_not_a_directive" in srv.error_log(), 5))
        line = next(i for i, l in enumerate(srv.render(conf("bad", broken=True)).splitlines(), 1)
                    if "this_is_not_a_directive" in l)
        self.assertIn(f"{srv.conf_path}:{line}:9:", srv.error_log())
        self.assertEqual(get_v(srv.port), "v1")
        self.assertIsNone(srv.proc.poll())
        self.assertEqual(sorted(srv.worker_pids()), sorted(old))
        self.reload(conf("good"))
        self.wait_version("good")

    def test_idle_keepalive_closed_by_old_worker(self):
        """An idle keep-alive connection on an old worker is closed after a reload (as
        nginx does), so the old worker can exit; it never answers with the old config
        after the new one is in place."""
        srv = self.srv
        c = srv.conn()
        try:
            c.send(build_request("/v"))
            self.assertEqual(c.read_response().body, b"v1")
            old = srv.worker_pids()
            self.reload(conf("v2"))
            self.wait_version("v2")
            self.assertTrue(c.is_closed(5.0), "idle keep-alive connection left open by the old worker")
            self.wait_new_workers(old)
        finally:
            c.close()

    def test_reload_keeps_idle_keepalive_clients_served(self):
        """An in-flight request on an old worker completes with the old answer; the
        connection is then closed (or keeps working) but never answers wrongly."""
        srv = self.srv
        c = srv.conn()
        try:
            c.send(build_request("/v"))
            self.assertEqual(c.read_response().body, b"v1")
            # a large response in flight while the reload happens
            c.send(build_request("/static/blob.bin"))
            self.reload(conf("v2"))
            r = c.read_response()
            self.assertEqual(r.body, STATIC)
        finally:
            c.close()
        self.wait_version("v2")


if __name__ == "__main__":
    confharness.main()
