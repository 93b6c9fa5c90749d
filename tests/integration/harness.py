"""Shared helpers for riptide's integration tests (nginx-tests' Test::Nginx in small).

Every test file starts the real binary on a free loopback port with a temporary
document root, talks to it with raw sockets / http.client / curl, and stops it.

Environment:
  RIPTIDE_BIN       the server binary (default: <repo>/build/riptide)
  RIPTIDE_SOURCE    the repository root (default: two levels above this file)
  RIPTIDE_TEST_KEEP=1  keep the temporary directory (document root, server stderr)
"""

import atexit
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("RIPTIDE_SOURCE") or os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("RIPTIDE_BIN") or os.path.join(SOURCE, "build", "riptide")
KEEP = os.environ.get("RIPTIDE_TEST_KEEP") == "1"

SANITIZER_MARKERS = ("AddressSanitizer", "runtime error", "LeakSanitizer")

IMF_FIXDATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{4} \d\d:\d\d:\d\d GMT$")

DEFAULT_TIMEOUT = 5.0


# --------------------------------------------------------------------------- files

class TempDir:
    """A temporary directory removed at cleanup unless RIPTIDE_TEST_KEEP=1."""

    def __init__(self, prefix="riptide-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        _TEMPDIRS.add(self)

    def cleanup(self):
        _TEMPDIRS.discard(self)
        if KEEP:
            sys.stderr.write(f"\n[harness] keeping {self.path}\n")
            return
        # chmod 000 files/dirs must become removable again
        for dirpath, dirnames, filenames in os.walk(self.path):
            for n in dirnames + filenames:
                p = os.path.join(dirpath, n)
                if not os.path.islink(p):
                    try:
                        os.chmod(p, 0o755)
                    except OSError:
                        pass
        shutil.rmtree(self.path, ignore_errors=True)


class DocRoot:
    """Builds a document root inside a TempDir: root = <tmp>/www, so files can be placed
    next to the root (<tmp>/secret.txt) to test that nothing outside is served."""

    def __init__(self, tmp, name="www"):
        self.tmp = tmp
        self.path = os.path.join(tmp.path, name)
        os.makedirs(self.path, exist_ok=True)

    def file(self, rel, data, mode=None):
        """Create file `rel` (str or bytes data); returns the bytes written."""
        if isinstance(data, str):
            data = data.encode()
        p = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(p, mode)
        return data

    def dir(self, rel):
        p = os.path.join(self.path, rel)
        os.makedirs(p, exist_ok=True)
        return p

    def symlink(self, rel, target):
        p = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)
        return p

    def outside(self, rel, data):
        """Create a file next to the root (outside it)."""
        if isinstance(data, str):
            data = data.encode()
        p = os.path.join(self.tmp.path, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def abspath(self, rel):
        return os.path.join(self.path, rel)


def pattern_bytes(n, seed=0):
    """Deterministic, non-repeating-looking content of n bytes (detects shifted ranges)."""
    out = bytearray()
    i = seed
    while len(out) < n:
        out += (b"%08x|" % ((i * 2654435761) & 0xFFFFFFFF))
        i += 1
    return bytes(out[:n])


# --------------------------------------------------------------------------- ports

_LIVE = set()       # Popen objects of servers started and not yet reaped
_TEMPDIRS = set()   # TempDirs not yet cleaned up


def _kill_live_groups():
    for p in list(_LIVE):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _on_sigterm(signum, frame):
    # ctest / timeout(1) stop us with SIGTERM: take the servers down too
    _kill_live_groups()
    for t in list(_TEMPDIRS):
        t.cleanup()
    sys.stderr.write(f"\n[harness] killed by signal {signum}\n")
    os._exit(128 + signum)


atexit.register(_kill_live_groups)
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _on_sigterm)


def _die_with_parent():
    # in the child before exec: the master gets SIGKILL if the test process dies
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


def popen_riptide(argv, **kw):
    """subprocess.Popen for the server binary, waiting (up to 90 s) while it is being
    rebuilt: missing, not yet executable or 'text file busy'."""
    deadline = time.monotonic() + 90
    while True:
        try:
            p = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kw)
            _LIVE.add(p)
            return p
        except OSError as e:
            if time.monotonic() > deadline or e.errno not in (2, 13, 26):  # ENOENT EACCES ETXTBSY
                raise
            sys.stderr.write(f"[harness] {argv[0]}: {e.strerror}; waiting for the build\n")
            time.sleep(2)


def free_port(host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def wait_port(host, port, timeout=DEFAULT_TIMEOUT):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return True
        except OSError:
            time.sleep(0.02)
    return False


# --------------------------------------------------------------------------- processes

def children_of(pid):
    """Direct child pids of `pid` (via /proc/<pid>/task/*/children)."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return sorted(set(kids))


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return False
    state = st.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def wait_for(pred, timeout=DEFAULT_TIMEOUT, interval=0.02):
    """Poll pred() until truthy or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    v = pred()
    while not v and time.monotonic() < deadline:
        time.sleep(interval)
        v = pred()
    return v


class ServerStartError(Exception):
    pass


class Server:
    """The riptide binary as a subprocess in its own session (process group).

    Server(root, workers=1, listen=None, extra=[]) ; .start() ; .stop()
    `listen` is a list of "ADDR:PORT"; if None a free 127.0.0.1 port is picked
    (retrying on a few ports if the bind races)."""

    def __init__(self, root, workers=1, listen=None, extra=(), tmp=None, env=None):
        self.root = root
        self.workers = workers
        self.listen = list(listen) if listen else None
        self.extra = list(extra)
        self.env = env
        self.own_tmp = tmp is None
        self.tmp = tmp or TempDir("riptide-srv-")
        self.proc = None
        self.stderr_path = None
        self.host = "127.0.0.1"
        self.port = None
        self.checked = False

    # -- start / stop

    def argv(self, listen):
        a = [BIN, "--root", self.root]
        for l in listen:
            a += ["--listen", l]
        if self.workers is not None:
            a += ["--workers", str(self.workers)]
        return a + self.extra

    def start(self, timeout=DEFAULT_TIMEOUT):
        attempts = 1 if self.listen else 5
        last = ""
        for attempt in range(attempts):
            listen = self.listen or [f"127.0.0.1:{free_port()}"]
            self.stderr_path = os.path.join(self.tmp.path, f"server-{os.getpid()}-{attempt}-{time.monotonic_ns()}.err")
            errf = open(self.stderr_path, "wb")
            try:
                self.proc = popen_riptide(self.argv(listen), stdin=subprocess.DEVNULL,
                                             stdout=errf, stderr=errf,
                                             start_new_session=True, env=self.env)
            finally:
                errf.close()
            first = listen[0]
            host, port = first.rsplit(":", 1)
            host = host.strip("[]")
            if host in ("*", ""):
                host = "127.0.0.1"
            self.host, self.port = host, int(port)
            self.listen_used = listen
            if self._wait_ready(timeout):
                return self
            last = self.stderr()
            self._kill_group()
            if "in use" not in last:
                break
        raise ServerStartError(f"riptide did not start ({self.argv(listen)}):\n{last}")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.socket(fam, socket.SOCK_STREAM) as s:
                    s.settimeout(0.5)
                    s.connect((self.host, self.port))
                if not str(self.workers).isdigit() or len(self.worker_pids()) >= int(self.workers):
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def _kill_group(self):
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

    def stop(self, sig=signal.SIGTERM, timeout=5.0, check=True):
        """Stop the server (signal to the master, then SIGKILL the group if it lingers).
        Returns the master's exit status. Asserts no sanitizer report in stderr."""
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None:
            rc = self.proc.poll()
        # whatever is left in the group (workers) goes too
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self.proc.poll() is None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if check and not self.checked:
            self.checked = True
            self.check_stderr()
        return rc

    def cleanup(self):
        """For addCleanup: stop (without raising) and remove our temp dir."""
        try:
            self.stop(check=False)
        finally:
            if self.own_tmp:
                self.tmp.cleanup()

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def check_stderr(self):
        err = self.stderr()
        for m in SANITIZER_MARKERS:
            if m in err:
                raise AssertionError(f"sanitizer report in server stderr:\n{err[-4000:]}")

    # -- introspection

    @property
    def pid(self):
        return self.proc.pid

    def worker_pids(self):
        return [p for p in children_of(self.proc.pid) if pid_alive(p)]

    def url(self, path="/"):
        h = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{h}:{self.port}{path}"

    # -- clients

    def connect(self, timeout=DEFAULT_TIMEOUT):
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((self.host, self.port))
        except OSError:
            s.close()
            raise
        return s

    def conn(self, timeout=DEFAULT_TIMEOUT):
        return Conn(self.connect(timeout))

    def request(self, raw, timeout=DEFAULT_TIMEOUT, head=False):
        """One request on a fresh connection; returns the parsed Response."""
        c = self.conn(timeout)
        try:
            c.send(raw)
            return c.read_response(head=head)
        finally:
            c.close()

    def get(self, path, headers=None, method="GET", version="HTTP/1.1", close=True):
        """Build and send a simple request on a fresh connection."""
        return self.request(build_request(path, headers, method, version,
                                          host=f"127.0.0.1:{self.port}", close=close),
                            head=(method == "HEAD"))


# --------------------------------------------------------------------------- raw HTTP

def build_request(path, headers=None, method="GET", version="HTTP/1.1", host="localhost",
                  close=False, body=b""):
    lines = [f"{method} {path} {version}"]
    hdrs = dict(headers or {})
    if host is not None and not any(k.lower() == "host" for k in hdrs):
        lines.append(f"Host: {host}")
    for k, v in hdrs.items():
        lines.append(f"{k}: {v}")
    if close and not any(k.lower() == "connection" for k in hdrs):
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value) in order
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def __repr__(self):
        return f"<Response {self.status} {self.reason} {self.headers} body={self.body[:200]!r}>"


class ConnectionClosed(Exception):
    pass


class Conn:
    """A raw client connection with a tiny HTTP/1.1 response reader."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False
        self.reset = False   # the end was a RST (ECONNRESET), not a FIN

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def send_slowly(self, data, delay=0.001, chunk=1):
        for i in range(0, len(data), chunk):
            self.sock.sendall(data[i:i + chunk])
            time.sleep(delay)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        if self.eof:
            return False
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            d = b""
            self.reset = True
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _read_until(self, marker):
        while marker not in self.buf:
            if not self._fill():
                how = "reset" if self.reset else "closed"
                raise ConnectionClosed(f"{how} before {marker!r}; have {self.buf[:300]!r}")
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                how = "reset" if self.reset else "closed"
                raise ConnectionClosed(f"{how} after {len(self.buf)} of {n} body bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, head=False):
        """Read one response. head=True: the request was HEAD (no body whatever the
        headers say). Handles Content-Length, chunked and read-until-close bodies;
        1xx responses are returned as they are (call again for the final one)."""
        raw = self._read_until(b"\r\n\r\n")
        lines = raw[:-4].decode("latin-1").split("\r\n")
        m = re.match(r"^(HTTP/\d\.\d) (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise AssertionError(f"bad status line {lines[0]!r}")
        version, status, reason = m.group(1), int(m.group(2)), m.group(3)
        headers = []
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers.append((k, v.strip()))
        resp = Response(version, status, reason, headers, b"", raw)
        if head or status in (204, 304) or 100 <= status < 200:
            return resp
        te = resp.header("Transfer-Encoding")
        cl = resp.header("Content-Length")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                line = self._read_until(b"\r\n")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    self._read_until(b"\r\n")  # no trailers expected
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = body
        elif cl is not None:
            resp.body = self._read_exact(int(cl))
        else:
            while self._fill():
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def read_responses(self, n, heads=()):
        """Exactly n responses (pipelining); heads = indexes of HEAD requests."""
        return [self.read_response(head=(i in heads)) for i in range(n)]

    def is_closed(self, timeout=2.0):
        """True if the server closed the connection (EOF or reset) within timeout with
        no further bytes. Returns False if still open; raises if bytes arrive."""
        if self.buf:
            raise AssertionError(f"unexpected buffered bytes {self.buf[:200]!r}")
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        if d:
            raise AssertionError(f"unexpected bytes after response: {d[:300]!r}")
        return True

    def read_all_until_close(self, timeout=3.0):
        """Everything until EOF (or timeout); returns (bytes, closed)."""
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return data, True
                data += d
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True


def parse_responses(data):
    """Parse all complete responses in `data` (for read-until-close use)."""
    class _Sock:
        def __init__(self):
            self.d = data
        def recv(self, n):
            out, self.d = self.d[:n], self.d[n:]
            return out
        def settimeout(self, t):
            pass
    c = Conn(_Sock())
    out = []
    while True:
        try:
            out.append(c.read_response())
        except ConnectionClosed:
            break
        if not c.buf and c.eof:
            break
    return out


def curl(args, timeout=30):
    """Run curl; returns CompletedProcess (stdout bytes)."""
    return subprocess.run(["curl", "-sS", "--max-time", str(int(timeout))] + list(args),
                          capture_output=True, timeout=timeout + 5)


# --------------------------------------------------------------------------- test base

class ServerTestCase(unittest.TestCase):
    """One server per test class: subclasses override build_root(docroot) and may set
    WORKERS. self.server, self.root (DocRoot) are available in tests."""

    WORKERS = 1
    EXTRA = ()

    @classmethod
    def build_root(cls, root):
        root.file("index.html", "<html>index</html>\n")

    @classmethod
    def setUpClass(cls):
        cls.tmp = TempDir()
        try:
            cls.root = DocRoot(cls.tmp)
            cls.build_root(cls.root)
            cls.server = Server(cls.root.path, workers=cls.WORKERS, extra=cls.EXTRA, tmp=cls.tmp)
            cls.server.start()
        except BaseException:
            if getattr(cls, "server", None):
                cls.server.stop(check=False)
            cls.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.tmp.cleanup()

    # shortcuts
    def req(self, raw, head=False, timeout=DEFAULT_TIMEOUT):
        return self.server.request(raw, head=head, timeout=timeout)

    def get(self, path, headers=None, method="GET", version="HTTP/1.1"):
        return self.server.get(path, headers, method, version)

    def assertServerAlive(self):
        r = self.get("/index.html")
        self.assertEqual(r.status, 200)


def main():
    unittest.main(verbosity=2)
