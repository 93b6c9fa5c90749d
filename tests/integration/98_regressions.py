"""Regressions found while building riptide: each test reproduces one bug that was fixed."""

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
        # (root is nginx's default, "html".) An alias location checked by try_files first: its file must never be served for
        # the same name under the server's root (the open-file cache once keyed entries
        # by the inherited root text instead of the directory actually opened).
        location /img/ { alias @TMP@/images/; try_files $uri =404; }
        location /alias2/ { alias @TMP@/images/; }
        # Regex captures: $1 in return and in alias (the capture cannot climb out).
        location ~ ^/user/(\d+)/(\w+)$ { return 200 "user $1 tab $2"; }
        location ~ ^/pics/(.+)$ { alias @TMP@/images/$1; }
    }
}
"""


class Regressions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = ConfServer(CONF, workers=1,
                             files={"html/a.png": "from the root\n", "images/a.png": "from the alias\n"})
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_alias_and_root_files_with_one_name_stay_apart(self):
        r = self.srv.get("/img/a.png")
        self.assertEqual((r.status, r.body), (200, b"from the alias\n"))
        r = self.srv.get("/a.png")
        self.assertEqual((r.status, r.body), (200, b"from the root\n"))
        r = self.srv.get("/alias2/a.png")
        self.assertEqual((r.status, r.body), (200, b"from the alias\n"))
        r = self.srv.get("/a.png")
        self.assertEqual((r.status, r.body), (200, b"from the root\n"))


    def test_regex_captures(self):
        r = self.srv.get("/user/42/profile")
        self.assertEqual((r.status, r.body), (200, b"user 42 tab profile"))
        r = self.srv.get("/pics/a.png")
        self.assertEqual((r.status, r.body), (200, b"from the alias\n"))
        r = self.srv.get("/pics/%2e%2e/html/a.png")  # decoded to /pics/../html/a.png: no such location
        self.assertNotEqual(r.body, b"from the root\n")
        r = self.srv.get("/pics/..%2f..%2fetc/passwd")
        self.assertIn(r.status, (400, 404))


if __name__ == "__main__":
    unittest.main()
