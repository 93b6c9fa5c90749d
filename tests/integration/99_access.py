"""allow / deny (first matching rule decides, inherited as a list) and internal locations."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from confharness import ConfServer  # noqa: E402

CONF = r"""
http {
    default_type text/plain;
    server {
        listen 127.0.0.1:@PORT@;
        root www;
        location /open/ { }
        location /local/ { allow 127.0.0.1; deny all; }
        location /denied/ { deny all; }
        location /net/ { deny 127.0.0.0/8; allow all; }
        location ~ /\.ht { deny all; }
        location = /only-internal.html { internal; }
        error_page 404 /only-internal.html;
    }
}
"""


class Access(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        files = {f"www/{d}/f.txt": f"{d}\n" for d in ("open", "local", "denied", "net")}
        files["www/.htpasswd"] = "secret\n"
        files["www/only-internal.html"] = "custom not found\n"
        cls.srv = ConfServer(CONF, files=files)
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_rules(self):
        self.assertEqual(self.srv.get("/open/f.txt").status, 200)
        self.assertEqual(self.srv.get("/local/f.txt").status, 200)   # allow 127.0.0.1 matches first
        self.assertEqual(self.srv.get("/denied/f.txt").status, 403)
        self.assertEqual(self.srv.get("/net/f.txt").status, 403)     # 127.0.0.0/8 matches
        r = self.srv.get("/.htpasswd")
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"secret", r.body)

    def test_internal_location(self):
        r = self.srv.get("/only-internal.html")
        self.assertEqual(r.status, 404)                   # not reachable from outside...
        self.assertEqual(r.body, b"custom not found\n")   # ...but it is the 404 page itself
        r = self.srv.get("/missing")
        self.assertEqual((r.status, r.body), (404, b"custom not found\n"))


if __name__ == "__main__":
    unittest.main()
