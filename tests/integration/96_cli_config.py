"""Command line and configuration errors: -t, -T, -g, -c, -p, -s, -v/-V; every broken
config is reported with its exact file:line:col and nothing is served."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confharness  # noqa: E402
from confharness import BIN, ConfServer, TempDir, free_port, run_bin  # noqa: E402

# (name, config text, expected (line, col) of the fault, a word expected in the message)
BROKEN = [
    ("unknown_directive",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    bogus_directive on;\n  }\n}\n",
     (4, 5), "unknown directive"),
    ("missing_semicolon",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@\n    root www;\n  }\n}\n",
     (4, 5), "root"),
    ("missing_semicolon_at_eof",
     "worker_processes 1\n",
     (2, 1), "worker_processes"),
    ("wrong_context_main",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n  }\n}\nroot www;\n",
     (6, 1), "not allowed"),
    ("wrong_context_location",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    location / { listen 81; }\n  }\n}\n",
     (4, 18), "not allowed"),
    ("bad_size",
     "http {\n  client_max_body_size 10q;\n  server { listen 127.0.0.1:@PORT@; }\n}\n",
     (2, 24), "10q"),
    ("bad_time",
     "http {\n  keepalive_timeout 5x;\n  server { listen 127.0.0.1:@PORT@; }\n}\n",
     (2, 21), "5x"),
    ("duplicate_default_server",
     "http {\n  server { listen 127.0.0.1:@PORT@ default_server; }\n"
     "  server { listen 127.0.0.1:@PORT@ default_server; }\n}\n",
     (3, 12), "default"),
    ("unterminated_quote",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    return 200 \"abc;\n  }\n}\n",
     (4, 16), "unterminated"),
    ("missing_include",
     "http {\n  server { listen 127.0.0.1:@PORT@; }\n  include nothere.conf;\n}\n",
     (3, 11), "nothere.conf"),
    ("unbalanced_brace",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n  }\n",
     (5, 1), "end of file"),
    ("extra_brace",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n  }\n}\n}\n",
     (6, 1), "}"),
    ("duplicate_directive",
     "worker_processes 1;\nworker_processes 2;\nhttp { server { listen 127.0.0.1:@PORT@; } }\n",
     (2, 1), "duplicate"),
    ("bad_regex",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    location ~ ( { }\n  }\n}\n",
     (4, 16), "regular expression"),
    ("glued_quote",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    root \"a\"b;\n  }\n}\n",
     (4, 13), "quoted"),
    ("duplicate_server_name",
     "http {\n  server { server_name a.test; listen 127.0.0.1:@PORT@; }\n"
     "  server { server_name b.test a.test; listen 127.0.0.1:@PORT@; }\n}\n",
     (3, 31), "a.test"),
    ("wrong_arg_count",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    root;\n  }\n}\n",
     (4, 5), "root"),
    ("bad_return_code",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    return abc;\n  }\n}\n",
     (4, 12), "return"),
    ("bad_worker_processes",
     "worker_processes lots;\nhttp { server { listen 127.0.0.1:@PORT@; } }\n",
     (1, 18), "lots"),
    ("duplicate_location",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    location /a/ { }\n    location /a/ { }\n  }\n}\n",
     (5, 5), "/a/"),
    ("root_and_alias",
     "http {\n  server {\n    listen 127.0.0.1:@PORT@;\n    location /a/ { root x; alias y; }\n  }\n}\n",
     (4, 28), "alias"),
]


class ConfigBase(unittest.TestCase):

    def setUp(self):
        self.tmp = TempDir("riptide-cli-")
        self.addCleanup(self.tmp.cleanup)
        os.makedirs(os.path.join(self.tmp.path, "logs"))
        os.makedirs(os.path.join(self.tmp.path, "www"))

    def write(self, rel, text):
        p = os.path.join(self.tmp.path, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p

    def preamble(self):
        return f"error_log stderr info;\npid {self.tmp.path}/riptide.pid;\n"

    def check_broken(self, name, text, pos, word):
        port = free_port()
        # the preamble shifts line numbers by 2
        body = self.preamble() + text.replace("@PORT@", str(port))
        path = self.write(f"{name}.conf", body)
        line, col = pos[0] + 2, pos[1]
        r = run_bin(["-p", self.tmp.path, "-t", "-c", path])
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(r.returncode, 1, f"{name}: -t rc {r.returncode}\n{err}")
        self.assertIn(f"{path}:{line}:{col}:", err, f"{name}: position\n{err}")
        self.assertIn(word, err, name)
        self.assertIn("test failed", err, name)
        self.assertNotIn("test is successful", err, name)
        # and without -t: exits non-zero with the same message, never serves
        proc = subprocess.Popen([BIN, "-p", self.tmp.path, "-c", path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err2 = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            self.fail(f"{name}: riptide -c with a broken config kept running")
        err2 = err2.decode("utf-8", "replace")
        self.assertNotEqual(proc.returncode, 0, name)
        self.assertIn(f"{path}:{line}:{col}:", err2, f"{name}: position without -t\n{err2}")
        with socket.socket() as s:
            s.settimeout(0.5)
            self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0, f"{name}: port is served")
        self.assertFalse(os.path.exists(os.path.join(self.tmp.path, "riptide.pid")), name)


class ConfigErrors(ConfigBase):
    pass


def _make(name, text, pos, word):
    def t(self):
        self.check_broken(name, text, pos, word)
    t.__name__ = f"test_broken_{name}"
    return t


for _case in BROKEN:
    setattr(ConfigErrors, f"test_broken_{_case[0]}", _make(*_case))


class ConfigErrorsInInclude(ConfigBase):
    """The error is reported against the included file, not the including one."""

    def test_error_in_included_file(self):
        self.write("conf.d/a.conf", "server {\n    listen 127.0.0.1:1;\n}\n")
        inc = self.write("conf.d/b.conf", "server {\n    listen 127.0.0.1:2;\n    nope on;\n}\n")
        main = self.write("main.conf", self.preamble() + "http {\n    include conf.d/*.conf;\n}\n")
        r = run_bin(["-p", self.tmp.path, "-t", "-c", main])
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn(f"{inc}:3:5:", err)

    def test_include_relative_to_including_file(self):
        # sub/main.conf includes "parts/x.conf" -> sub/parts/x.conf, not PREFIX/parts/x.conf
        self.write("sub/parts/x.conf", "server { listen 127.0.0.1:@P@; return 200 \"inc\"; }\n")
        self.write("parts/x.conf", "this is not valid;\n")
        port = free_port()
        p = os.path.join(self.tmp.path, "sub/parts/x.conf")
        with open(p) as f:
            t = f.read().replace("@P@", str(port))
        with open(p, "w") as f:
            f.write(t)
        main = self.write("sub/main.conf", self.preamble() + "http {\n    include parts/x.conf;\n}\n")
        r = run_bin(["-p", self.tmp.path, "-t", "-c", main])
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def test_glob_matching_nothing_is_ok(self):
        main = self.write("main.conf", self.preamble() +
                          f"http {{\n    include none-*.conf;\n    server {{ listen 127.0.0.1:{free_port()}; }}\n}}\n")
        r = run_bin(["-p", self.tmp.path, "-t", "-c", main])
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def test_self_include(self):
        main = self.write("main.conf", self.preamble() + "http {\n    include main.conf;\n}\n")
        r = run_bin(["-p", self.tmp.path, "-t", "-c", main])
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{main}:4:", r.stderr.decode())


class CommandLine(unittest.TestCase):

    def setUp(self):
        self.tmp = TempDir("riptide-cli-")
        self.addCleanup(self.tmp.cleanup)
        os.makedirs(os.path.join(self.tmp.path, "logs"))
        os.makedirs(os.path.join(self.tmp.path, "www"))
        self.port = free_port()
        self.inc = os.path.join(self.tmp.path, "conf.d", "site.conf")
        os.makedirs(os.path.dirname(self.inc))
        with open(self.inc, "w") as f:
            f.write(f"server {{\n    listen 127.0.0.1:{self.port};\n    root www;\n    return 200 \"site\";\n}}\n")
        self.conf = os.path.join(self.tmp.path, "riptide.conf")
        self.conf_text = (f"error_log stderr info;\npid {self.tmp.path}/riptide.pid;\n"
                          "http {\n    include conf.d/*.conf;\n}\n")
        with open(self.conf, "w") as f:
            f.write(self.conf_text)

    def test_t_ok(self):
        r = run_bin(["-p", self.tmp.path, "-t", "-c", self.conf])
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 0, err)
        self.assertIn("syntax is ok", err)
        self.assertIn("test is successful", err)
        self.assertIn(self.conf, err)
        # -t starts nothing
        with socket.socket() as s:
            self.assertNotEqual(s.connect_ex(("127.0.0.1", self.port)), 0)

    def test_T_dumps_every_file(self):
        r = run_bin(["-p", self.tmp.path, "-T", "-c", self.conf])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = r.stdout.decode()
        self.assertIn(f"# configuration file {self.conf}:\n{self.conf_text}", out)
        with open(self.inc) as f:
            self.assertIn(f"# configuration file {self.inc}:\n{f.read()}", out)
        self.assertLess(out.index(self.conf), out.index(self.inc))

    def test_g_directives(self):
        r = run_bin(["-p", self.tmp.path, "-g", "worker_processes 3;", "-t", "-c", self.conf])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        r = run_bin(["-p", self.tmp.path, "-g", "worker_processes 3", "-t", "-c", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn("command line:1:", r.stderr.decode())
        r = run_bin(["-p", self.tmp.path, "-g", "bogus 1;", "-t", "-c", self.conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn("command line:1:1:", r.stderr.decode())

    def test_g_duplicate_of_file_directive(self):
        with open(self.conf, "a") as f:
            f.write("worker_processes 2;\n")
        r = run_bin(["-p", self.tmp.path, "-g", "worker_processes 3;", "-t", "-c", self.conf])
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("duplicate", err)
        self.assertIn(f"{self.conf}:6:1:", err)

    def test_g_worker_processes_takes_effect(self):
        proc = subprocess.Popen([BIN, "-p", self.tmp.path, "-c", self.conf, "-g", "worker_processes 3;"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            self.assertTrue(confharness.wait_port("127.0.0.1", self.port, 5))
            kids = confharness.wait_for(
                lambda: len([p for p in confharness.children_of(proc.pid) if confharness.pid_alive(p)]) == 3, 5)
            self.assertTrue(kids, confharness.children_of(proc.pid))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def test_missing_config_file(self):
        missing = os.path.join(self.tmp.path, "nope.conf")
        r = run_bin(["-p", self.tmp.path, "-t", "-c", missing])
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing, r.stderr.decode())

    def test_relative_config_resolves_against_prefix(self):
        # -c riptide.conf with -p: nginx resolves a relative -c against the prefix
        r = run_bin(["-p", self.tmp.path, "-t", "-c", "riptide.conf"], cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def test_version(self):
        r = run_bin(["-v"])
        self.assertEqual(r.returncode, 0)
        out = (r.stdout + r.stderr).decode()
        self.assertRegex(out, r"riptide/\d+\.\d+\.\d+")
        r = run_bin(["-V"])
        self.assertEqual(r.returncode, 0)
        outV = (r.stdout + r.stderr).decode()
        self.assertRegex(outV, r"riptide/\d+\.\d+\.\d+")
        self.assertGreater(len(outV), len(out))

    def test_unknown_option(self):
        r = run_bin(["-Z"])
        self.assertNotEqual(r.returncode, 0)

    def test_signal_without_running_master(self):
        r = run_bin(["-p", self.tmp.path, "-c", self.conf, "-s", "reload"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("riptide.pid", r.stderr.decode())

    def test_bad_signal_name(self):
        r = run_bin(["-p", self.tmp.path, "-c", self.conf, "-s", "explode"])
        self.assertNotEqual(r.returncode, 0)

    def test_s_stop_and_pid_file(self):
        proc = subprocess.Popen([BIN, "-p", self.tmp.path, "-c", self.conf], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            self.assertTrue(confharness.wait_port("127.0.0.1", self.port, 5))
            pidfile = os.path.join(self.tmp.path, "riptide.pid")
            self.assertTrue(confharness.wait_for(lambda: os.path.exists(pidfile), 3))
            with open(pidfile) as f:
                self.assertEqual(int(f.read().strip()), proc.pid)
            r = confharness.curl([f"http://127.0.0.1:{self.port}/"])
            self.assertEqual(r.stdout, b"site")
            r = run_bin(["-p", self.tmp.path, "-c", self.conf, "-s", "stop"])
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertIsNotNone(proc.wait(5))
            # the pid file is removed at exit
            self.assertFalse(os.path.exists(pidfile))
            with socket.socket() as s:
                self.assertNotEqual(s.connect_ex(("127.0.0.1", self.port)), 0)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)


if __name__ == "__main__":
    confharness.main()
