#!/usr/bin/env python3
"""nginx_diff: send the same raw requests to nginx and riptide and report every difference.

Both servers run the same configuration (templates in conf/*.conf.in) on their own
loopback port, over the same document root, which this script builds in a temporary
folder.  Every request of the battery (requests.txt) is sent as raw bytes on a fresh
connection to each server; the responses are parsed and compared:

  - status code of every response on the connection (interim 1xx ones included);
  - every header field except Date (Server: presence only; Expires: as an offset
    from Date; the server's own port in Location/bodies is written {PORT}; a
    multipart/byteranges boundary is written {BOUNDARY});
  - the body, byte for byte (when the only difference is "nginx" where riptide says
    "riptide", the difference is reported as cosmetic);
  - whether the server closed (or reset) the connection after its responses.

Usage:
  python3 scripts/nginx_diff/nginx_diff.py [-o REPORT] [--riptide BIN] [--nginx BIN]
         [-k NAME-SUBSTRING] [--jobs N] [--keep] [--dump DIR] [-v]

The exit status is always 0 (the report is the result, also when interrupted); a server
that cannot start is reported as such.  Every server this script starts is stopped when it ends, also on
errors and on SIGINT/SIGTERM.

requests.txt format: a case starts with a line "[conf] name"; the lines after it, up to
the next case or blank line, are joined (without newlines) into the request bytes.
Escapes: \\r \\n \\t \\0 \\xHH \\\\ ; macros: {{REPEAT:text:N}} (text N times; text may
use the escapes), {{PORT}} (the server's own port), {{ETAG:/path}} (the ETag nginx
computes for that file), {{LM:/path}} / {{LM:/path:+N}} (its Last-Modified date,
optionally N seconds later/earlier), {{LM850:/path}}, {{LMASC:/path}} (the same date in
RFC 850 and asctime form), {{PAUSE}} (send what precedes, wait for an answer up to
0.5 s, then send the rest).  Lines starting with '#' are comments.
"""

import argparse
import atexit
import concurrent.futures
import email.utils
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_RIPTIDE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "riptide")
DEFAULT_NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

FIXED_MTIME = 1700000000          # 2023-11-14 22:13:20 GMT, for every file of the root
TOTAL_TIMEOUT = 4.0               # per connection
IDLE_TIMEOUT = 0.6                # after the last byte received
PAUSE_WAIT = 0.5

# headers reported first; every other header is compared too
IMPORTANT = ["content-type", "content-length", "location", "allow", "content-range",
             "accept-ranges", "transfer-encoding", "connection", "last-modified", "etag",
             "expires", "cache-control", "www-authenticate", "keep-alive"]

# --------------------------------------------------------------------------- servers

STARTED = []   # Popen objects of every server started (each leads its own session)


def stop_all():
    for p in STARTED:
        stop_server(p)


def stop_server(p):
    if p.poll() is not None and getattr(p, "_group_done", False):
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    # the workers (children, same process group) may outlive the master for a moment
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.killpg(p.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if p.poll() is None:
        try:
            p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
    p._group_done = True


def _on_signal(signum, frame):
    # stop the servers at once; main()'s finally blocks write the partial report
    stop_all()
    raise KeyboardInterrupt(f"interrupted by signal {signum}")


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_used_ports = set()


def pick_port():
    for port in range(28000, 29000):
        if port not in _used_ports and port_free(port):
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port in 28000-28999")


def wait_port(port, proc, timeout=8.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    def __init__(self, kind, binary, conf_name, template, root, workdir):
        self.kind = kind                      # "nginx" or "riptide"
        self.binary = binary
        self.conf_name = conf_name
        self.port = pick_port()
        self.prefix = os.path.join(workdir, f"{kind}-{conf_name}")
        self.root = root
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        # the default root ("html") of servers that set none, so neither warns
        os.makedirs(os.path.join(self.prefix, "html"), exist_ok=True)
        nginx_http = ""
        if kind == "nginx":
            nginx_http = "\n    ".join(
                f"{d}_temp_path {self.prefix}/tmp/{d};"
                for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        text = (template.replace("@PORT@", str(self.port)).replace("@ROOT@", root)
                .replace("@PREFIX@", self.prefix).replace("@NGINX_HTTP@", nginx_http))
        self.conf = os.path.join(self.prefix, "server.conf")
        with open(self.conf, "w") as f:
            f.write(text)
        self.proc = None
        self.error = None

    def start(self):
        out = open(os.path.join(self.prefix, "stderr.txt"), "wb")
        args = [self.binary, "-p", self.prefix + "/", "-c", self.conf, "-g", "daemon off;"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     start_new_session=True)
        STARTED.append(self.proc)
        out.close()
        if not wait_port(self.port, self.proc):
            with open(os.path.join(self.prefix, "stderr.txt"), "rb") as f:
                self.error = f.read().decode("utf-8", "replace").strip()
            stop_server(self.proc)
            self.error = (f"{self.kind} did not start ({' '.join(args)}): "
                          f"{self.error or 'no output'}")
            return False
        return True

    def stop(self):
        if self.proc is not None:
            stop_server(self.proc)

    def startup_warnings(self):
        try:
            with open(os.path.join(self.prefix, "stderr.txt"), "rb") as f:
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""


# --------------------------------------------------------------------------- doc root

def build_root(workdir):
    """The document root (and a few files beside it), every mtime FIXED_MTIME."""
    root = os.path.join(workdir, "root")
    files = {
        "index.html": b"<html><body><h1>index</h1></body></html>\n",
        "page612.html": None,
        "text.txt": b"plain text file\nsecond line\n",
        "data.bin": bytes(range(256)),
        "big.bin": None,
        "sub/index.html": b"<html><body>sub index</body></html>\n",
        "sub/file.txt": b"file in sub\n",
        "sub/page.html": b"<p>sub page</p>\n",
        "sub/inner/index.html": b"<p>sub inner index</p>\n",
        "nosub/a.txt": b"a in nosub\n",
        "a b%20c%.txt": b"spaces and percents\n",
        "\u00fcn\u00efcode.txt": b"utf-8 name\n",
        ".hidden": b"hidden file\n",
        "IMG.PNG": b"\x89PNG\r\n\x1a\nnot really a png\n",
        "pic.gif": b"GIF89a-ish\n",
        "style.css": b"body { color: red; }\n",
        "data.json": b"{\"a\": 1}\n",
        "README": b"no extension\n",
        "index.php": b"<?php echo 1; ?>\n",
        "secret.txt": b"not readable by nobody\n",
        "noperm/x.txt": b"in a folder nobody cannot enter\n",
        "errors/404.html": b"<html><body>custom 404</body></html>\n",
        "errors/403.html": b"<html><body>custom 403</body></html>\n",
        "int/page.html": b"<html><body>internal page</body></html>\n",
        "vhost1/index.html": b"<html><body>vhost example.com</body></html>\n",
        "alt/rootloc/file.txt": b"file under alt root\n",
        "auto/one.txt": b"1\n",
        "auto/two & <three>.txt": b"22\n",
        "auto/" + "long-name-" * 8 + ".txt": b"333\n",
        "auto/dir/x.txt": b"x\n",
        "tf/exist.txt": b"try_files hit\n",
        "tf/dir/index.html": b"<p>tf dir index</p>\n",
        "tf2/exist.txt": b"tf2 hit\n",
        "ep/exist.txt": b"ep exists\n",
        "dt/a.html": b"<p>dt</p>\n",
        "dt/a.xyz": b"xyz\n",
        "cs/a.html": b"<p>charset</p>\n",
        "cs/a.txt": b"charset text\n",
        "cs/a.bin": b"\x00\x01",
        "deny/a.txt": b"denied\n",
        "allow/a.txt": b"allowed\n",
        "idx2/other.html": b"<p>other index</p>\n",
        "outer/a.txt": b"outer a\n",
    }
    page612 = b"<!DOCTYPE html>\n<html>\n<head>\n<title>Page</title>\n</head>\n<body>\n"
    filler = b"<p>" + b"x" * 60 + b"</p>\n"
    while len(page612) + len(filler) + len(b"</body>\n</html>\n") <= 612:
        page612 += filler
    tail = b"</body>\n</html>\n"
    page612 += b"y" * (612 - len(page612) - len(tail)) + tail
    assert len(page612) == 612
    files["page612.html"] = page612
    big = bytearray()
    x = 12345
    while len(big) < 102400:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        big.append((x >> 16) & 0xFF)
    files["big.bin"] = bytes(big)

    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    with open(os.path.join(workdir, "outside.txt"), "wb") as f:
        f.write(b"outside the root\n")
    os.symlink("text.txt", os.path.join(root, "link.txt"))
    os.symlink("sub", os.path.join(root, "link-dir"))
    os.symlink("../outside.txt", os.path.join(root, "out-link.txt"))
    os.symlink("missing-target.txt", os.path.join(root, "dangling.txt"))

    # everything readable by the workers (user nobody) except the two test cases
    os.chmod(workdir, 0o755)
    for d, dirs, fs in os.walk(root):
        os.chmod(d, 0o755)
        for f in fs:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                os.chmod(p, 0o644)
    os.chmod(os.path.join(workdir, "outside.txt"), 0o644)
    os.chmod(os.path.join(root, "secret.txt"), 0o000)
    os.chmod(os.path.join(root, "noperm"), 0o700)
    for d, dirs, fs in os.walk(workdir, topdown=False):
        for name in fs + dirs:
            os.utime(os.path.join(d, name), (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
        os.utime(d, (FIXED_MTIME, FIXED_MTIME))
    return root


# --------------------------------------------------------------------------- battery

class Case:
    def __init__(self, conf, name, template, lineno):
        self.conf = conf
        self.name = name
        self.template = template
        self.lineno = lineno


def load_battery(path):
    cases = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            m = re.match(r"^\[(\w+)\]\s+(\S+)\s*$", line)
            if m:
                cur = Case(m.group(1), m.group(2), "", lineno)
                cases.append(cur)
                continue
            if not line.strip():
                cur = None
                continue
            if cur is None:
                raise SystemExit(f"{path}:{lineno}: request text outside a case")
            cur.template += line
    names = set()
    for c in cases:
        key = (c.conf, c.name)
        if key in names:
            raise SystemExit(f"{path}:{c.lineno}: duplicate case {c.conf}/{c.name}")
        names.add(key)
    return cases


def unescape(text):
    """The escapes of requests.txt to bytes (the text itself is UTF-8)."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):           # backslash
            n = chr(raw[i + 1])
            if n == "r":
                out += b"\r"; i += 2
            elif n == "n":
                out += b"\n"; i += 2
            elif n == "t":
                out += b"\t"; i += 2
            elif n == "0":
                out += b"\0"; i += 2
            elif n == "\\":
                out += b"\\"; i += 2
            elif n == "x":
                out.append(int(raw[i + 2:i + 4], 16)); i += 4
            else:
                out.append(c); i += 1
        else:
            out.append(c); i += 1
    return bytes(out)


def file_etag(root, rel):
    st = os.stat(os.path.join(root, rel.lstrip("/")))
    return '"%x-%x"' % (int(st.st_mtime), st.st_size)


def http_date(t, form="imf"):
    tm = time.gmtime(t)
    if form == "imf":
        return time.strftime("%a, %d %b %Y %H:%M:%S GMT", tm)
    if form == "850":
        return time.strftime("%A, %d-%b-%y %H:%M:%S GMT", tm)
    return time.strftime("%a %b ", tm) + ("%2d" % tm.tm_mday) + time.strftime(" %H:%M:%S %Y", tm)


def expand(template, root, port):
    """Request bytes for one server, as a list of segments split at {{PAUSE}}."""
    def repl(m):
        body = m.group(1)
        parts = body.split(":")
        kind = parts[0]
        if kind == "PORT":
            return str(port)
        if kind == "PAUSE":
            return "\x00PAUSE\x00"
        if kind == "REPEAT":
            text = ":".join(parts[1:-1])
            return text * int(parts[-1])
        if kind == "ETAG":
            return file_etag(root, parts[1])
        if kind in ("LM", "LM850", "LMASC"):
            st = os.stat(os.path.join(root, parts[1].lstrip("/")))
            t = int(st.st_mtime) + (int(parts[2]) if len(parts) > 2 else 0)
            return http_date(t, {"LM": "imf", "LM850": "850", "LMASC": "asc"}[kind])
        raise SystemExit(f"unknown macro {{{{{body}}}}}")
    text = re.sub(r"\{\{(.*?)\}\}", repl, template)
    return [unescape(seg) for seg in text.split("\x00PAUSE\x00")]


# --------------------------------------------------------------------------- exchange

def exchange(port, segments):
    """Send the segments on one connection; return (bytes received, end state)."""
    data = bytearray()
    state = "open"
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError as e:
        return b"", f"connect error: {e}"
    s.setblocking(False)
    send_error = None

    def read_for(limit, idle):
        nonlocal state
        deadline = time.monotonic() + limit
        last = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            if idle is not None and last is not None and now - last >= idle:
                return
            wait = deadline - now
            if idle is not None and last is not None:
                wait = min(wait, idle - (now - last))
            r, _, _ = select.select([s], [], [], max(wait, 0.001))
            if not r:
                continue
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                state = "reset"
                return
            except BlockingIOError:
                continue
            if not chunk:
                state = "closed"
                return
            data.extend(chunk)
            last = time.monotonic()

    try:
        for i, seg in enumerate(segments):
            if i > 0:
                read_for(PAUSE_WAIT, None)
                if state != "open":
                    break
            view = memoryview(seg)
            deadline = time.monotonic() + TOTAL_TIMEOUT
            while view and time.monotonic() < deadline:
                try:
                    n = s.send(view)
                    view = view[n:]
                except BlockingIOError:
                    # the server does not read: take what it answers meanwhile
                    r, w, _ = select.select([s], [s], [], 0.2)
                    if r:
                        try:
                            chunk = s.recv(65536)
                        except ConnectionResetError:
                            state = "reset"
                            break
                        except BlockingIOError:
                            chunk = None
                        if chunk == b"":
                            state = "closed"
                            break
                        if chunk:
                            data.extend(chunk)
                except (BrokenPipeError, ConnectionResetError) as e:
                    send_error = type(e).__name__
                    break
            if send_error or state != "open":
                break
        if state == "open":
            read_for(TOTAL_TIMEOUT, IDLE_TIMEOUT)
    finally:
        s.close()
    if send_error and state == "open":
        state = "reset"
    if state == "open" and data == b"":
        state = "open (no answer)"
    return bytes(data), state


# --------------------------------------------------------------------------- parsing

def request_methods(raw):
    """Methods of the pipelined requests in raw (to know which answers have no body)."""
    methods = []
    pos = 0
    while pos < len(raw) and len(methods) < 50:
        while raw[pos:pos + 2] == b"\r\n" or raw[pos:pos + 1] == b"\n":
            pos += 2 if raw[pos:pos + 1] == b"\r" else 1
        if pos >= len(raw):
            break
        m = re.match(rb"([^ \t\r\n]*)", raw[pos:])
        methods.append(m.group(1).decode("latin-1"))
        end = raw.find(b"\r\n\r\n", pos)
        end2 = raw.find(b"\n\n", pos)
        if end < 0 and end2 < 0:
            break
        if end < 0 or (0 <= end2 < end):
            head, pos = raw[pos:end2], end2 + 2
        else:
            head, pos = raw[pos:end], end + 4
        cl = re.search(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$", head)
        te = re.search(rb"(?im)^transfer-encoding:[ \t]*chunked", head)
        if te:
            while True:
                eol = raw.find(b"\r\n", pos)
                if eol < 0:
                    return methods
                try:
                    n = int(raw[pos:eol].split(b";")[0], 16)
                except ValueError:
                    return methods
                pos = eol + 2
                if n == 0:
                    e = raw.find(b"\r\n\r\n", pos - 2)
                    pos = e + 4 if e >= 0 else len(raw)
                    break
                pos += n + 2
        elif cl:
            pos += int(cl.group(1))
    return methods


class Response:
    def __init__(self):
        self.status = None        # int, or None for a non-HTTP answer
        self.status_line = ""
        self.headers = []         # (name lower, value)
        self.body = b""
        self.complete = True
        self.note = ""

    def get(self, name):
        return [v for n, v in self.headers if n == name]


def parse_responses(data, methods):
    out = []
    pos = 0
    idx = 0
    while pos < len(data):
        r = Response()
        if not data.startswith(b"HTTP/", pos):
            r.status_line = "(no status line)"
            r.body = data[pos:]
            r.note = "raw bytes (HTTP/0.9-style or garbage)"
            out.append(r)
            break
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            r.status_line = data[pos:pos + 80].split(b"\r\n")[0].decode("latin-1")
            r.complete = False
            r.body = data[pos:]
            r.note = "incomplete head"
            out.append(r)
            break
        head = data[pos:end].decode("latin-1")
        pos = end + 4
        lines = head.split("\r\n")
        r.status_line = lines[0]
        m = re.match(r"HTTP/\d\.\d (\d{3})", lines[0])
        r.status = int(m.group(1)) if m else -1
        for ln in lines[1:]:
            name, _, value = ln.partition(":")
            r.headers.append((name.strip().lower(), value.strip()))
        method = methods[idx] if idx < len(methods) else "GET"
        if 100 <= r.status < 200:
            out.append(r)          # interim: the final answer follows for the same request
            continue
        idx += 1
        te = ",".join(r.get("transfer-encoding")).lower()
        cl = r.get("content-length")
        if method == "HEAD" or r.status in (204, 304):
            pass
        elif "chunked" in te:
            body = bytearray()
            while True:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    r.complete = False
                    break
                try:
                    n = int(data[pos:eol].split(b";")[0], 16)
                except ValueError:
                    r.complete = False
                    r.note = "bad chunk size"
                    break
                pos = eol + 2
                if n == 0:
                    e = data.find(b"\r\n\r\n", pos - 2)
                    pos = e + 4 if e >= 0 else len(data)
                    break
                body += data[pos:pos + n]
                if pos + n + 2 > len(data):
                    r.complete = False
                pos += n + 2
            r.body = bytes(body)
            r.note = "chunked"
        elif cl:
            try:
                n = int(cl[0])
            except ValueError:
                n = len(data) - pos
            r.body = data[pos:pos + n]
            if pos + n > len(data):
                r.complete = False
            pos += n
        else:
            r.body = data[pos:]
            r.note = "close-delimited body"
            pos = len(data)
        out.append(r)
    return out


# --------------------------------------------------------------------------- compare

def parse_date(v):
    try:
        return email.utils.parsedate_to_datetime(v).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def normalize(resp, port):
    """Headers as {name: [values]} and the body, with run-specific parts replaced."""
    hdr = {}
    boundary = None
    date = None
    for n, v in resp.headers:
        if n == "date":
            date = parse_date(v)
    for n, v in resp.headers:
        if n == "date":
            continue
        if n == "server":
            v = "(present)"
        v = v.replace(str(port), "{PORT}")
        if n == "content-type":
            m = re.search(r"boundary=(\S+)", v)
            if m:
                boundary = m.group(1)
                v = v.replace(boundary, "{BOUNDARY}")
        if n == "expires":
            t = parse_date(v)
            if t is not None and date is not None:
                off = int(round(t - date))
                if abs(off) > 86400 * 365:
                    v = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))
                else:
                    v = f"Date{off:+d}s"
        hdr.setdefault(n, []).append(v)
    body = resp.body.replace(str(port).encode(), b"{PORT}")
    if boundary:
        body = body.replace(boundary.encode(), b"{BOUNDARY}")
    return hdr, body


def excerpt(b, limit=300):
    s = repr(b[:limit])[2:-1]
    if len(b) > limit:
        s += f"... ({len(b)} bytes)"
    return s


def compare(nres, nstate, rres, rstate, nport, rport):
    """List of (class, text) differences; class is 'diff' or 'cosmetic'."""
    diffs = []
    if len(nres) != len(rres):
        diffs.append(("diff", f"number of responses: nginx {len(nres)}, riptide {len(rres)}"))
    for i in range(max(len(nres), len(rres))):
        tag = f"response #{i + 1}"
        a = nres[i] if i < len(nres) else None
        b = rres[i] if i < len(rres) else None
        if a is None or b is None:
            one = a or b
            who = "nginx" if a else "riptide"
            diffs.append(("diff", f"{tag}: only {who} sent: {one.status_line!r} "
                                  f"({len(one.body)} body bytes)"))
            continue
        if a.status != b.status or (a.status is None and a.status_line != b.status_line):
            diffs.append(("diff", f"{tag} status: nginx {a.status_line!r}, riptide {b.status_line!r}"))
        elif a.status_line != b.status_line:
            diffs.append(("cosmetic", f"{tag} reason phrase: nginx {a.status_line!r}, "
                                      f"riptide {b.status_line!r}"))
        ha, ba = normalize(a, nport)
        hb, bb = normalize(b, rport)
        names = [n for n in IMPORTANT if n in ha or n in hb]
        names += sorted(n for n in set(ha) | set(hb) if n not in IMPORTANT)
        # the error pages say "nginx" where riptide says "riptide": a body that differs
        # only so, and the Content-Length that follows from it, are cosmetic
        name_only = ba != bb and ba.replace(b"nginx", b"riptide") == bb
        for n in names:
            va, vb = ha.get(n), hb.get(n)
            if va != vb:
                fa = "(absent)" if va is None else " | ".join(repr(x) for x in va)
                fb = "(absent)" if vb is None else " | ".join(repr(x) for x in vb)
                cls = "diff"
                if n == "content-length" and va and vb and len(va) == len(vb) == 1:
                    try:
                        delta = int(vb[0]) - int(va[0])
                    except ValueError:
                        delta = None
                    if name_only and delta == len(bb) - len(ba):
                        cls = "cosmetic"
                    elif (ba == bb == b"" and delta == 2 and a.status == b.status
                          and a.status >= 300 and ha.get("content-type") == ["text/html"]):
                        cls = "cosmetic"   # HEAD of an error page: "nginx" -> "riptide"
                diffs.append((cls, f"{tag} header {n}: nginx {fa}, riptide {fb}"))
        if ba != bb:
            if name_only:
                diffs.append(("cosmetic", f"{tag} body: differs only by the server name "
                                          f"(nginx {len(ba)} bytes, riptide {len(bb)} bytes)"))
            else:
                diffs.append(("diff", f"{tag} body: nginx {len(ba)} bytes: {excerpt(ba)}"))
                diffs.append(("diff", f"{tag} body: riptide {len(bb)} bytes: {excerpt(bb)}"))
        if a.complete != b.complete:
            diffs.append(("diff", f"{tag} complete: nginx {a.complete}, riptide {b.complete}"))
    if nstate != rstate:
        diffs.append(("diff", f"connection after the responses: nginx {nstate}, riptide {rstate}"))
    return diffs


def summary(resps, state):
    if not resps:
        return f"no response; connection {state}"
    parts = []
    for r in resps:
        h = "; ".join(f"{n}: {v}" for n, v in r.headers if n not in ("date",))
        parts.append(f"{r.status_line!r} [{h}] body {len(r.body)} bytes")
    return " / ".join(parts) + f"; connection {state}"


# --------------------------------------------------------------------------- main

def run_case(case, servers, root, dump=None):
    ns, rs = servers["nginx"], servers["riptide"]
    segs_n = expand(case.template, root, ns.port)
    segs_r = expand(case.template, root, rs.port)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        fn = ex.submit(exchange, ns.port, segs_n)
        fr = ex.submit(exchange, rs.port, segs_r)
        ndata, nstate = fn.result()
        rdata, rstate = fr.result()
    req_n = b"".join(segs_n)
    if dump:
        base = os.path.join(dump, f"{case.conf}-{case.name}")
        for suffix, blob in (("request", req_n), ("nginx", ndata), ("riptide", rdata)):
            with open(f"{base}.{suffix}", "wb") as f:
                f.write(blob)
    methods = request_methods(req_n)
    nres = parse_responses(ndata, methods)
    rres = parse_responses(rdata, request_methods(b"".join(segs_r)))
    diffs = compare(nres, nstate, rres, rstate, ns.port, rs.port)
    shown = b"{{PAUSE}}".join(segs_n).replace(str(ns.port).encode(), b"{PORT}")
    return {"case": case, "diffs": diffs, "request": shown,
            "nginx": summary(nres, nstate), "riptide": summary(rres, rstate)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", help="also write the report to this file")
    ap.add_argument("--riptide", default=DEFAULT_RIPTIDE)
    ap.add_argument("--nginx", default=DEFAULT_NGINX)
    ap.add_argument("--battery", default=os.path.join(HERE, "requests.txt"))
    ap.add_argument("-k", "--filter", help="only cases whose conf/name contains this")
    ap.add_argument("--jobs", type=int, default=4, help="cases run at once (default 4)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--dump", metavar="DIR",
                    help="write each case's request and raw answers to DIR/CONF-NAME.*")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show both answers for matching cases too")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    atexit.register(stop_all)

    cases = load_battery(args.battery)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    if args.filter:
        cases = [c for c in cases if args.filter in f"{c.conf}/{c.name}"]
    workdir = tempfile.mkdtemp(prefix="nginx_diff-")
    lines = []

    def emit(s=""):
        lines.append(s)
        print(s, flush=True)

    try:
        root = build_root(workdir)
        emit(f"# nginx_diff: {args.nginx} vs {args.riptide}")
        emit(f"# work folder {workdir}; {len(cases)} requests")
        results = []
        for conf_name in sorted({c.conf for c in cases}):
            tpl_path = os.path.join(HERE, "conf", conf_name + ".conf.in")
            with open(tpl_path) as f:
                template = f.read()
            servers = {k: Server(k, b, conf_name, template, root, workdir)
                       for k, b in (("nginx", args.nginx), ("riptide", args.riptide))}
            ok = True
            for s in servers.values():
                if not s.start():
                    emit(f"# ERROR {s.error}")
                    ok = False
                else:
                    w = s.startup_warnings()
                    emit(f"# {conf_name}: {s.kind} on 127.0.0.1:{s.port}"
                         + (f" (said: {w!r})" if w else ""))
            mine = [c for c in cases if c.conf == conf_name]
            try:
                if not ok:
                    for c in mine:
                        results.append({"case": c, "diffs": [("error", "server did not start")],
                                        "request": b"".join(expand(c.template, root, 0)),
                                        "nginx": "", "riptide": ""})
                    continue
                ex = concurrent.futures.ThreadPoolExecutor(max(1, args.jobs))
                try:
                    futs = [ex.submit(run_case, c, servers, root, args.dump) for c in mine]
                    for fu in futs:
                        results.append(fu.result())
                finally:
                    # on an interruption, drop the cases not started yet
                    ex.shutdown(wait=True, cancel_futures=True)
            finally:
                for s in servers.values():
                    s.stop()

        emit()
        nmatch = ncos = ndiff = 0
        for res in results:
            c = res["case"]
            real = [d for d in res["diffs"] if d[0] != "cosmetic"]
            if not res["diffs"]:
                verdict = "MATCH"
                nmatch += 1
            elif not real:
                verdict = "MATCH*"   # only cosmetic differences
                ncos += 1
            else:
                verdict = "DIFF"
                ndiff += 1
            emit(f"{verdict:<6} {c.conf}/{c.name}")
            if res["diffs"] or args.verbose:
                emit(f"    request: {excerpt(res['request'], 600)}")
                for cls, text in res["diffs"]:
                    emit(f"    [{cls}] {text}")
                emit(f"    nginx:   {res['nginx']}")
                emit(f"    riptide: {res['riptide']}")
        emit()
        emit(f"# {len(results)} requests: {nmatch} MATCH, {ncos} MATCH* (cosmetic "
             f"differences only), {ndiff} DIFF")
    except (Exception, KeyboardInterrupt) as e:  # report; the servers are stopped below
        emit(f"# ERROR {type(e).__name__}: {e}")
    finally:
        stop_all()
        if args.output:
            with open(args.output, "w") as f:
                f.write("\n".join(lines) + "\n")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
