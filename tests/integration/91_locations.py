"""Location matching with nginx precedence; root per server/location, alias, index."""

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
        root www;

        location = /exact { return 200 "exact"; }
        location = / { return 200 "exact-root"; }
        location ^~ /static/ { return 200 "static"; }
        location ~ \.php$ { return 200 "php"; }
        location ~* \.(jpg|png)$ { return 200 "image"; }
        location ~ ^/docs/.*\.txt$ { return 200 "docs-txt-regex"; }
        location /docs/ { return 200 "docs"; }
        location /docs/deep/ { return 200 "docs-deep"; }
        location /prefix { return 200 "prefix"; }
        location / { return 200 "root"; }

        location /nest/ {
            location /nest/inner/ { return 200 "nest-inner"; }
            location ~ \.css$ { return 200 "nest-css"; }
            return 200 "nest";
        }
        location ^~ /stop/ {
            location ~ \.png$ { return 200 "stop-nested-png"; }
            return 200 "stop";
        }
        location ~ /first/ { return 200 "regex-first"; }
        location ~ /first/second { return 200 "regex-second"; }
    }

    server {
        listen 127.0.0.1:@PORT2@;
        root www;
        index missing.html second.html third.html;

        location /img/ { alias @TMP@/pictures/; }
        location /loc-root/ { root @TMP@/other; }
        location /dir/ { index nothere.html third.html; }
    }
}
"""


class Locations(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = ConfServer(CONF, files={
            "www/second.html": "second\n",
            "www/third.html": "third-top\n",
            "www/page.txt": "server root page\n",
            "www/dir/third.html": "dir third\n",
            "www/dir/second.html": "dir second (not in location index)\n",
            "www/sub/second.html": "sub second\n",
            "www/sub/third.html": "sub third\n",
            "www/img/a.png": "WRONG: root, not alias\n",
            "pictures/a.png": "alias a.png\n",
            "pictures/sub/b.txt": "alias sub b\n",
            "other/loc-root/x.txt": "location root x\n",
            "www/loc-root/x.txt": "WRONG: server root\n",
        })
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def loc(self, path):
        r = self.srv.get(path)
        self.assertEqual(r.status, 200, (path, r))
        return r.body.decode()

    def test_exact(self):
        self.assertEqual(self.loc("/exact"), "exact")
        self.assertEqual(self.loc("/"), "exact-root")
        # exact does not match longer URIs
        self.assertEqual(self.loc("/exact/"), "root")
        self.assertEqual(self.loc("/exactly"), "root")

    def test_exact_ignores_query(self):
        self.assertEqual(self.loc("/exact?a=1"), "exact")

    def test_exact_beats_regex(self):
        # /exact would not match a regex anyway; use a path that does: none here,
        # so check that "/" (exact) beats the "/" prefix
        self.assertEqual(self.loc("/"), "exact-root")

    def test_caret_tilde_stops_regex(self):
        self.assertEqual(self.loc("/static/a.php"), "static")
        self.assertEqual(self.loc("/static/a.png"), "static")
        self.assertEqual(self.loc("/static/"), "static")

    def test_regex_beats_plain_prefix(self):
        self.assertEqual(self.loc("/docs/a.php"), "php")
        self.assertEqual(self.loc("/docs/deep/x.PNG"), "image")
        self.assertEqual(self.loc("/docs/readme.txt"), "docs-txt-regex")
        self.assertEqual(self.loc("/anything.php"), "php")

    def test_case_sensitivity(self):
        self.assertEqual(self.loc("/a.jpg"), "image")
        self.assertEqual(self.loc("/a.JPG"), "image")       # ~* case-insensitive
        self.assertEqual(self.loc("/a.PHP"), "root")        # ~ case-sensitive

    def test_first_regex_wins(self):
        # /x.php.png: both \.php$ (no: ends in png) -> image only
        self.assertEqual(self.loc("/x.php.png"), "image")
        # /first/second matches both regexes: the first in config order wins
        self.assertEqual(self.loc("/first/second"), "regex-first")
        # /docs/x.txt.php: php regex comes before docs-txt regex, and matches
        self.assertEqual(self.loc("/docs/x.txt.php"), "php")

    def test_longest_prefix_without_regex(self):
        self.assertEqual(self.loc("/docs/"), "docs")
        self.assertEqual(self.loc("/docs/x"), "docs")
        self.assertEqual(self.loc("/docs/deep/x"), "docs-deep")
        self.assertEqual(self.loc("/docs"), "root")          # /docs/ needs the slash
        self.assertEqual(self.loc("/prefix"), "prefix")
        self.assertEqual(self.loc("/prefixed/more"), "prefix")
        self.assertEqual(self.loc("/other"), "root")

    def test_nested_locations(self):
        self.assertEqual(self.loc("/nest/"), "nest")
        self.assertEqual(self.loc("/nest/a"), "nest")
        self.assertEqual(self.loc("/nest/inner/a"), "nest-inner")
        self.assertEqual(self.loc("/nest/a.css"), "nest-css")
        # the nested regex is tried before the outer ones
        self.assertEqual(self.loc("/nest/a.php"), "php")
        self.assertEqual(self.loc("/nest/inner/a.css"), "nest-css")

    def test_nested_regex_in_caret_tilde(self):
        self.assertEqual(self.loc("/stop/a.png"), "stop-nested-png")
        self.assertEqual(self.loc("/stop/a.php"), "stop")
        self.assertEqual(self.loc("/stop/a.jpg"), "stop")

    def test_matching_uses_normalized_path(self):
        # percent-decoding and dot segments happen before matching
        self.assertEqual(self.loc("/%65xact"), "exact")
        self.assertEqual(self.loc("/docs/../exact"), "exact")
        self.assertEqual(self.loc("/static/../docs/x"), "docs")
        self.assertEqual(self.loc("//docs//x"), "docs")

    # ---- second server: root / alias / index

    def get2(self, path):
        return self.srv.get(path, port=self.srv.port2)

    def test_alias(self):
        r = self.get2("/img/a.png")
        self.assertEqual((r.status, r.body), (200, b"alias a.png\n"), r)
        r = self.get2("/img/sub/b.txt")
        self.assertEqual((r.status, r.body), (200, b"alias sub b\n"), r)
        self.assertEqual(self.get2("/img/none.png").status, 404)

    def test_alias_no_escape(self):
        r = self.get2("/img/../other/loc-root/x.txt")
        # normalised to /other/loc-root/x.txt under the server root: not there
        self.assertEqual(r.status, 404, r)
        r = self.get2("/img/%2e%2e/other/loc-root/x.txt")
        self.assertIn(r.status, (400, 404), r)

    def test_location_root(self):
        r = self.get2("/loc-root/x.txt")
        self.assertEqual((r.status, r.body), (200, b"location root x\n"), r)

    def test_server_root(self):
        r = self.get2("/page.txt")
        self.assertEqual((r.status, r.body), (200, b"server root page\n"), r)

    def test_index_first_existing_wins(self):
        r = self.get2("/")
        self.assertEqual((r.status, r.body), (200, b"second\n"), r)
        r = self.get2("/sub/")
        self.assertEqual((r.status, r.body), (200, b"sub second\n"), r)

    def test_location_index_replaces_server_index(self):
        r = self.get2("/dir/")
        self.assertEqual((r.status, r.body), (200, b"dir third\n"), r)

    def test_directory_without_slash_redirects(self):
        r = self.get2("/sub")
        self.assertEqual(r.status, 301, r)
        self.assertTrue(r.header("Location", "").endswith("/sub/"), r)


if __name__ == "__main__":
    confharness.main()
