"""Virtual hosts: server selection by Host (nginx order), default_server, several ports."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confharness  # noqa: E402
from confharness import ConfServer  # noqa: E402

CONF = r"""
http {
    default_type text/plain;
    server {
        listen 127.0.0.1:@PORT@;
        server_name first.test;
        return 200 "first";
    }
    server {
        listen 127.0.0.1:@PORT@;
        server_name exact.example.com alias.example.com;
        return 200 "exact";
    }
    server {
        listen 127.0.0.1:@PORT@;
        server_name *.example.com;
        return 200 "wild-lead";
    }
    server {
        listen 127.0.0.1:@PORT@;
        server_name *.deep.example.com;
        return 200 "wild-lead-long";
    }
    server {
        listen 127.0.0.1:@PORT@;
        server_name www.example.*;
        return 200 "wild-trail";
    }
    server {
        listen 127.0.0.1:@PORT@ default_server;
        server_name default.test;
        return 200 "default";
    }
    server {
        listen 127.0.0.1:@PORT@;
        server_name ~^re\d+\.test$ ~^api\.;
        return 200 "regex";
    }
    server {
        listen 127.0.0.1:@PORT@;
        server_name .dot.test;
        return 200 "dot";
    }

    # a second port: no default_server -> the first server is the default
    server {
        listen 127.0.0.1:@PORT2@;
        server_name p2-first.test;
        return 200 "p2-first";
    }
    server {
        listen 127.0.0.1:@PORT2@;
        server_name exact.example.com;
        return 200 "p2-exact";
    }
    server {
        listen 127.0.0.1:@PORT2@;
        server_name p2-other.test;
        root www;
    }
}
"""


class VirtualHosts(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = ConfServer(CONF, files={"www/index.html": "p2-other index\n"})
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def body(self, host, port=None, path="/"):
        r = self.srv.get(path, host=host, port=port)
        self.assertEqual(r.status, 200, (host, r))
        return r.body.decode()

    def test_exact_name(self):
        self.assertEqual(self.body("exact.example.com"), "exact")
        self.assertEqual(self.body("alias.example.com"), "exact")
        self.assertEqual(self.body("first.test"), "first")

    def test_host_port_case_trailing_dot_ignored(self):
        self.assertEqual(self.body(f"exact.example.com:{self.srv.port}"), "exact")
        self.assertEqual(self.body("exact.example.com:1"), "exact")
        self.assertEqual(self.body("EXACT.Example.COM"), "exact")
        self.assertEqual(self.body("exact.example.com."), "exact")
        self.assertEqual(self.body("Exact.Example.Com.:8080"), "exact")

    def test_leading_wildcard(self):
        self.assertEqual(self.body("foo.example.com"), "wild-lead")
        self.assertEqual(self.body("a.b.example.com"), "wild-lead")
        # *.example.com does not match example.com itself
        self.assertEqual(self.body("example.com"), "default")

    def test_longest_leading_wildcard_wins(self):
        self.assertEqual(self.body("x.deep.example.com"), "wild-lead-long")
        self.assertEqual(self.body("deep.example.com"), "wild-lead")

    def test_trailing_wildcard(self):
        self.assertEqual(self.body("www.example.org"), "wild-trail")
        self.assertEqual(self.body("www.example.co.uk"), "wild-trail")

    def test_leading_wildcard_beats_trailing(self):
        # www.example.com matches both *.example.com and www.example.*
        self.assertEqual(self.body("www.example.com"), "wild-lead")

    def test_exact_beats_wildcards(self):
        self.assertEqual(self.body("exact.example.com"), "exact")

    def test_regex_names(self):
        self.assertEqual(self.body("re42.test"), "regex")
        self.assertEqual(self.body("RE7.TEST"), "regex")   # case-insensitive
        self.assertEqual(self.body("api.whatever.net"), "regex")
        self.assertEqual(self.body("rex.test"), "default")

    def test_dot_name(self):
        self.assertEqual(self.body("dot.test"), "dot")
        self.assertEqual(self.body("a.dot.test"), "dot")
        self.assertEqual(self.body("notdot.test"), "default")

    def test_unknown_host_goes_to_default_server(self):
        self.assertEqual(self.body("unknown.invalid"), "default")
        self.assertEqual(self.body("127.0.0.1"), "default")

    def test_http10_without_host_goes_to_default(self):
        data, closed = self.srv.raw(b"GET / HTTP/1.0\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200"), data[:200])
        self.assertTrue(data.endswith(b"default"), data[-200:])

    def test_absolute_uri_host_wins_over_host_header(self):
        # RFC 9112 3.2.2: the authority of an absolute-form target replaces Host
        c = self.srv.conn()
        try:
            c.send(b"GET http://exact.example.com/ HTTP/1.1\r\nHost: first.test\r\n"
                   b"Connection: close\r\n\r\n")
            r = c.read_response()
        finally:
            c.close()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"exact")

    def test_second_port_has_its_own_servers(self):
        p2 = self.srv.port2
        self.assertEqual(self.body("exact.example.com", port=p2), "p2-exact")
        self.assertEqual(self.body("p2-first.test", port=p2), "p2-first")
        # unknown host on port 2: no default_server there -> the first server
        self.assertEqual(self.body("unknown.invalid", port=p2), "p2-first")
        self.assertEqual(self.body("first.test", port=p2), "p2-first")
        # a name that exists only on port 1 does not leak to port 2 and vice versa
        self.assertEqual(self.body("p2-other.test", port=p2), "p2-other index\n")
        self.assertEqual(self.body("p2-other.test"), "default")

    def test_keepalive_requests_select_per_request(self):
        # each request on one connection is routed by its own Host
        c = self.srv.conn()
        try:
            for host, want in (("exact.example.com", b"exact"), ("first.test", b"first"),
                               ("foo.example.com", b"wild-lead"), ("nope", b"default")):
                c.send(confharness.build_request("/", host=host))
                r = c.read_response()
                self.assertEqual(r.body, want, host)
        finally:
            c.close()


class NoDefaultServer(unittest.TestCase):
    """With no default_server, the first server of the address is the default even if
    a later one is listed with a more generic name."""

    def test_first_server_is_default(self):
        srv = ConfServer(r"""
http {
    server { listen 127.0.0.1:@PORT@; server_name one.test; return 200 "one"; }
    server { listen 127.0.0.1:@PORT@; server_name two.test; return 200 "two"; }
}
""")
        srv.start()
        self.addCleanup(srv.cleanup)
        self.assertEqual(srv.get("/", host="zzz").body, b"one")
        self.assertEqual(srv.get("/", host="two.test").body, b"two")
        self.assertEqual(srv.get("/", host="one.test").body, b"one")


class DefaultServerOnLaterServer(unittest.TestCase):
    def test_default_server_later_in_file(self):
        srv = ConfServer(r"""
http {
    server { listen 127.0.0.1:@PORT@; server_name one.test; return 200 "one"; }
    server { listen 127.0.0.1:@PORT@; server_name two.test; return 200 "two"; }
    server { listen 127.0.0.1:@PORT@ default_server; server_name three.test; return 200 "three"; }
}
""")
        srv.start()
        self.addCleanup(srv.cleanup)
        self.assertEqual(srv.get("/", host="zzz").body, b"three")
        self.assertEqual(srv.get("/", host="one.test").body, b"one")


if __name__ == "__main__":
    confharness.main()
