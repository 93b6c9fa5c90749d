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


if __name__ == "__main__":
    unittest.main()
