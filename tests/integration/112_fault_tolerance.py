"""Fault tolerance: a worker killed with SIGKILL under load is respawned and costs at most
the requests it had in flight; 2,000 hostile requests crash nothing."""

import os
import random
import re
import signal
import socket
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import limitsharness as lh  # noqa: E402
from limitsharness import LServer, Conn, build_request  # noqa: E402
import backends  # noqa: E402

INDEX = b"<html>fault tolerance index</html>\n"

CRASH_CONF = r"""
events { worker_connections 2048; }
http {
    access_log off;
    keepalive_timeout 30s;
    server {
        listen 127.0.0.1:@PORT@ reuseport;
        root www;
        add_header X-Worker $pid always;
    }
}
"""


def one_request(port, timeout=3.0):
    """GET on a fresh connection: (ok, worker pid or error text)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        return False, f"connect: {e!r}"
    try:
        c = Conn(s)
        c.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = c.read_response()
        if r.status != 200 or r.body != INDEX:
            return False, f"status {r.status} body {r.body[:50]!r}"
        return True, r.header("X-Worker")
    except (OSError, lh.ConnectionClosed, AssertionError) as e:
        return False, repr(e)
    finally:
        s.close()


class CrashTest(unittest.TestCase):
    def test_kill_worker_under_load(self):
        srv = LServer(CRASH_CONF, files={"www/index.html": INDEX}, workers=2)
        srv.start()
        self.addCleanup(srv.cleanup)
        workers = srv.worker_pids()
        self.assertEqual(len(workers), 2)

        # keep-alive connections, each served by one of the two workers
        conns = []
        self.addCleanup(lambda: [c.close() for c in conns])
        by_worker = {}
        for _ in range(40):
            c = srv.conn(timeout=5)
            conns.append(c)
            c.send(build_request("/index.html"))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            by_worker.setdefault(int(r.header("X-Worker")), []).append(c)
        self.assertEqual(sorted(by_worker), sorted(workers), "reuseport did not spread 40 connections")
        victim = workers[0]
        survivor = workers[1]
        survivor_conns = by_worker[survivor]

        results = []          # (t_start, t_end, ok, info)
        lock = threading.Lock()
        stop = threading.Event()

        def loop():
            end = time.monotonic() + 4.5
            while not stop.is_set() and time.monotonic() < end:
                t0 = time.monotonic()
                ok, info = one_request(srv.port)
                with lock:
                    results.append((t0, time.monotonic(), ok, info))

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(2)]
        self.addCleanup(stop.set)
        for t in threads:
            t.start()

        ka_errors = []

        def poke_survivors():
            for c in survivor_conns:
                try:
                    c.send(build_request("/index.html"))
                    r = c.read_response()
                    if r.status != 200 or int(r.header("X-Worker")) != survivor:
                        ka_errors.append(repr(r))
                except (OSError, lh.ConnectionClosed) as e:
                    ka_errors.append(repr(e))

        time.sleep(1.5)
        poke_survivors()
        os.kill(victim, signal.SIGKILL)
        t_kill = time.monotonic()
        new = lh.harness.wait_for(lambda: [p for p in srv.worker_pids() if p not in workers], timeout=3, interval=0.01)
        t_respawn = time.monotonic()
        self.assertTrue(new, "no new worker within 3 s of the kill")
        self.assertLess(t_respawn - t_kill, 2.0, "respawn took too long")
        respawned = new[0]
        # keep poking the survivor's keep-alive clients while the load goes on
        for _ in range(5):
            time.sleep(0.3)
            poke_survivors()
        for t in threads:
            t.join(10)
        self.assertEqual(ka_errors, [], "keep-alive clients of the surviving worker saw errors")

        total = len(results)
        fails = [r for r in results if not r[2]]
        if os.environ.get("RIPTIDE_TEST_VERBOSE"):
            sys.stderr.write(f"\n[crash] {total} requests, {len(fails)} failed, respawn after "
                             f"{t_respawn - t_kill:.3f} s: {fails[:5]}\n")
        self.assertGreater(total, 200, "the load loop made too few requests")
        self.assertLessEqual(len(fails), max(1, total // 100),
                             f"{len(fails)} of {total} requests failed: {fails[:10]}")
        # a request that started after the new worker appeared must succeed
        late_fails = [r for r in fails if r[0] > t_respawn + 0.05]
        self.assertEqual(late_fails, [], "requests after the respawn failed")
        served_by = {r[3] for r in results if r[2] and r[0] > t_respawn + 0.05}
        self.assertIn(str(respawned), served_by, "the new worker served nothing")
        self.assertEqual(sorted(srv.worker_pids()), sorted([survivor, respawned]))
        self.assertRegex(srv.stderr(), rf"{victim}.*signal 9|signal 9.*{victim}",
                         "the error log does not mention the killed worker")
        srv.check_sanitizers(self)


# ---------------------------------------------------------------------- hostile input

HOSTILE_CONF = r"""
events { worker_connections 2048; }
http {
    access_log off;
    server {
        listen 127.0.0.1:@PORT@;
        root www;
        client_header_timeout 1s;
        client_body_timeout 1s;
        keepalive_timeout 1s;
        send_timeout 2s;
        client_max_body_size 64k;
        location = /ret { return 200 "ret $uri $args"; }
        location /echo { proxy_pass http://127.0.0.1:@BPORT@; proxy_read_timeout 2s; }
        location /dir/ { autoindex on; }
        location /try/ { try_files $uri $uri/ /index.html; }
        error_page 404 /404.html;
    }
}
"""

GOOD = [
    b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /ret?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /try/nothing HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /index.html HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3,5-7\r\n\r\n",
    b"GET /index.html HTTP/1.0\r\n\r\n",
]

PATHS = [b"/", b"/index.html", b"/ret", b"/echo", b"/dir/", b"/try/x", b"/missing", b"/echo/x?y"]
METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"TRACE", b"CONNECT", b"PATCH",
           b"get", b"G\x00T", b"", b"X" * 300]
HEADER_CHARS = bytes(range(32, 127)) + b"\t\x00\x7f\x80\xff\r\n:"


def g_random_bytes(rng):
    return rng.randbytes(rng.randint(1, 3000))


def g_random_headers(rng):
    lines = []
    for _ in range(rng.randint(1, 30)):
        n = rng.randint(0, 40)
        name = bytes(rng.choice(HEADER_CHARS) for _ in range(rng.randint(0, 12)))
        val = bytes(rng.choice(HEADER_CHARS) for _ in range(n))
        lines.append(name + rng.choice([b": ", b":", b" : ", b"", b"::"]) + val)
    return (rng.choice(METHODS) + b" " + rng.choice(PATHS) + b" HTTP/1.1\r\nHost: x\r\n"
            + b"\r\n".join(lines) + b"\r\n\r\n")


BIG_NUMBERS = [b"99999999999999999999999999999", b"18446744073709551616", b"18446744073709551615",
               b"9223372036854775807", b"9223372036854775808", b"-1", b"+5", b"0x10", b"1 2", b"",
               b" ", b"5, 5", b"5,6", b"00000000000000000000000005", b"1e3", b"4294967296",
               b"4294967295", b"\x005", b"5\x00"]


def g_content_length(rng):
    cl = rng.choice(BIG_NUMBERS)
    extra = rng.choice([b"", b"Content-Length: 7\r\n", b"Transfer-Encoding: chunked\r\n",
                        b"Content-Length: " + rng.choice(BIG_NUMBERS) + b"\r\n"])
    body = rng.randbytes(rng.randint(0, 100))
    return (rng.choice([b"POST", b"PUT", b"GET"]) + b" " + rng.choice(PATHS) + b" HTTP/1.1\r\nHost: x\r\n"
            + b"Content-Length: " + cl + b"\r\n" + extra + b"\r\n" + body)


CHUNK_SIZES = [b"ffffffffffffffffffff", b"fffffffffffffffff", b"7fffffffffffffff", b"8000000000000000",
               b"-1", b"zz", b"0x5", b" 5", b"5 ", b"5;" + b"e" * 5000, b"5;a=\"b", b"", b"\x00",
               b"10000000", b"5\r\nhel", b"1" * 200, b"+5", b"5\n", b"FFFFFFFF"]


def g_chunked(rng):
    te = rng.choice([b"chunked", b"chunked, chunked", b"gzip, chunked", b"chunked\x00", b" chunked",
                     b"identity, chunked", b"CHUNKED"])
    parts = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.5:
            parts.append(b"5\r\nhello\r\n")
        else:
            parts.append(rng.choice(CHUNK_SIZES) + b"\r\n" + rng.randbytes(rng.randint(0, 40)) + b"\r\n")
    if rng.random() < 0.5:
        parts.append(b"0\r\n" + rng.choice([b"", b"X-Trailer: t\r\n", b"bad trailer\r\n", b"\x00\r\n"]) + b"\r\n")
    return (rng.choice([b"POST /echo", b"POST /ret", b"PUT /index.html", b"POST /echo/chunk"])
            + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + b"\r\n\r\n" + b"".join(parts))


def g_nuls(rng):
    req = bytearray(rng.choice(GOOD))
    for _ in range(rng.randint(1, 5)):
        req.insert(rng.randint(0, len(req)), 0)
    return bytes(req)


def g_long_lines(rng):
    n = rng.choice([9000, 40000, 100000, 300000])
    k = rng.randint(0, 5)
    if k == 0:
        return b"GET /" + b"a" * n + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    if k == 1:
        return b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"v" * n + b"\r\n\r\n"
    if k == 2:
        return b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"v" * n          # no end
    if k == 3:
        return b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * rng.randint(100, 5000) + b"\r\n"
    if k == 4:
        return b"GET /?" + b"%" * n + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    return b"\r\n" * n + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


BAD = [
    b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /index.html HTTP/1.1\r\nHost: x\r\nRange: bytes=99999999999999999999-\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
]


def g_pipeline(rng):
    reqs = [rng.choice(GOOD) if rng.random() < 0.6 else rng.choice(BAD) for _ in range(rng.randint(2, 8))]
    return b"".join(reqs)


def g_mutate(rng):
    req = bytearray(rng.choice(GOOD))
    for _ in range(rng.randint(1, 8)):
        op = rng.randint(0, 3)
        i = rng.randint(0, max(0, len(req) - 1))
        if op == 0 and req:
            req[i] = rng.randint(0, 255)
        elif op == 1:
            req[i:i] = rng.randbytes(rng.randint(1, 8))
        elif op == 2 and req:
            del req[i:i + rng.randint(1, 8)]
        else:
            req[i:i] = rng.choice([b"\r\n", b"\n", b"\r", b":", b" ", b"%", b"\r\n\r\n"])
    return bytes(req)


SEMANTIC_HEADERS = [
    b"Range: bytes=-0", b"Range: bytes=0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0",
    b"Range: bytes=" + b",".join(b"%d-%d" % (i, i) for i in range(2000)),
    b"Range: bytes=5-1", b"Range: bytes=--1", b"Range: lines=1-2", b"Range: bytes=18446744073709551615-",
    b"If-Modified-Since: \x00", b"If-Modified-Since: Sun, 99 Foo 99999 99:99:99 GMT",
    b"If-None-Match: " + b"\"a\"," * 2000, b"If-Range: garbage", b"If-Unmodified-Since: 0",
    b"Expect: 100-continue", b"Expect: 999-bogus", b"Connection: upgrade\r\nUpgrade: websocket",
    b"Connection: " + b"x," * 3000, b"Host: " + b"a" * 5000, b"Host: [::1", b"Host: a b", b"Host:",
    b" folded-continuation", b"X-Obs: a\r\n\tb", b"Cookie: " + b"a=b; " * 1000,
    b"Accept-Encoding: " + b"gzip;q=0.5," * 500, b"Content-Type: multipart/form-data; boundary=",
]


def g_semantic(rng):
    target = rng.choice([b"/index.html", b"http://x/index.html", b"http://[::1/", b"*", b"//",
                         b"/dir/../../x", b"/dir/%2e%2e/%2e%2e/x", b"/try/%25", b"/ret?" + b"&" * 3000,
                         b"/echo?%00", b"/" + b"/" * 5000])
    version = rng.choice([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/0.9", b"HTTP/1.10", b"HTTP/2.0", b"http/1.1",
                          b"HTTP/1.1 extra", b""])
    hdrs = [rng.choice(SEMANTIC_HEADERS) for _ in range(rng.randint(1, 4))]
    if not any(h.startswith(b"Host") for h in hdrs):
        hdrs.insert(0, b"Host: x")
    body = b""
    if rng.random() < 0.3:
        body = b"abc"
        hdrs.append(b"Content-Length: 3")
    eol = rng.choice([b"\r\n", b"\r\n", b"\n"])
    return (rng.choice(METHODS[:9]) + b" " + target + b" " + version + eol + eol.join(hdrs) + eol + eol + body)


CATEGORIES = [
    ("random bytes", g_random_bytes),
    ("random header lines", g_random_headers),
    ("content-length numbers", g_content_length),
    ("chunked sizes", g_chunked),
    ("NULs", g_nuls),
    ("long lines", g_long_lines),
    ("pipelines", g_pipeline),
    ("mutations", g_mutate),
    ("semantic garbage", g_semantic),
]
TOTAL = 2000


def fire(port, data, read_timeout=1.5):
    """Send data on a fresh connection, half-close, read until close (bounded), close.
    Returns (bytes received (first 200), how it ended)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
    except OSError as e:
        return b"", f"connect {e!r}"
    try:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        got, how = lh.read_until_close(s, read_timeout, limit=200)
        return got[:200], how
    finally:
        s.close()


class HostileInputTest(unittest.TestCase):
    def test_hostile_input(self):
        backend = backends.HTTPBackend("b1")
        self.addCleanup(backend.stop)
        srv = LServer(HOSTILE_CONF.replace("@BPORT@", str(backend.port)),
                      files={"www/index.html": INDEX, "www/404.html": "not here\n",
                             "www/dir/a.txt": "a\n", "www/dir/b c.txt": "b\n"})
        srv.start()
        self.addCleanup(srv.cleanup)
        workers = srv.worker_pids()
        self.assertEqual(len(workers), 1)
        rng = random.Random(20261122)
        per = TOTAL // len(CATEGORIES) + 1
        sent = 0
        t_start = time.monotonic()
        with ThreadPoolExecutor(max_workers=24) as pool:
            for name, gen in CATEGORIES:
                cases = [gen(rng) for _ in range(per)]
                if name == "pipelines":
                    cases[0] = b"".join(GOOD) + b"".join(BAD)
                list(pool.map(lambda d: fire(srv.port, d), cases))
                sent += len(cases)
                now = srv.worker_pids()
                if now != workers:
                    culprit = self._find_culprit(srv, cases)
                    self.fail(f"worker {workers} replaced by {now} during '{name}' inputs; "
                              f"culprit: {culprit!r}\nstderr:\n{srv.stderr()[-3000:]}")
                self.assertLess(time.monotonic() - t_start, 45, "hostile input phase too slow")
        self.assertGreaterEqual(sent, TOTAL)
        # still serving, same worker, nothing reported
        r = srv.get("/index.html")
        self.assertEqual((r.status, r.body), (200, INDEX))
        r = srv.get("/echo", method="POST", headers={"Content-Length": "5"}, body=b"hello")
        self.assertEqual((r.status, r.body), (200, b"hello"))
        self.assertEqual(srv.worker_pids(), workers)
        err = srv.stderr()
        for m in ("AddressSanitizer", "runtime error", "LeakSanitizer"):
            self.assertNotIn(m, err)
        self.assertNotRegex(err, r"exited on signal|respawn", "a worker died")
        # every connection is gone from the worker (no leaked sockets): only listeners remain
        def client_sockets():
            return sum(1 for p in self._sock_peers(workers[0], srv.port))
        self.assertTrue(lh.harness.wait_for(lambda: client_sockets() == 0, timeout=4),
                        f"{client_sockets()} client connections still held by the worker")

    @staticmethod
    def _sock_peers(pid, port):
        """Server-side established sockets of port held by pid."""
        inodes = set()
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                m = re.fullmatch(r"socket:\[(\d+)\]", link)
                if m:
                    inodes.add(m.group(1))
        except OSError:
            return []
        out = []
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fl = line.split()
                if fl[9] in inodes and int(fl[1].split(":")[1], 16) == port and fl[3] != "0A":
                    out.append(fl)
        return out

    def _find_culprit(self, srv, cases):
        """Replay the cases one at a time until the worker changes (bounded to 30 s)."""
        deadline = time.monotonic() + 30
        lh.harness.wait_for(lambda: len(srv.worker_pids()) == 1, timeout=3)
        for d in cases:
            if time.monotonic() > deadline:
                return "not found in 30 s"
            before = srv.worker_pids()
            fire(srv.port, d, read_timeout=1.0)
            time.sleep(0.05)
            if srv.worker_pids() != before:
                return d[:2000]
        return "not reproduced one at a time"


if __name__ == "__main__":
    lh.main()
