"""Upstream groups: weighted round robin, least_conn, ip_hash, hash ... consistent, and
keep-alive connections to the upstream (keepalive N)."""

import collections
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backends  # noqa: E402
import harness  # noqa: E402
from backends import HTTPBackend, ProxyServer, fill  # noqa: E402
from harness import Conn, build_request  # noqa: E402

CONF = r"""
events {}
http {
    access_log off;
    upstream rr {
        server 127.0.0.1:@A@;
        server 127.0.0.1:@B@;
        server 127.0.0.1:@C@;
    }
    upstream weighted {
        server 127.0.0.1:@A@ weight=3;
        server 127.0.0.1:@B@;
    }
    upstream lc {
        least_conn;
        server 127.0.0.1:@SLOW@;
        server 127.0.0.1:@FAST@;
    }
    upstream iph {
        ip_hash;
        server 127.0.0.1:@A@;
        server 127.0.0.1:@B@;
        server 127.0.0.1:@C@;
    }
    upstream hc {
        hash $request_uri consistent;
        server 127.0.0.1:@A@;
        server 127.0.0.1:@B@;
        server 127.0.0.1:@C@;
    }
    upstream hp {
        hash $request_uri;
        server 127.0.0.1:@A@;
        server 127.0.0.1:@B@;
        server 127.0.0.1:@C@;
    }
    server {
        listen 127.0.0.1:@PORT@;
        location /rr/ { proxy_pass http://rr; }
        location /w/ { proxy_pass http://weighted; }
        location /lc/ { proxy_pass http://lc; }
        location /iph/ { proxy_pass http://iph; }
        location /hc/ { proxy_pass http://hc; }
        location /hp/ { proxy_pass http://hp; }
    }
}
"""


class Balancing(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.bs = {}
        try:
            for name in ("a", "b", "c", "fast"):
                cls.bs[name] = HTTPBackend(name)
            cls.bs["slow"] = HTTPBackend("slow", delay=1.0)
            ports = {k.upper(): v.port for k, v in cls.bs.items()}
            cls.srv = ProxyServer(fill(CONF, **ports), workers=1)
            cls.srv.start()
        except BaseException:
            for b in cls.bs.values():
                b.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            for b in cls.bs.values():
                b.stop()

    def get(self, target):
        return backends.http_request(self.srv.port, "GET", target, timeout=10)

    def names_fresh(self, targets):
        out = []
        for t in targets:
            r = self.get(t)
            self.assertEqual(r.status, 200, f"{t}: {r}\n{self.srv.logs()}")
            out.append(r.body.decode())
        return out

    def names_keepalive(self, targets):
        out = []
        c = self.srv.conn(timeout=10)
        try:
            for t in targets:
                c.send(build_request(t, host=f"127.0.0.1:{self.srv.port}"))
                r = c.read_response()
                self.assertEqual(r.status, 200, f"{t}: {r}")
                out.append(r.body.decode())
        finally:
            c.close()
        return out

    def assertSpread(self, names, expected, tolerance=1):
        counts = collections.Counter(names)
        for name, want in expected.items():
            self.assertTrue(abs(counts.get(name, 0) - want) <= tolerance,
                            f"{name}: got {counts.get(name, 0)}, want {want}±{tolerance}; all: {dict(counts)} "
                            f"sequence {names}")
        self.assertEqual(set(counts) - set(expected), set(), counts)

    def test_round_robin_fresh_connections(self):
        names = self.names_fresh([f"/rr/fresh/{i}" for i in range(30)])
        self.assertSpread(names, {"a": 10, "b": 10, "c": 10})
        for n in ("a", "b", "c"):
            self.assertEqual(self.bs[n].count("/rr/fresh/"), names.count(n))

    def test_round_robin_client_keepalive(self):
        names = self.names_keepalive([f"/rr/ka/{i}" for i in range(30)])
        self.assertSpread(names, {"a": 10, "b": 10, "c": 10})

    def test_weighted_round_robin(self):
        names = self.names_fresh([f"/w/{i}" for i in range(40)])
        self.assertSpread(names, {"a": 30, "b": 10})
        # smooth: b's turns are spread over the sequence, not bunched at one end
        first_half = names[:20]
        self.assertTrue(3 <= first_half.count("b") <= 7, names)

    def test_least_conn_prefers_idle_server(self):
        results = []
        lock = threading.Lock()

        def one(i):
            try:
                r = self.get(f"/lc/{i}")
                with lock:
                    results.append((r.status, r.body.decode()))
            except Exception as e:  # noqa: BLE001
                with lock:
                    results.append((0, repr(e)))

        threads = []
        for i in range(20):
            t = threading.Thread(target=one, args=(i,), daemon=True)
            t.start()
            threads.append(t)
            time.sleep(0.05)
        for t in threads:
            t.join(timeout=15)
        self.assertEqual(len(results), 20, results)
        self.assertTrue(all(s == 200 for s, _ in results), results)
        names = [n for _, n in results]
        self.assertGreaterEqual(names.count("fast"), 15, names)
        self.assertGreaterEqual(names.count("slow"), 1, names)

    def test_ip_hash_sticks_to_one_server(self):
        names = self.names_fresh([f"/iph/{i}" for i in range(20)])
        self.assertEqual(len(set(names)), 1, names)
        names2 = self.names_keepalive([f"/iph/ka{i}" for i in range(10)])
        self.assertEqual(set(names2), set(names))

    def _check_hash(self, prefix):
        by_uri = {}
        for rnd in range(3):
            for i in range(12):
                uri = f"{prefix}key-{i}?v={i * 7}"
                r = self.get(uri)
                self.assertEqual(r.status, 200, r)
                by_uri.setdefault(uri, []).append(r.body.decode())
        for uri, names in by_uri.items():
            self.assertEqual(len(set(names)), 1, f"{uri} went to {names}")
        used = {names[0] for names in by_uri.values()}
        self.assertGreater(len(used), 1, f"12 different URIs all went to {used}")

    def test_hash_consistent(self):
        self._check_hash("/hc/")

    def test_hash_plain(self):
        self._check_hash("/hp/")


KA_CONF = r"""
events {}
http {
    access_log off;
    upstream ka_plain {
        server 127.0.0.1:@K1@;
        keepalive 8;
    }
    upstream ka_nginx_style {
        server 127.0.0.1:@K2@;
        keepalive 8;
    }
    upstream no_ka {
        server 127.0.0.1:@K3@;
    }
    upstream ka_dropping {
        server 127.0.0.1:@K4@;
        keepalive 8;
    }
    server {
        listen 127.0.0.1:@PORT@;
        location /plain/ { proxy_pass http://ka_plain; }
        location /nginx-style/ {
            proxy_pass http://ka_nginx_style;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location /none/ { proxy_pass http://no_ka; }
        location /dropping/ {
            proxy_pass http://ka_dropping;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
"""


class UpstreamKeepalive(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.k1, cls.k2, cls.k3, cls.k4 = HTTPBackend("k1"), HTTPBackend("k2"), HTTPBackend("k3"), HTTPBackend("k4")
        cls.k4.drop_after_response = True
        try:
            cls.srv = ProxyServer(fill(KA_CONF, K1=cls.k1.port, K2=cls.k2.port, K3=cls.k3.port, K4=cls.k4.port),
                                  workers=1)
            cls.srv.start()
        except BaseException:
            for b in (cls.k1, cls.k2, cls.k3, cls.k4):
                b.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.cleanup()
        finally:
            for b in (cls.k1, cls.k2, cls.k3, cls.k4):
                b.stop()

    def run_50(self, prefix, backend):
        c = self.srv.conn(timeout=10)
        try:
            for i in range(50):
                if i % 5 == 4:
                    body = b"x" * (i * 10)
                    c.send(build_request(f"/{prefix}/secho{i}", {"Content-Length": str(len(body))}, method="POST",
                                         host=f"127.0.0.1:{self.srv.port}", body=body))
                    r = c.read_response()
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.body, backend.name.encode(), r)
                else:
                    c.send(build_request(f"/{prefix}/sr{i}", host=f"127.0.0.1:{self.srv.port}"))
                    r = c.read_response()
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.header("X-Target"), f"/{prefix}/sr{i}", r)
        finally:
            c.close()
        self.assertEqual(backend.count(f"/{prefix}/s"), 50)

    def test_keepalive_reuses_upstream_connections(self):
        self.run_50("plain", self.k1)
        self.assertLessEqual(self.k1.connections, 2,
                             f"backend accepted {self.k1.connections} connections for 50 requests; "
                             f"last request seen: {self.k1.last()}")
        self.assertIn(self.k1.last().version, ("HTTP/1.1",), self.k1.last())

    def test_keepalive_nginx_style_config(self):
        self.run_50("nginx-style", self.k2)
        self.assertLessEqual(self.k2.connections, 2, self.k2.last())

    def test_keepalive_across_client_connections(self):
        # fresh client connections still reuse the cached upstream connection
        before = self.k2.connections
        for i in range(10):
            r = backends.http_request(self.srv.port, "GET", f"/nginx-style/fresh{i}")
            self.assertEqual(r.status, 200, r)
        self.assertLessEqual(self.k2.connections - before, 2)

    def test_pooled_connection_closed_by_upstream(self):
        # k4 closes every connection right after a response that looked keep-alive: a cached
        # connection that the upstream has closed must never turn into an error
        c = self.srv.conn(timeout=10)
        try:
            for i in range(12):
                if i % 3 == 2:
                    body = f"post {i}".encode()
                    c.send(build_request(f"/dropping/p{i}", {"Content-Length": str(len(body))}, method="POST",
                                         host=f"127.0.0.1:{self.srv.port}", body=body))
                else:
                    c.send(build_request(f"/dropping/g{i}", host=f"127.0.0.1:{self.srv.port}"))
                try:
                    r = c.read_response()
                except harness.ConnectionClosed as e:
                    self.fail(f"request {i}: no response ({e})\n{self.srv.logs()}")
                self.assertEqual((r.status, r.body), (200, b"k4"), f"request {i}: {r}\n{self.srv.logs()}")
                time.sleep(0.05)
        finally:
            c.close()
        self.assertEqual(self.k4.count("/dropping/"), 12)

    def test_no_keepalive_one_connection_per_request(self):
        self.run_50("none", self.k3)
        self.assertEqual(self.k3.connections, 50)


if __name__ == "__main__":
    backends.main()
