"""Helpers for the robustness tests (tests/integration/11x_*.py): slow clients, limits,
fault tolerance. Built on harness.py / confharness.py (which stay untouched).

    srv = LServer(CONF, files={...}, rlimit_nofile=None)   # riptide -p TMP -c TMP/riptide.conf
    srv.start(); self.addCleanup(srv.cleanup)

The configuration gets `error_log stderr info; pid TMP/r.pid;` in front (and
`worker_processes N;` if workers= is given); @PORT@ / @TMP@ are replaced as in confharness.
"""

import ctypes
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import confharness  # noqa: E402
from harness import BIN, Conn, ConnectionClosed, build_request, pid_alive, children_of  # noqa: E402,F401

PREAMBLE = "error_log stderr info;\npid @TMP@/r.pid;\n"

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _preexec(nofile):
    def fn():
        try:
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
        except Exception:  # noqa: BLE001
            pass
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    return fn


class LServer(confharness.ConfServer):
    """ConfServer with an error log on stderr, PR_SET_PDEATHSIG, an optional open-files
    limit for the server, and registration with harness's kill-at-exit list."""

    def __init__(self, conf, files=None, workers=None, rlimit_nofile=None):
        pre = PREAMBLE + (f"worker_processes {workers};\n" if workers is not None else "")
        super().__init__(pre + conf, files=files, preamble=False)
        self.rlimit_nofile = rlimit_nofile

    def start(self, timeout=5.0, wait_ports=None):
        confharness.wait_bin()
        last = ""
        for _attempt in range(4):
            self.ports = {}
            self.write_conf()
            if self.errf:
                self.errf.close()
            self.errf = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen([BIN, "-p", self.dir, "-c", self.conf_path],
                                         stdin=subprocess.DEVNULL, stdout=self.errf,
                                         stderr=self.errf, start_new_session=True,
                                         preexec_fn=_preexec(self.rlimit_nofile))
            harness._LIVE.add(self.proc)
            ports = wait_ports if wait_ports is not None else list(self.ports.values())
            deadline = time.monotonic() + timeout
            ok = all(self._wait_port(p, max(0.1, deadline - time.monotonic())) for p in ports)
            if ok and wait_workers(self, timeout=max(0.5, deadline - time.monotonic())):
                return self
            last = self.stderr()
            self.kill()
            if "in use" not in last.lower():
                break
        raise harness.ServerStartError(f"riptide did not start; stderr:\n{last[-3000:]}\nconf:\n{self.render()}")

    def expected_workers(self):
        import re
        m = re.search(r"worker_processes\s+(\d+)", self.render())
        return int(m.group(1)) if m else 1


def wait_workers(srv, timeout=5.0):
    n = srv.expected_workers() if hasattr(srv, "expected_workers") else 1
    return harness.wait_for(lambda: len(srv.worker_pids()) >= n, timeout=timeout)


# --------------------------------------------------------------------------- /proc

def vmrss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def workers_rss_kib(master_pid):
    return sum(vmrss_kib(p) for p in children_of(master_pid))


def cpu_seconds(pid):
    """utime + stime of pid in seconds (from /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    fields = st.rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _tcp_inode(local_port, remote_port):
    """Inode of the loopback TCP socket local_port -> remote_port (/proc/net/tcp), or None."""
    want_l, want_r = f"{local_port:04X}", f"{remote_port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fl = line.split()
                if fl[1].split(":")[1] == want_l and fl[2].split(":")[1] == want_r and fl[9] != "0":
                    return fl[9]
    except OSError:
        pass
    return None


def holds_connection(pid, server_port, client_port):
    """True if process pid has the server side of the connection from client_port open."""
    ino = _tcp_inode(server_port, client_port)
    if ino is None:
        return False
    target = f"socket:[{ino}]"
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return True
            except OSError:
                pass
    except OSError:
        pass
    return False


# --------------------------------------------------------------------------- sockets

def socket_state(sock, timeout=0.0):
    """'open' (nothing to read), 'eof', 'reset' or 'data' (bytes arrived), waiting up to
    timeout seconds. Does not consume more than 64 KiB."""
    r, _, _ = select.select([sock], [], [], timeout)
    if not r:
        return "open"
    try:
        d = sock.recv(65536, socket.MSG_PEEK)
    except ConnectionResetError:
        return "reset"
    except BlockingIOError:
        return "open"
    return "data" if d else "eof"


def read_until_close(sock, timeout, limit=None):
    """Read until EOF/reset or timeout: (bytes, how) with how in eof/reset/timeout."""
    deadline = time.monotonic() + timeout
    out = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(out), "timeout"
        sock.settimeout(left)
        try:
            d = sock.recv(1 << 20)
        except socket.timeout:
            return bytes(out), "timeout"
        except ConnectionResetError:
            return bytes(out), "reset"
        if not d:
            return bytes(out), "eof"
        if limit is None or len(out) < limit:
            out += d


def drain_count(sock, timeout):
    """Read and count bytes until EOF/reset or timeout (without keeping them)."""
    deadline = time.monotonic() + timeout
    n = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return n, "timeout"
        sock.settimeout(left)
        try:
            d = sock.recv(1 << 20)
        except socket.timeout:
            return n, "timeout"
        except ConnectionResetError:
            return n, "reset"
        if not d:
            return n, "eof"
        n += len(d)


def main():
    confharness.wait_bin()
    harness.main()
