"""WebSocket through the proxy: the Upgrade handshake (101 with a correct Sec-WebSocket-Accept),
masked client frames echoed back, server-initiated messages, large frames, many sessions at
once, and a close on either side closing the other."""

import base64
import os
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backends  # noqa: E402
import harness  # noqa: E402
from backends import ProxyServer, WebSocketBackend, WSReader, fill, ws_accept, ws_frame  # noqa: E402

CONF = r"""
events {}
http {
    access_log off;
    server {
        listen 127.0.0.1:@PORT@;
        location /ws/ {
            proxy_pass http://127.0.0.1:@W@;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 30s;
        }
        location /plain/ {
            proxy_pass http://127.0.0.1:@W@;
        }
    }
}
"""


class WSClient:
    def __init__(self, port, path="/ws/chat?room=1", timeout=5.0, extra_headers=()):
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {self.key}", "Sec-WebSocket-Version: 13", "Origin: http://test.example"]
        lines += list(extra_headers)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError(f"EOF during the handshake: {buf!r}")
            buf += d
        head, _, rest = buf.partition(b"\r\n\r\n")
        hl = head.decode("latin-1").split("\r\n")
        self.status_line = hl[0]
        self.status = int(hl[0].split()[1])
        self.headers = []
        for l in hl[1:]:
            k, _, v = l.partition(":")
            self.headers.append((k.strip(), v.strip()))
        self.reader = WSReader(self.sock, rest)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def send(self, payload, opcode=0x1):
        self.sock.sendall(ws_frame(payload, opcode, mask=True))

    def recv(self):
        fin, op, payload, masked = self.reader.read_frame()
        return op, payload, masked

    def wait_eof(self, timeout=3.0):
        """True if the connection ends (EOF/RST) within timeout; frames before it are dropped."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.reader.buf:
                    self.reader.buf = b""
                d = self.sock.recv(65536)
                if not d:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WebSocketProxy(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.w = WebSocketBackend()
        try:
            cls.srv = ProxyServer(fill(CONF, W=cls.w.port), workers=1)
            cls.srv.start()
        except BaseException:
            cls.w.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            cls.w.stop()

    def connect(self, path="/ws/chat?room=1"):
        c = WSClient(self.srv.port, path)
        self.addCleanup(c.close)
        self.assertEqual(c.status, 101, f"{c.status_line} {c.headers}\n{self.srv.logs()}")
        return c

    def backend_conn(self, key):
        def find():
            with self.w.lock:
                for conn in self.w.conns:
                    for k, v in conn.get("headers", []):
                        if k.lower() == "sec-websocket-key" and v == key:
                            return conn
            return None
        conn = harness.wait_for(find, timeout=3)
        self.assertIsNotNone(conn, "the backend never saw this handshake")
        return conn

    def test_handshake(self):
        c = self.connect()
        self.assertEqual(c.header("Sec-WebSocket-Accept"), ws_accept(c.key))
        self.assertEqual((c.header("Upgrade") or "").lower(), "websocket")
        self.assertIn("upgrade", (c.header("Connection") or "").lower())
        self.assertEqual(c.header("X-Backend"), "ws")
        conn = self.backend_conn(c.key)
        self.assertEqual(conn["request_line"], "GET /ws/chat?room=1 HTTP/1.1")
        hd = {k.lower(): v for k, v in conn["headers"]}
        self.assertEqual(hd.get("upgrade", "").lower(), "websocket")
        self.assertIn("upgrade", hd.get("connection", "").lower())
        self.assertEqual(hd.get("sec-websocket-version"), "13")
        self.assertEqual(hd.get("origin"), "http://test.example")

    def test_echo_text_frames(self):
        c = self.connect()
        for msg in ("hello", "", "ünïcødé ✓", "x" * 125, "y" * 126, "z" * 70000):
            c.send(msg)
            op, payload, masked = c.recv()
            self.assertEqual(op, 0x1)
            self.assertFalse(masked, "server frames must reach the client unmasked (bytes unchanged)")
            self.assertEqual(payload.decode(), msg)
        conn = self.backend_conn(c.key)
        self.assertEqual(conn["unmasked_from_client"], 0, "client frames must reach the backend masked")

    def test_binary_and_large_frames(self):
        c = self.connect()
        data = bytes(range(256)) * 4096   # 1 MiB
        c.send(data, opcode=0x2)
        op, payload, _ = c.recv()
        self.assertEqual(op, 0x2)
        self.assertEqual(payload, data)

    def test_server_initiated_messages(self):
        c = self.connect()
        c.send("push 5")
        got = [c.recv()[1] for _ in range(5)]
        self.assertEqual(got, [f"push {i}".encode() for i in range(5)])
        c.send("after push")
        self.assertEqual(c.recv()[1], b"after push")

    def test_many_messages_pipelined(self):
        c = self.connect()
        msgs = [f"message {i} " * (i % 7 + 1) for i in range(300)]
        c.sock.sendall(b"".join(ws_frame(m, mask=True) for m in msgs))
        got = [c.recv()[1].decode() for _ in msgs]
        self.assertEqual(got, msgs)

    def test_ping_pong(self):
        c = self.connect()
        c.send(b"are you there", opcode=0x9)
        op, payload, _ = c.recv()
        self.assertEqual((op, payload), (0xA, b"are you there"))

    def test_client_close_frame(self):
        c = self.connect()
        c.send("one")
        self.assertEqual(c.recv()[1], b"one")
        c.send(struct.pack("!H", 1000) + b"done", opcode=0x8)
        op, payload, _ = c.recv()
        self.assertEqual(op, 0x8)
        self.assertEqual(payload[:2], struct.pack("!H", 1000))
        self.assertTrue(c.wait_eof(3.0), "riptide kept the client connection after the backend closed")
        conn = self.backend_conn(c.key)
        self.assertTrue(conn["ended"].wait(3))
        self.assertEqual(conn["closed_by"], "peer-close-frame")

    def test_client_disconnect_closes_backend(self):
        c = self.connect()
        c.send("ping-before-drop")
        self.assertEqual(c.recv()[1], b"ping-before-drop")
        conn = self.backend_conn(c.key)
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
        self.assertTrue(conn["ended"].wait(3), "the backend connection stayed open after the client left")
        self.assertEqual(conn["closed_by"], "peer-eof")

    def test_last_frame_before_client_close_reaches_backend(self):
        # bytes sent just before the client's FIN are delivered before the upstream is closed
        c = self.connect()
        c.send("hello")
        self.assertEqual(c.recv()[1], b"hello")
        c.sock.sendall(ws_frame("last words", mask=True))
        c.sock.shutdown(socket.SHUT_WR)
        conn = self.backend_conn(c.key)
        self.assertTrue(conn["ended"].wait(3), "the backend connection stayed open after the client left")
        self.assertEqual(conn["messages"][-1:], [b"last words"], conn["messages"])

    def test_backend_close_frame_reaches_client(self):
        c = self.connect()
        c.send("server-close")
        op, payload, _ = c.recv()
        self.assertEqual(op, 0x8)
        self.assertEqual(payload, struct.pack("!H", 1000) + b"bye")
        self.assertTrue(c.wait_eof(3.0), "the client connection stayed open after the backend closed")

    def test_backend_drop_closes_client(self):
        c = self.connect()
        c.send("server-drop")
        self.assertTrue(c.wait_eof(3.0), "the client connection stayed open after the backend dropped")

    def test_concurrent_sessions(self):
        clients = [self.connect(f"/ws/s{i}") for i in range(8)]
        errors = []

        def run(i, c):
            try:
                for j in range(50):
                    m = f"client {i} msg {j}"
                    c.send(m)
                    op, payload, _ = c.recv()
                    if payload.decode() != m:
                        errors.append((i, j, payload))
                        return
            except Exception as e:  # noqa: BLE001
                errors.append((i, repr(e)))

        ts = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=20)
        self.assertEqual(errors, [])
        self.assertFalse(any(t.is_alive() for t in ts))

    def test_server_still_serves_http_after_websockets(self):
        c = self.connect()
        c.send("x")
        c.recv()
        c.close()
        r = backends.http_request(self.srv.port, "GET", "/ws/not-a-websocket")
        # the backend answers 400 to a plain GET; the proxy passes it on
        self.assertEqual(r.status, 400, r)

    def test_plain_location_is_consistent(self):
        # proxy_pass without the nginx Upgrade/Connection lines: riptide may tunnel the
        # upgrade itself (101 and a working echo) or, like nginx, drop the hop-by-hop Upgrade
        # (the backend then answers 400); either way a complete answer, no hang
        c = WSClient(self.srv.port, "/plain/x")
        self.addCleanup(c.close)
        if c.status == 101:
            self.assertEqual(c.header("Sec-WebSocket-Accept"), ws_accept(c.key))
            c.send("plain echo")
            self.assertEqual(c.recv()[1], b"plain echo")
        else:
            self.assertEqual(c.status, 400, c.status_line)


if __name__ == "__main__":
    backends.main()
