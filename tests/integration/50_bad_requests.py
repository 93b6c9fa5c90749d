"""Malformed requests and limits: the right status, then the connection is closed and
nothing pipelined after the bad request is answered. The worker must survive all of it."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import build_request, parse_responses  # noqa: E402

OK_BODY = b"<p>ok</p>\n"
FOLLOW = b"GET /ok.html HTTP/1.1\r\nHost: x\r\n\r\n"


class BadRequests(harness.ServerTestCase):

    @classmethod
    def build_root(cls, root):
        root.file("index.html", "<p>index</p>\n")
        root.file("ok.html", OK_BODY)

    def setUp(self):
        self.workers = self.server.worker_pids()
        self.assertEqual(len(self.workers), 1)

    def tearDown(self):
        # nothing a client sends may crash a worker
        self.assertEqual(self.server.worker_pids(), self.workers, "worker died / was respawned")
        self.assertTrue(harness.pid_alive(self.server.pid))

    # ------------------------------------------------------------------ helpers

    def exchange(self, raw, timeout=3.0):
        """Send raw (ignoring a reset while sending), read until close.
        Returns (responses, closed)."""
        c = self.server.conn(timeout=timeout)
        try:
            try:
                c.send(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass
            data, closed = c.read_all_until_close(timeout=timeout)
        finally:
            c.close()
        return parse_responses(data), closed, data

    def assertRejected(self, raw, status, follow=True):
        """raw must get exactly one response `status`, the connection must close, and
        the valid request pipelined behind it must not be answered."""
        rs, closed, data = self.exchange(raw + (FOLLOW if follow else b""))
        self.assertGreaterEqual(len(rs), 1, f"no response to {raw[:120]!r}: {data[:200]!r}")
        self.assertEqual(rs[0].status, status, f"{raw[:160]!r} -> {rs[0]!r}")
        self.assertEqual(rs[0].version, "HTTP/1.1")
        self.assertEqual(len(rs), 1, f"request after the bad one was answered: {rs[1:]!r}")
        self.assertTrue(closed, f"connection left open after {status} for {raw[:120]!r}")
        self.assertEqual(rs[0].header("Connection", "close").lower(), "close")
        self.assertIn(str(status).encode(), rs[0].body)
        return rs[0]

    # ------------------------------------------------------------------ limits

    def test_request_line_too_long_414(self):
        self.assertRejected(build_request("/" + "a" * 9000), 414)

    def test_request_line_just_under_limit_ok(self):
        r = self.req(build_request("/ok.html?" + "a" * 7000))
        self.assertEqual((r.status, r.body), (200, OK_BODY))

    def test_headers_too_large_431(self):
        hdrs = {f"X-Big-{i}": "v" * 1000 for i in range(40)}   # ~40 KiB
        self.assertRejected(build_request("/ok.html", hdrs), 431)

    def test_single_huge_header_400(self):
        # one field line must fit in one large header buffer (8k): 400, as nginx
        self.assertRejected(build_request("/ok.html", {"X-Huge": "v" * 40000}), 400)
        self.assertRejected(build_request("/ok.html", {"X-Huge": "v" * 9000}), 400)
        r = self.req(build_request("/ok.html", {"X-Huge": "v" * 9000}))
        self.assertIn(b"<title>400 Request Header Or Cookie Too Large</title>", r.body)
        r = self.req(build_request("/ok.html", {"X-Long": "v" * 8000}))
        self.assertEqual((r.status, r.body), (200, OK_BODY))

    def test_too_many_header_fields_431(self):
        hdrs = {f"X-H{i}": "1" for i in range(120)}
        self.assertRejected(build_request("/ok.html", hdrs), 431)

    def test_many_header_fields_under_limit_ok(self):
        hdrs = {f"X-H{i}": "1" for i in range(90)}
        r = self.req(build_request("/ok.html", hdrs))
        self.assertEqual((r.status, r.body), (200, OK_BODY))

    def test_body_too_large_413(self):
        self.assertRejected(build_request("/ok.html", {"Content-Length": str(2 * 1024 * 1024)}),
                            413, follow=False)

    def test_content_length_huge_number(self):
        # overflowing numbers must not wrap around
        rs, closed, data = self.exchange(
            build_request("/ok.html", {"Content-Length": "184467440737095516160"}))
        self.assertTrue(rs and rs[0].status in (400, 413), data[:200])
        self.assertEqual(len(rs), 1)
        self.assertTrue(closed)

    # ------------------------------------------------------------------ Host

    def test_missing_host_400(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\n\r\n", 400)

    def test_duplicate_host_400(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)

    def test_http10_without_host_ok(self):
        r = self.req(b"GET /ok.html HTTP/1.0\r\n\r\n")
        self.assertEqual((r.status, r.body), (200, OK_BODY))

    # ------------------------------------------------------------------ header syntax

    def test_space_before_colon_400(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nX-Foo : bar\r\n\r\n", 400)
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost : x\r\n\r\n", 400)

    def test_obs_fold_400(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nX-Foo: bar\r\n  continued\r\n\r\n", 400)
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nX-Foo: bar\r\n\tcontinued\r\n\r\n", 400)

    def test_first_header_line_starts_with_space_400(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\n Host: x\r\n\r\n", 400)

    def test_control_chars_in_value_400(self):
        for ch in (b"\x00", b"\x01", b"\x1f", b"\x7f"):
            self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nX-A: a" + ch + b"b\r\n\r\n", 400)

    def test_tab_in_value_ok(self):
        r = self.req(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\n\r\n")
        self.assertEqual(r.status, 200)

    def test_bare_cr_400(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400)
        self.assertRejected(b"GET /ok.html HTTP/1.1\rHost: x\r\n\r\n", 400)

    def test_header_name_invalid_chars_400(self):
        for name in (b"X(A)", b"X A", b"", b"X\x01"):
            self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\n" + name + b": v\r\n\r\n", 400)

    def test_missing_colon_400(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400)

    # ------------------------------------------------------------------ framing

    def test_cl_and_te_400(self):
        self.assertRejected(b"POST /ok.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                            b"Content-Length: 5\r\n\r\n0\r\n\r\n", 400)

    def test_two_content_lengths_400(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                            b"Content-Length: 6\r\n\r\nhello!", 400)
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                            b"Content-Length: 5\r\n\r\nhello", 400)
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", 400)

    def test_bad_content_length_values_400(self):
        for v in (b"+5", b"-5", b"5 5", b"0x5", b"5a", b"", b" ", b"1e3", b"5.0"):
            self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nContent-Length: " + v
                                + b"\r\n\r\nhello", 400)

    def test_te_gzip_chunked_501(self):
        self.assertRejected(b"POST /ok.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
                            b"\r\n0\r\n\r\n", 501)

    def test_te_unknown_only_400(self):
        # RFC 9112 § 6.3: chunked is not the final coding -> 400 (before any 501)
        self.assertRejected(b"POST /ok.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n"
                            b"\r\n0\r\n\r\n", 400)

    def test_te_final_not_chunked_400(self):
        self.assertRejected(b"POST /ok.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n"
                            b"\r\n0\r\n\r\n", 400)

    def test_te_in_http10_400(self):
        self.assertRejected(b"POST /ok.html HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)

    def test_invalid_chunk_size_closes(self):
        raw = (b"GET /ok.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"zz\r\nhello\r\n0\r\n\r\n" + FOLLOW)
        rs, closed, data = self.exchange(raw)
        # the GET itself may have been answered before the body was read; the
        # pipelined request after the broken body must not be
        self.assertLessEqual(len(rs), 1, data)
        if rs:
            self.assertIn(rs[0].status, (200, 400))
        self.assertTrue(closed)

    def test_chunk_size_overflow_closes(self):
        raw = (b"GET /ok.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"ffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n" + FOLLOW)
        rs, closed, data = self.exchange(raw)
        self.assertLessEqual(len(rs), 1, data)
        self.assertTrue(closed)

    # ------------------------------------------------------------------ request line

    def test_http2_http3_505(self):
        self.assertRejected(b"GET /ok.html HTTP/2.0\r\nHost: x\r\n\r\n", 505)
        self.assertRejected(b"GET /ok.html HTTP/3.0\r\nHost: x\r\n\r\n", 505)

    def test_bad_versions_400(self):
        for v in (b"HTTP/1.10", b"http/1.1", b"HTTP/1", b"HTTP/1.1 ", b"HTTP/a.b", b"HTTPS/1.1"):
            self.assertRejected(b"GET /ok.html " + v + b"\r\nHost: x\r\n\r\n", 400)

    def test_request_line_shapes_400(self):
        for line in (b"GET  /ok.html HTTP/1.1", b"GET /ok.html  HTTP/1.1", b"GET /ok.html",
                     b"GET", b" GET /ok.html HTTP/1.1", b"GET ok.html HTTP/1.1",
                     b"GET /ok .html HTTP/1.1", b"\x00\x01\x02"):
            self.assertRejected(line + b"\r\nHost: x\r\n\r\n", 400)

    def test_fragment_400(self):
        self.assertRejected(b"GET /ok.html#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400)

    def test_absolute_form_ok(self):
        r = self.req(b"GET http://localhost/ok.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertEqual((r.status, r.body), (200, OK_BODY))

    def test_expect_unknown_417(self):
        self.assertRejected(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n", 417)

    def test_unknown_method_501(self):
        self.assertEqual(self.req(build_request("/ok.html", method="FOO")).status, 501)
        self.assertEqual(self.req(build_request("/ok.html", method="get")).status, 501)

    def test_garbage_400(self):
        self.assertRejected(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64)
                            + b"\r\n\r\n", 400, follow=False)

    # ------------------------------------------------------------------ accepted oddities

    def test_bare_lf_accepted(self):
        r = self.req(b"GET /ok.html HTTP/1.1\nHost: x\n\n")
        self.assertEqual((r.status, r.body), (200, OK_BODY))

    def test_bare_lf_pipelined(self):
        c = self.server.conn()
        try:
            c.send(b"GET /ok.html HTTP/1.1\nHost: x\n\nGET /index.html HTTP/1.1\nHost: x\n\n")
            r1, r2 = c.read_responses(2)
            self.assertEqual((r1.body, r2.body), (OK_BODY, b"<p>index</p>\n"))
        finally:
            c.close()

    def test_leading_empty_lines_ignored(self):
        r = self.req(b"\r\n\r\n\r\nGET /ok.html HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual((r.status, r.body), (200, OK_BODY))

    def test_byte_at_a_time(self):
        c = self.server.conn()
        try:
            c.send_slowly(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nX-Long: " + b"y" * 50 + b"\r\n\r\n")
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, OK_BODY))
        finally:
            c.close()

    def test_bad_request_byte_at_a_time(self):
        c = self.server.conn()
        try:
            c.send_slowly(b"GET /ok.html HTTP/1.1\r\nHost: x\r\nX-Foo : bar\r\n\r\n")
            data, closed = c.read_all_until_close()
        finally:
            c.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data[:100])
        self.assertTrue(closed)

    def test_client_half_close_after_request(self):
        """The client sends one request and shuts its write side: after the response the
        server must notice the EOF (it drains to EAGAIN/EOF, DESIGN.md) and close,
        not keep the connection until the keep-alive timeout. The worker is stopped
        while the request and the FIN arrive, so both are in the socket before its
        first read (otherwise whether the FIN comes as a separate edge is a race)."""
        import signal
        w = self.workers[0]
        os.kill(w, signal.SIGSTOP)
        try:
            c = self.server.conn()
            c.send(build_request("/ok.html"))
            c.sock.shutdown(socket.SHUT_WR)
            time.sleep(0.05)
        finally:
            os.kill(w, signal.SIGCONT)
        try:
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, OK_BODY))
            self.assertTrue(c.is_closed(), "connection still open 2 s after the client's FIN")
        finally:
            c.close()

    def test_abrupt_disconnects_survive(self):
        for raw in (b"GET /ok.html HTTP/1.1\r\nHo", build_request("/ok.html") * 50, b"\r\n"):
            s = self.server.connect()
            s.sendall(raw)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # RST
        time.sleep(0.1)
        self.assertServerAlive()


if __name__ == "__main__":
    harness.main()
