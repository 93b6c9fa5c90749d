"""Upstream servers for the reverse-proxy integration tests (tests/integration/10x_proxy_*.py).

    HTTPBackend(name)        an HTTP/1.1 keep-alive server (ThreadingHTTPServer) that records
                             every request it receives and answers according to the path
    RawBackend(mode)         a TCP server that misbehaves: "close" / "reset" after reading the
                             request, "hang" (never answers)
    WebSocketBackend()       an RFC 6455 echo server
    ProxyServer(conf, ...)   riptide with a proxy config (confharness.ConfServer, 1 worker)

Every backend binds 127.0.0.1:0 (or a port it is given, to restart on the same one), runs in
daemon threads, and is stopped by stop() (registered with addCleanup by the tests).

HTTPBackend paths (the query string is ignored for routing, kept in the record):
    /echo...                200, body = the request body; X-Body-Len, X-Body-CRC, X-Req-Chunked
    /status/NNN             status NNN ("status NNN body"; none for 204/304; 301/302 → Location)
    /data/cl/N              N pattern bytes, Content-Length
    /data/chunked/N         N pattern bytes, chunked with varied chunk sizes
    /data/close/N           N pattern bytes, HTTP/1.0 style: no length, then close
    /hop                    a response with hop-by-hop headers (must not reach the client)
    /cookies                two Set-Cookie headers
    /sleep/MS[/...]         sleep MS milliseconds, then the default answer
    /stream/cl/N            N bytes of stream_block() pattern in 64 KiB writes, Content-Length
    /stream/chunked/N       the same, chunked (one 64 KiB chunk per write)
    /upload-slow            reads the body (CL or chunked) slowly: 1 MiB, sleeps 2 s, then the
                            rest; answers "LEN CRC32" and records the body length / crc only
    anything else           200, body = backend name, X-Backend: name, X-Target: request target
"""

import base64
import hashlib
import http.server
import os
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import confharness  # noqa: E402
from harness import pattern_bytes, free_port, wait_for, children_of, pid_alive  # noqa: E402,F401

BLOCK = 64 * 1024
MiB = 1024 * 1024


# --------------------------------------------------------------------------- patterns

_BASE_BLOCK = pattern_bytes(BLOCK, seed=12345)


def stream_block(i):
    """Block i of the streaming pattern: 64 KiB whose first 8 bytes are i (big endian), so a
    lost, repeated or reordered block changes the checksum."""
    return struct.pack(">Q", i) + _BASE_BLOCK[8:]


def stream_bytes(n):
    """Yield the first n bytes of the streaming pattern in (up to) 64 KiB pieces."""
    i = 0
    left = n
    while left > 0:
        b = stream_block(i)
        if left < BLOCK:
            b = b[:left]
        yield b
        left -= len(b)
        i += 1


def stream_crc(n):
    crc = 0
    for b in stream_bytes(n):
        crc = zlib.crc32(b, crc)
    return crc


# --------------------------------------------------------------------------- records

class Recorded:
    """One request as a backend received it."""

    def __init__(self, method, target, version, headers, body, conn_id, chunked, body_len=None, body_crc=None):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers      # [(name, value)] in order, duplicates kept
        self.body = body            # bytes (None for streamed bodies)
        self.conn_id = conn_id      # which accepted connection (1, 2, ...)
        self.chunked = chunked      # the body came chunked
        self.body_len = len(body) if body is not None else body_len
        self.body_crc = zlib.crc32(body) if body is not None else body_crc

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has(self, name):
        return self.header(name) is not None

    def __repr__(self):
        return f"<Recorded {self.method} {self.target} {self.version} conn={self.conn_id} {self.headers}>"


def _read_chunked(rfile):
    """Yield the decoded pieces of a chunked body (trailers skipped)."""
    while True:
        line = rfile.readline(65537)
        if not line:
            raise ConnectionError("EOF in chunked body")
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:
                t = rfile.readline(65537)
                if t in (b"\r\n", b"\n", b""):
                    return
        left = size
        while left > 0:
            d = rfile.read(min(left, BLOCK))
            if not d:
                raise ConnectionError("EOF in chunk")
            left -= len(d)
            yield d
        rfile.readline(3)


def _read_length(rfile, n):
    left = n
    while left > 0:
        d = rfile.read(min(left, BLOCK))
        if not d:
            raise ConnectionError(f"EOF with {left} of {n} body bytes missing")
        left -= len(d)
        yield d


# --------------------------------------------------------------------------- HTTP backend

class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def server_bind(self):
        # HTTPServer.server_bind calls getfqdn() (a reverse DNS lookup): skip it
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server_version = "BackendHTTP/1.0"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        b = self.server.backend
        with b.lock:
            b.connections += 1
            self.conn_id = b.connections
            b.live.add(self.connection)
            b.active += 1
            b.max_active = max(b.max_active, b.active)

    def finish(self):
        b = self.server.backend
        with b.lock:
            b.live.discard(self.connection)
            b.active -= 1
        try:
            super().finish()
        except OSError:
            pass

    # every method
    def _dispatch(self):
        b = self.server.backend
        path = self.path.split("?", 1)[0]
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        chunked = "chunked" in te
        cl = self.headers.get("Content-Length")
        if path == "/upload-slow":
            return self._upload_slow(chunked, cl)
        try:
            if chunked:
                body = b"".join(_read_chunked(self.rfile))
            elif cl is not None:
                body = b"".join(_read_length(self.rfile, int(cl)))
            else:
                body = b""
        except (ConnectionError, ValueError):
            self.close_connection = True
            return
        rec = Recorded(self.command, self.path, self.request_version, list(self.headers.items()), body,
                       self.conn_id, chunked)
        b.record(rec)
        try:
            self._answer(path, rec)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if b.drop_after_response:
            # close although the response promised keep-alive (like a server whose idle
            # timeout is very short): a proxy must not fail on this pooled connection
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch

    def _keepalive_header(self):
        # say whether the connection stays open: an HTTP/1.0 request that asked for
        # keep-alive gets it confirmed, a request that asked for close (or HTTP/1.0 without
        # keep-alive) gets "Connection: close", so the proxy never caches a dying connection
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":
            self.send_header("Connection", "keep-alive")

    def _simple(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status not in (204, 304) and not (100 <= status < 200):
            self.send_header("Content-Length", str(len(body)))
        self._keepalive_header()
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _answer(self, path, rec):
        b = self.server.backend
        parts = path.split("/")
        if path.startswith("/sleep/"):
            time.sleep(int(parts[2]) / 1000.0)
        if b.delay:
            time.sleep(b.delay)
        common = [("X-Backend", b.name), ("X-Target", self.path)]
        if path.startswith("/echo"):
            self._simple(200, rec.body, common + [("Content-Type", "application/octet-stream"),
                                                  ("X-Body-Len", str(len(rec.body))),
                                                  ("X-Body-CRC", str(zlib.crc32(rec.body))),
                                                  ("X-Req-Chunked", "1" if rec.chunked else "0")])
        elif path.startswith("/status/"):
            code = int(parts[2])
            extra = []
            if code in (301, 302, 303, 307, 308):
                extra.append(("Location", "http://elsewhere.example/moved/target?x=1"))
            body = b"" if code in (204, 304) else f"status {code} body\n".encode()
            self._simple(code, body, common + [("Content-Type", "text/plain")] + extra)
        elif path.startswith("/data/"):
            kind, n = parts[2], int(parts[3])
            data = pattern_bytes(n, seed=n)
            if kind == "cl":
                self._simple(200, data, common + [("Content-Type", "application/octet-stream")])
            elif kind == "chunked":
                self.send_response(200)
                for k, v in common:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self._keepalive_header()
                self.end_headers()
                if self.command != "HEAD":
                    i, size = 0, 1
                    while i < len(data):
                        piece = data[i:i + size]
                        self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                        i += len(piece)
                        size = size * 7 + 3 if size < 40000 else 1
                    self.wfile.write(b"0\r\n\r\n")
            elif kind == "close":
                head = (b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
                        b"X-Backend: " + b.name.encode() + b"\r\n\r\n")
                self.wfile.write(head)
                if self.command != "HEAD":
                    for i in range(0, len(data), 10000):
                        self.wfile.write(data[i:i + 10000])
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            else:
                self._simple(400, b"bad data kind\n")
        elif path == "/hop":
            self._simple(200, b"hop body\n", common + [
                ("Content-Type", "text/plain"),
                ("Connection", "X-Resp-Hop"),
                ("Keep-Alive", "timeout=55, max=77"),
                ("X-Resp-Hop", "secret"),
                ("Proxy-Connection", "keep-alive"),
                ("Trailer", "X-Resp-Trailer"),
                ("Upgrade", "backend-proto/1"),
                ("X-End-To-End", "kept"),
            ])
        elif path == "/cookies":
            self._simple(200, b"cookies\n", common + [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; HttpOnly"),
                                                       ("Content-Type", "text/plain")])
        elif path.startswith("/stream/"):
            self._stream(parts[2], int(parts[3]), common)
        else:
            self._simple(200, b.name.encode(), common + [("Content-Type", "text/plain")])

    def _stream(self, kind, n, common):
        self.send_response(200)
        for k, v in common:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/octet-stream")
        if kind == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self._keepalive_header()
        self.end_headers()
        if self.command == "HEAD":
            return
        sent = 0
        try:
            for blk in stream_bytes(n):
                if kind == "chunked":
                    self.wfile.write(b"%x\r\n" % len(blk) + blk + b"\r\n")
                else:
                    self.wfile.write(blk)
                sent += len(blk)
            if kind == "chunked":
                self.wfile.write(b"0\r\n\r\n")
        finally:
            self.server.backend.stream_sent = sent

    def _upload_slow(self, chunked, cl):
        b = self.server.backend
        pieces = _read_chunked(self.rfile) if chunked else _read_length(self.rfile, int(cl or 0))
        n = 0
        crc = 0
        slept = False
        try:
            for d in pieces:
                n += len(d)
                crc = zlib.crc32(d, crc)
                b.upload_progress = n
                if not slept and n >= b.upload_pause_after:
                    slept = True
                    time.sleep(b.upload_pause)
        except ConnectionError:
            self.close_connection = True
            b.record(Recorded(self.command, self.path, self.request_version, list(self.headers.items()), None,
                              self.conn_id, chunked, body_len=n, body_crc=crc))
            return
        rec = Recorded(self.command, self.path, self.request_version, list(self.headers.items()), None,
                       self.conn_id, chunked, body_len=n, body_crc=crc)
        b.record(rec)
        self._simple(200, f"{n} {crc}".encode(), [("X-Backend", b.name)])


class HTTPBackend:
    """An HTTP/1.1 upstream answering its own name (see the module doc for the paths)."""

    def __init__(self, name="backend", port=0, delay=0.0):
        self.name = name
        self.lock = threading.Lock()
        self.requests = []
        self.connections = 0      # accepted TCP connections
        self.active = 0
        self.max_active = 0
        self.live = set()
        self.delay = delay        # seconds to wait before every default answer
        self.drop_after_response = False
        self.stream_sent = None
        self.upload_progress = 0
        self.upload_pause_after = MiB
        self.upload_pause = 2.0
        self.server = _HTTPServer(("127.0.0.1", port), _Handler)
        self.server.backend = self
        self.port = self.server.server_address[1]
        self.addr = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.stopped = False

    def record(self, rec):
        with self.lock:
            self.requests.append(rec)

    def reset(self):
        with self.lock:
            self.requests = []
            self.connections = 0
            self.max_active = self.active

    def count(self, path_prefix=None, method=None):
        with self.lock:
            return sum(1 for r in self.requests
                       if (path_prefix is None or r.target.startswith(path_prefix))
                       and (method is None or r.method == method))

    def last(self):
        with self.lock:
            return self.requests[-1] if self.requests else None

    def find(self, target):
        """The last request with exactly this target."""
        with self.lock:
            for r in reversed(self.requests):
                if r.target == target:
                    return r
        return None

    def stop(self):
        """Stop listening and drop every open connection (the port then refuses)."""
        if self.stopped:
            return
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            live = list(self.live)
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)


# --------------------------------------------------------------------------- raw TCP backend

class _RawServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def read_http_request(sock, timeout=10.0):
    """Read one request (head + Content-Length / chunked body) from a raw socket.
    Returns the raw bytes (b"" on EOF before anything)."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            return buf
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lower = head.lower()
    clen = 0
    for line in lower.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip() == b"content-length":
            clen = int(v.strip())
    if b"transfer-encoding: chunked" in lower or b"transfer-encoding:chunked" in lower:
        while not rest.endswith(b"0\r\n\r\n"):
            d = sock.recv(65536)
            if not d:
                break
            rest += d
    else:
        while len(rest) < clen:
            d = sock.recv(65536)
            if not d:
                break
            rest += d
    return head + b"\r\n\r\n" + rest


class _RawHandler(socketserver.BaseRequestHandler):
    def handle(self):
        b = self.server.backend
        s = self.request
        with b.lock:
            b.connections += 1
            b.live.add(s)
        try:
            if b.mode == "accept-close":
                return
            data = read_http_request(s)
            with b.lock:
                b.received.append(data)
            if b.mode == "close":
                return
            if b.mode == "reset":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if b.mode == "hang":
                b.stop_event.wait(30)
                return
            if b.mode == "garbage":
                s.sendall(b"HTTP/1.1 200 OK\r\nBroken header line\r\nContent-Length: 0\r\n\r\n")
                return
            if b.mode == "truncate-cl":
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                          b"Content-Length: 100000\r\n\r\n" + pattern_bytes(50000))
                time.sleep(0.1)
                return
            if b.mode == "truncate-chunked":
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n" + b"c350\r\n" + pattern_bytes(50000) + b"\r\n")
                time.sleep(0.1)
                return
        except OSError:
            pass
        finally:
            with b.lock:
                b.live.discard(s)

    def finish(self):
        pass


class RawBackend:
    """A misbehaving upstream. mode: "close" (read the request, close without answering),
    "reset" (read the request, then RST), "hang" (read it, never answer),
    "accept-close" (close right after accept), "garbage" (a header line without a colon),
    "truncate-cl" / "truncate-chunked" (a 200 whose body stops half way, then close)."""

    def __init__(self, mode, port=0):
        self.mode = mode
        self.lock = threading.Lock()
        self.connections = 0
        self.received = []
        self.live = set()
        self.stop_event = threading.Event()
        self.server = _RawServer(("127.0.0.1", port), _RawHandler)
        self.server.backend = self
        self.port = self.server.server_address[1]
        self.addr = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.stopped = False

    def requests_with(self, needle):
        with self.lock:
            return [r for r in self.received if needle in r]

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            live = list(self.live)
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)


# --------------------------------------------------------------------------- WebSocket

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_accept(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def ws_frame(payload, opcode=0x1, mask=False, fin=True):
    """Encode one frame (client frames are masked, server frames are not)."""
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        key = os.urandom(4)
        payload = _ws_mask(payload, key)
        head += key
    return head + payload


def _ws_mask(data, key):
    # XOR with the repeated 4-byte key (fast enough for test sizes)
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big") if n else b""


class WSReader:
    """Reads frames from a socket; .buf may hold bytes already read past an HTTP head."""

    def __init__(self, sock, buf=b""):
        self.sock = sock
        self.buf = buf

    def _need(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("EOF in WebSocket frame")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        """Returns (fin, opcode, payload, was_masked)."""
        b0, b1 = self._need(2)
        fin = bool(b0 & 0x80)
        opcode = b0 & 0x0F
        masked = bool(b1 & 0x80)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        key = self._need(4) if masked else None
        payload = self._need(n) if n else b""
        if masked:
            payload = _ws_mask(payload, key)
        return fin, opcode, payload, masked


class _WSHandler(socketserver.BaseRequestHandler):
    def handle(self):
        b = self.server.backend
        s = self.request
        s.settimeout(30)
        with b.lock:
            b.connections += 1
            b.live.add(s)
        conn = {"messages": [], "closed_by": None, "close_frame": None, "unmasked_from_client": 0}
        ended = threading.Event()
        conn["ended"] = ended
        try:
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = s.recv(65536)
                if not d:
                    return
                buf += d
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = []
            for l in lines[1:]:
                k, _, v = l.partition(":")
                headers.append((k.strip(), v.strip()))
            hd = {k.lower(): v for k, v in headers}
            conn["request_line"] = lines[0]
            conn["headers"] = headers
            with b.lock:
                b.conns.append(conn)
            key = hd.get("sec-websocket-key")
            if "websocket" not in hd.get("upgrade", "").lower() or not key:
                body = b"not a websocket request\n"
                s.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
                          + body)
                return
            resp = ("HTTP/1.1 101 Switching Protocols\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n"
                    f"Sec-WebSocket-Accept: {ws_accept(key)}\r\n"
                    "X-Backend: ws\r\n\r\n")
            s.sendall(resp.encode())
            r = WSReader(s, rest)
            while True:
                try:
                    fin, op, payload, masked = r.read_frame()
                except (ConnectionError, OSError):
                    conn["closed_by"] = "peer-eof"
                    return
                if not masked:
                    conn["unmasked_from_client"] += 1
                if op == 0x8:  # close: answer and end
                    conn["close_frame"] = payload
                    conn["closed_by"] = "peer-close-frame"
                    try:
                        s.sendall(ws_frame(payload[:2] or struct.pack("!H", 1000), 0x8))
                    except OSError:
                        pass
                    return
                if op == 0x9:  # ping → pong
                    s.sendall(ws_frame(payload, 0xA))
                    continue
                if op in (0x1, 0x2):
                    conn["messages"].append(payload)
                    if payload == b"server-close":
                        s.sendall(ws_frame(struct.pack("!H", 1000) + b"bye", 0x8))
                        conn["closed_by"] = "server"
                        s.shutdown(socket.SHUT_RDWR)
                        return
                    if payload == b"server-drop":
                        conn["closed_by"] = "server-drop"
                        s.shutdown(socket.SHUT_RDWR)
                        return
                    if payload.startswith(b"push "):
                        for i in range(int(payload[5:])):
                            s.sendall(ws_frame(f"push {i}", 0x1))
                        continue
                    s.sendall(ws_frame(payload, op))
        except OSError:
            conn["closed_by"] = conn["closed_by"] or "error"
        finally:
            ended.set()
            with b.lock:
                b.live.discard(s)
            try:
                s.close()
            except OSError:
                pass

    def finish(self):
        pass


class WebSocketBackend:
    """RFC 6455 echo server. Text/binary frames are echoed; "push N" sends N messages;
    "server-close" makes it send a close frame and close; "server-drop" closes TCP.
    .conns: one dict per connection (request_line, headers, messages, closed_by, ended)."""

    def __init__(self, port=0):
        self.lock = threading.Lock()
        self.connections = 0
        self.conns = []
        self.live = set()
        self.server = _RawServer(("127.0.0.1", port), _WSHandler)
        self.server.backend = self
        self.port = self.server.server_address[1]
        self.addr = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.stopped = False

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            live = list(self.live)
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)


# --------------------------------------------------------------------------- riptide

class ProxyServer(confharness.ConfServer):
    """riptide with a proxy configuration, 1 worker by default. Placeholders @B1@ ... in the
    template must already be replaced (see fill()); @PORT@ is riptide's own port."""

    def __init__(self, conf, workers=1, **kw):
        super().__init__(conf, workers=workers, **kw)

    def start(self, timeout=5.0, wait_ports=None):
        super().start(timeout=timeout, wait_ports=wait_ports)
        harness._LIVE.add(self.proc)   # killed by the harness on SIGTERM / exit
        # the workers are up when the port accepts, but give the count a moment
        wait_for(lambda: len(self.worker_pids()) >= 1, timeout=2)
        return self

    def logs(self):
        return (self.stderr() + "\n" + self.error_log())[-4000:]


def fill(template, **ports):
    """Replace @NAME@ by ports[NAME] (ints or strings) in a config template."""
    for k, v in ports.items():
        template = template.replace(f"@{k}@", str(v))
    return template


def start_proxy(testcase, conf, workers=1, files=None):
    """Start riptide for one test and stop it at cleanup. Returns the ProxyServer."""
    srv = ProxyServer(conf, workers=workers, files=files)
    srv.start()
    testcase.addCleanup(srv.cleanup)
    return srv


def start_backend(testcase, backend):
    testcase.addCleanup(backend.stop)
    return backend


def refused_port():
    """A loopback port with nothing listening (connections are refused)."""
    return free_port()


def vm_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def workers_rss_kib(master_pid):
    return sum(vm_rss_kib(p) for p in children_of(master_pid) if pid_alive(p))


class RssSampler:
    """Samples the summed worker RSS every `interval` seconds in a thread; .max_kib."""

    def __init__(self, master_pid, interval=0.02):
        self.master_pid = master_pid
        self.interval = interval
        self.max_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            v = workers_rss_kib(self.master_pid)
            self.max_kib = max(self.max_kib, v)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join(timeout=5)
        return False


def http_request(port, method, target, headers=None, body=b"", host=None, timeout=5.0):
    """One request on a fresh connection (Connection: close); returns harness.Response."""
    h = dict(headers or {})
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in h):
        h["Content-Length"] = str(len(body))
    raw = harness.build_request(target, h, method, host=host or f"127.0.0.1:{port}", close=True, body=body)
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    c = harness.Conn(s)
    try:
        c.send(raw)
        return c.read_response(head=(method == "HEAD"))
    finally:
        c.close()


def main():
    confharness.main()
