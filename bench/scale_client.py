#!/usr/bin/env python3
"""bench/scale_client.py - open and hold many idle HTTP/1.1 keep-alive connections.

Python standard library only; one process of bench/scale.sh's client fleet.
Opens COUNT connections from source address SRC to HOST:PORT with non-blocking
sockets and epoll (at most INFLIGHT handshakes at a time), sends one GET PATH on
each and reads the whole reply (status 200 and Content-Length bytes of body), so
that the server has served a real request and holds the connection in its
keep-alive state. Then it holds them without any traffic.

Control is by files, so the driver never has to signal it:
  CTL.ready        written (atomically) when opening is done:
                   "opened=N failed=N open_secs=S error=FIRST_ERROR"
  CTL.check.N      (created by the driver, N = 1, 2, ...) asks for a check;
                   the answer is CTL.check.N.out: "check=N alive=A closed=C data=D secs=S"
  CTL.release      final check (written to CTL.final), then every socket is closed
                   with RST (SO_LINGER 0) so that no TIME_WAIT piles up, and it exits

A check is one non-blocking recv(MSG_PEEK) per socket: EAGAIN = still open;
0 (EOF) or an error such as ECONNRESET = closed by the server; bytes = open but
the server sent something unasked (counted as "data", e.g. a 408).

The source port is chosen at connect() (IP_BIND_ADDRESS_NO_PORT), so each
connection needs only a free 4-tuple, not a source port of its own per address.

usage: scale_client.py HOST PORT PATH COUNT SRC CTL INFLIGHT MAX_LIFE

Every wait is bounded: 10 s per connection, 240 s to open them all, and the
process exits by itself MAX_LIFE seconds (capped at 3600) after it started,
releasing like CTL.release would.
"""
import errno
import os
import select
import socket
import struct
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24
CONN_TIMEOUT = 10.0
OPEN_LIMIT = 240.0


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def parse_reply(buf):
    """None while incomplete, True when a complete 200 reply, else raises."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > 65536:
            raise OSError("headers too long")
        return None
    lines = buf[:end].split(b"\r\n")
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
    have = len(buf) - end - 4
    if have > length:
        raise OSError("more bytes than Content-Length")
    return True if have == length else None


def open_all(host, port, path, count, src, inflight):
    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path, host, port)).encode()
    ep = select.epoll()
    pending = {}          # fd -> [sock, state ('conn'|'read'), buf, deadline]
    done = []
    failures, first_error = 0, "-"
    started = 0
    t0 = time.monotonic()
    deadline_all = t0 + OPEN_LIMIT

    def fail(fd, why):
        nonlocal failures, first_error
        failures += 1
        if first_error == "-":
            first_error = (why[:80].replace(" ", "_").replace("\t", "_")) or "error"
        ent = pending.pop(fd, None)
        if ent is not None:
            try:
                ep.unregister(fd)
            except OSError:
                pass
            ent[0].close()

    while (started < count or pending) and time.monotonic() < deadline_all and failures <= 200:
        now = time.monotonic()
        while started < count and len(pending) < inflight and failures <= 200:
            started += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                s.bind((src, 0))
                rc = s.connect_ex((host, port))
            except OSError as exc:
                failures += 1
                if first_error == "-":
                    first_error = str(exc)[:80].replace(" ", "_")
                s.close()
                continue
            if rc not in (0, errno.EINPROGRESS):
                failures += 1
                if first_error == "-":
                    first_error = ("connect:_" + os.strerror(rc)).replace(" ", "_")
                s.close()
                continue
            fd = s.fileno()
            pending[fd] = [s, "conn", b"", now + CONN_TIMEOUT]
            ep.register(fd, select.EPOLLOUT)
        for fd, ev in ep.poll(0.2):
            ent = pending.get(fd)
            if ent is None:
                continue
            s = ent[0]
            try:
                if ent[1] == "conn":
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        fail(fd, "connect:_" + os.strerror(err))
                        continue
                    n = s.send(request)
                    if n != len(request):
                        fail(fd, "short send")
                        continue
                    ent[1] = "read"
                    ep.modify(fd, select.EPOLLIN)
                else:
                    chunk = s.recv(65536)
                    if not chunk:
                        fail(fd, "closed before the whole reply")
                        continue
                    ent[2] += chunk
                    if parse_reply(ent[2]):
                        ep.unregister(fd)
                        del pending[fd]
                        done.append(s)
            except BlockingIOError:
                pass
            except (OSError, ValueError) as exc:
                fail(fd, str(exc))
        now = time.monotonic()
        for fd in [fd for fd, ent in pending.items() if ent[3] < now]:
            fail(fd, "timeout in " + pending[fd][1])
    for fd in list(pending):
        fail(fd, "gave up (open time limit or too many failures)")
    if started < count and first_error == "-":
        first_error = "open_time_limit"
    ep.close()
    return done, failures + (count - started), first_error, time.monotonic() - t0


def check(socks):
    alive = closed = data = 0
    flags = socket.MSG_PEEK | socket.MSG_DONTWAIT
    for s in socks:
        try:
            got = s.recv(1, flags)
        except BlockingIOError:
            alive += 1
            continue
        except OSError:
            closed += 1
            continue
        if got:
            data += 1
        else:
            closed += 1
    return alive, closed, data


def main():
    if len(sys.argv) != 9:
        sys.stderr.write(__doc__)
        return 2
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, src, ctl = int(sys.argv[4]), sys.argv[5], sys.argv[6]
    inflight = max(1, int(sys.argv[7]))
    life_end = time.monotonic() + min(float(sys.argv[8]), 3600.0)

    socks, failed, err, secs = open_all(host, port, path, count, src, inflight)
    write_atomic(ctl + ".ready", "opened=%d failed=%d open_secs=%.2f error=%s\n"
                 % (len(socks), failed, secs, err))

    n = 1
    while time.monotonic() < life_end and not os.path.exists(ctl + ".release"):
        if os.path.exists("%s.check.%d" % (ctl, n)):
            t = time.monotonic()
            a, c, d = check(socks)
            write_atomic("%s.check.%d.out" % (ctl, n), "check=%d alive=%d closed=%d data=%d secs=%.3f\n"
                         % (n, a, c, d, time.monotonic() - t))
            n += 1
            continue
        time.sleep(0.05)

    a, c, d = check(socks)
    write_atomic(ctl + ".final", "alive=%d closed=%d data=%d\n" % (a, c, d))
    linger = struct.pack("ii", 1, 0)
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
