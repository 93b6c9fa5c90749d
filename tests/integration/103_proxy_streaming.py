"""Streaming through the proxy with flat memory: a 1 GiB download to a client that is slow at
first, and a 256 MiB upload to a backend that reads slowly. The workers' RSS (sum of VmRSS
of the master's children) must stay within 64 MiB of its value before the transfer, and every
byte must arrive (length and CRC-32 of a deterministic pattern)."""

import os
import socket
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backends  # noqa: E402
from backends import HTTPBackend, ProxyServer, RssSampler, fill, workers_rss_kib, MiB  # noqa: E402

DOWNLOAD = int(os.environ.get("RIPTIDE_PROXY_STREAM_BYTES", str(1024 * MiB)))
UPLOAD = int(os.environ.get("RIPTIDE_PROXY_UPLOAD_BYTES", str(256 * MiB)))
RSS_LIMIT_KIB = 64 * 1024

CONF = r"""
events {}
http {
    access_log off;
    server {
        listen 127.0.0.1:@PORT@;
        client_max_body_size 0;
        location / {
            proxy_pass http://127.0.0.1:@B@;
            proxy_read_timeout 30s;
            proxy_send_timeout 30s;
        }
        location /nobuf/ {
            proxy_pass http://127.0.0.1:@B@/;
            proxy_buffering off;
            proxy_read_timeout 30s;
            proxy_send_timeout 30s;
        }
    }
}
"""


class StreamClient:
    """A raw HTTP client that consumes a large response body without keeping it."""

    def __init__(self, port, rcvbuf=None, timeout=30):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = bytearray()

    def close(self):
        self.sock.close()

    def _fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise ConnectionError(f"EOF ({len(self.buf)} bytes buffered)")
        self.buf += d

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise AssertionError(f"no end of head: {bytes(self.buf[:300])!r}")
            self._fill()
        i = self.buf.index(b"\r\n\r\n")
        lines = bytes(self.buf[:i]).decode("latin-1").split("\r\n")
        del self.buf[:i + 4]
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        line = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return line

    def _take(self, n, sink):
        while n > 0:
            if not self.buf:
                d = self.sock.recv(min(n, 1 << 20))
                if not d:
                    raise ConnectionError(f"EOF with {n} body bytes missing")
                sink(d)
                n -= len(d)
                continue
            k = min(n, len(self.buf))
            sink(bytes(self.buf[:k]))
            del self.buf[:k]
            n -= k

    def read_body(self, headers, sink):
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size = int(self._line().split(b";")[0].strip(), 16)
                if size == 0:
                    while self._line() != b"":
                        pass
                    return
                self._take(size, sink)
                if self._line() != b"":
                    raise AssertionError("bad chunk end")
        elif "content-length" in headers:
            self._take(int(headers["content-length"]), sink)
        else:
            if self.buf:
                sink(bytes(self.buf))
                self.buf.clear()
            while True:
                d = self.sock.recv(1 << 20)
                if not d:
                    return
                sink(d)


class Streaming(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.b = HTTPBackend("stream")
        try:
            cls.srv = ProxyServer(fill(CONF, B=cls.b.port), workers=1)
            cls.srv.start()
        except BaseException:
            cls.b.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            cls.b.stop()

    def baseline(self):
        # one proxied request first, so per-connection buffers already exist
        r = backends.http_request(self.srv.port, "GET", "/warmup")
        self.assertEqual(r.status, 200, r)
        r = backends.http_request(self.srv.port, "POST", "/echo/warmup", body=b"w" * 100_000)
        self.assertEqual(r.status, 200, r)
        time.sleep(0.2)
        base = workers_rss_kib(self.srv.pid)
        self.assertGreater(base, 0, "no worker RSS found")
        return base

    def download(self, target, n):
        base = self.baseline()
        expected_crc = backends.stream_crc(n)
        state = {"n": 0, "crc": 0, "slept": False}
        c = StreamClient(self.srv.port, rcvbuf=64 * 1024)
        t0 = time.monotonic()
        try:
            with RssSampler(self.srv.pid) as rss:
                c.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: stream.test\r\nConnection: close\r\n\r\n".encode())
                status, headers = c.read_head()
                self.assertEqual(status, 200, headers)

                def sink(d):
                    state["n"] += len(d)
                    state["crc"] = zlib.crc32(d, state["crc"])
                    if not state["slept"] and state["n"] >= MiB:
                        state["slept"] = True
                        time.sleep(2.0)   # a slow reader: riptide must not buffer the rest in memory

                c.read_body(headers, sink)
        finally:
            c.close()
        took = time.monotonic() - t0
        grew = rss.max_kib - base
        sys.stderr.write(f"\n  {target}: {n / MiB:.0f} MiB in {took:.1f} s, worker RSS {base} KiB → max "
                         f"{rss.max_kib} KiB (+{grew} KiB, {rss.samples} samples)\n")
        self.assertEqual(state["n"], n)
        self.assertEqual(state["crc"], expected_crc, "the body differs from what the backend sent")
        self.assertLess(grew, RSS_LIMIT_KIB, f"worker RSS grew by {grew} KiB while streaming {n} bytes")
        self.assertTrue(self.b.stream_sent in (None, n) or self.b.stream_sent == n)

    def test_download_content_length_slow_client(self):
        self.download(f"/stream/cl/{DOWNLOAD}", DOWNLOAD)

    def test_download_chunked_unbuffered_slow_client(self):
        self.download(f"/nobuf/stream/chunked/{DOWNLOAD}", DOWNLOAD)

    def test_upload_to_slow_backend(self):
        base = self.baseline()
        n = UPLOAD
        expected_crc = backends.stream_crc(n)
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=30)
        c = StreamClient.__new__(StreamClient)
        c.sock, c.buf = s, bytearray()
        t0 = time.monotonic()
        try:
            with RssSampler(self.srv.pid) as rss:
                s.sendall((f"POST /upload-slow HTTP/1.1\r\nHost: stream.test\r\nContent-Length: {n}\r\n"
                           "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n").encode())
                piece = []
                size = 0
                for blk in backends.stream_bytes(n):
                    piece.append(blk)
                    size += len(blk)
                    if size >= MiB:
                        s.sendall(b"".join(piece))
                        piece, size = [], 0
                if piece:
                    s.sendall(b"".join(piece))
                status, headers = c.read_head()
                body = []
                c.read_body(headers, body.append)
        finally:
            s.close()
        took = time.monotonic() - t0
        grew = rss.max_kib - base
        sys.stderr.write(f"\n  upload: {n / MiB:.0f} MiB in {took:.1f} s, worker RSS {base} KiB → max "
                         f"{rss.max_kib} KiB (+{grew} KiB)\n")
        self.assertEqual(status, 200, (headers, body))
        self.assertEqual(b"".join(body).decode(), f"{n} {expected_crc}", "the backend got different bytes")
        rec = self.b.find("/upload-slow")
        self.assertEqual((rec.body_len, rec.body_crc), (n, expected_crc))
        self.assertLess(grew, RSS_LIMIT_KIB, f"worker RSS grew by {grew} KiB while uploading {n} bytes")


if __name__ == "__main__":
    backends.main()
