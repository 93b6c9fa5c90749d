"""Helpers for the configuration-driven integration tests (tests/integration/9x_*.py).

harness.Server runs riptide with the quick-start flags; these tests run it the nginx
way: `riptide -p PREFIX -c PREFIX/riptide.conf`. A config is written from a template
in which @PORT@, @PORT2@, @PORT3@ ... are replaced by free loopback ports and @TMP@ by
the prefix folder (str.replace, so nginx braces need no escaping).

    srv = ConfServer(CONF, files={"www/index.html": "hi"})
    srv.start(); self.addCleanup(srv.cleanup)
    r = srv.get("/x", host="a.example.com")
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BIN, SOURCE, TempDir, free_port, wait_port, wait_for, pid_alive, children_of  # noqa: E402,F401
from harness import Conn, ConnectionClosed, build_request  # noqa: E402,F401

MAIN_PREAMBLE = """\
error_log @TMP@/error.log info;
pid @TMP@/riptide.pid;
"""

PORT_TOKENS = [f"@PORT{i}@" for i in range(9, 1, -1)] + ["@PORT@"]


def run_bin(args, timeout=10, cwd=None):
    """Run the riptide binary to completion (for -t, -T, -v, -s ...)."""
    return subprocess.run([BIN] + list(args), capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)


def wait_bin(timeout=90):
    """The lead rebuilds the binary now and then: wait until it exists."""
    deadline = time.monotonic() + timeout
    while not os.access(BIN, os.X_OK) and time.monotonic() < deadline:
        time.sleep(1)


class ConfServer:
    """riptide started with -p TMP -c TMP/riptide.conf, in its own session."""

    def __init__(self, conf, files=None, tmp=None, preamble=True, workers=None, nports=None):
        self.template = conf
        self.files = files or {}
        self.own_tmp = tmp is None
        self.tmp = tmp or TempDir("riptide-conf-")
        self.dir = self.tmp.path
        self.preamble = preamble
        self.workers = workers
        self.proc = None
        self.ports = {}
        self.errf = None
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        self.conf_path = os.path.join(self.dir, "riptide.conf")
        if nports is None:
            nports = 1 + max([i for i in range(2, 10) if f"@PORT{i}@" in conf] or [1])
        self.nports = nports
        # like an nginx install: the default access log goes to PREFIX/logs/access.log
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        for rel, data in self.files.items():
            self.write(rel, data)

    # -- files

    def path(self, rel):
        return os.path.join(self.dir, rel)

    def write(self, rel, data, mode=None):
        if isinstance(data, str):
            data = data.encode()
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(p, mode)
        return p

    def read(self, rel):
        try:
            with open(self.path(rel), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def copy_mime_types(self):
        shutil.copy(os.path.join(SOURCE, "conf", "mime.types"), self.path("mime.types"))

    def render(self, template=None):
        t = self.template if template is None else template
        if self.preamble:
            pre = MAIN_PREAMBLE
            if self.workers is not None:
                pre += f"worker_processes {self.workers};\n"
            t = pre + t
        for tok in PORT_TOKENS:
            key = tok.strip("@")
            if tok in t:
                if key not in self.ports:
                    self.ports[key] = free_port()
                t = t.replace(tok, str(self.ports[key]))
        return t.replace("@TMP@", self.dir)

    def write_conf(self, template=None):
        """(Re)write riptide.conf from `template` (default: the constructor's)."""
        if template is not None:
            self.template = template
        text = self.render()
        with open(self.conf_path, "w") as f:
            f.write(text)
        return text

    @property
    def port(self):
        return self.ports.get("PORT")

    @property
    def port2(self):
        return self.ports.get("PORT2")

    def __getattr__(self, name):
        # port2 ... port9
        m = re.fullmatch(r"port(\d)", name)
        if m:
            return self.__dict__.get("ports", {}).get(f"PORT{m.group(1)}")
        raise AttributeError(name)

    # -- process

    def start(self, timeout=5.0, wait_ports=None):
        wait_bin()
        last = ""
        for attempt in range(4):
            self.ports = {}
            self.write_conf()
            self.errf = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen([BIN, "-p", self.dir, "-c", self.conf_path],
                                         stdin=subprocess.DEVNULL, stdout=self.errf,
                                         stderr=self.errf, start_new_session=True)
            ports = wait_ports if wait_ports is not None else list(self.ports.values())
            deadline = time.monotonic() + timeout
            ok = True
            for p in ports:
                left = max(0.1, deadline - time.monotonic())
                if not self._wait_port(p, left):
                    ok = False
                    break
            if ok:
                return self
            last = self.stderr()
            self.kill()
            if "in use" not in last.lower() and "eaddrinuse" not in last.lower():
                break
        raise harness.ServerStartError(f"riptide did not start; stderr:\n{last[-3000:]}\nconf:\n{self.render()}")

    def _wait_port(self, port, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if wait_port("127.0.0.1", port, timeout=0.2):
                return True
        return False

    @property
    def pid(self):
        return self.proc.pid

    def worker_pids(self):
        return [p for p in children_of(self.proc.pid) if pid_alive(p)]

    def send(self, sig):
        os.kill(self.proc.pid, sig)

    def kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None:
            rc = self.proc.poll()
        self.kill()
        return rc

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self.errf:
                self.errf.close()
            if self.own_tmp:
                self.tmp.cleanup()

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def error_log(self):
        return self.read("error.log")

    def check_sanitizers(self, testcase):
        text = self.stderr() + self.error_log()
        for m in harness.SANITIZER_MARKERS:
            testcase.assertNotIn(m, text)

    # -- clients

    def connect(self, port=None, timeout=harness.DEFAULT_TIMEOUT):
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(("127.0.0.1", port or self.port))
        return s

    def conn(self, port=None, timeout=harness.DEFAULT_TIMEOUT):
        return Conn(self.connect(port, timeout))

    def get(self, path, host=None, port=None, headers=None, method="GET", close=True, body=b"",
            timeout=harness.DEFAULT_TIMEOUT):
        """One request on a fresh connection; returns harness.Response."""
        port = port or self.port
        if host is None:
            host = f"127.0.0.1:{port}"
        raw = build_request(path, headers, method, host=host, close=close, body=body)
        c = self.conn(port, timeout)
        try:
            c.send(raw)
            return c.read_response(head=(method == "HEAD"))
        finally:
            c.close()

    def raw(self, data, port=None, timeout=3.0):
        """Send raw bytes, return everything until the server closes: (bytes, closed)."""
        c = self.conn(port, timeout)
        try:
            c.send(data)
            return c.read_all_until_close(timeout)
        finally:
            c.close()


def curl(args, timeout=20):
    return harness.curl(args, timeout=timeout)


def read_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []


def main():
    wait_bin()
    harness.main()
