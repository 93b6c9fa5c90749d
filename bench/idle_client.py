#!/usr/bin/env python3
"""bench/idle_client.py - hold many idle HTTP/1.1 keep-alive connections.

Python standard library only. Opens COUNT connections from source address SRC
to HOST:PORT, sends one GET PATH on each and reads the whole reply (so the
server has seen a real request and keeps the connection in its keep-alive
state), then holds them without traffic until the file RELEASE appears or
MAX_HOLD seconds pass. When all are open it writes a one-line summary to READY
(atomically). At the end it prints how many connections were still open
(closed ones poll readable: EOF or reset), then closes them all with RST so
that no TIME_WAIT piles up.

usage: idle_client.py HOST PORT PATH COUNT SRC READY RELEASE MAX_HOLD

Every wait is bounded: 5 s per socket operation, 120 s to open them all,
MAX_HOLD (capped at 900 s) to hold them; it gives up after 100 failures.
"""
import os
import select
import socket
import struct
import sys
import time


def read_reply(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed before the end of the headers")
        buf += chunk
        if len(buf) > 65536:
            raise OSError("headers too long")
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) < 2 or parts[1] != b"200":
        raise OSError("status line %r" % lines[0][:60])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise OSError("no Content-Length")
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed inside the body")
        body += chunk


def main():
    if len(sys.argv) != 9:
        sys.stderr.write(__doc__)
        return 2
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, src = int(sys.argv[4]), sys.argv[5]
    ready, release = sys.argv[6], sys.argv[7]
    max_hold = min(float(sys.argv[8]), 900.0)
    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path, host, port)).encode()

    socks, failures, first_error = [], 0, "-"
    start = time.monotonic()
    open_deadline = start + 120
    for _ in range(count):
        if time.monotonic() > open_deadline or failures > 100:
            break
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.bind((src, 0))
            sock.connect((host, port))
            sock.sendall(request)
            read_reply(sock)
        except (OSError, ValueError) as exc:
            failures += 1
            if first_error == "-":
                first_error = str(exc)[:80].replace(" ", "_").replace("\t", "_") or "error"
            sock.close()
            continue
        socks.append(sock)
    open_secs = time.monotonic() - start

    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("opened=%d failed=%d open_secs=%.2f error=%s\n"
                % (len(socks), failures, open_secs, first_error))
    os.rename(tmp, ready)

    hold_end = time.monotonic() + max_hold
    while time.monotonic() < hold_end and not os.path.exists(release):
        time.sleep(0.05)

    poller = select.poll()
    for sock in socks:
        poller.register(sock.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    closed = len(poller.poll(0))
    print("alive=%d closed=%d" % (len(socks) - closed, closed), flush=True)

    linger = struct.pack("ii", 1, 0)
    for sock in socks:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
