#!/usr/bin/env python3
"""Keep-alive client for bench/instructions.sh: TOTAL requests spread over CONNS
connections, each connection one request at a time, each answer read whole; a
connection the server closes (keepalive_requests) is replaced by a new one.

Usage: instr_client.py HOST PORT PATH TOTAL CONNS
Prints the number of answers and their status codes; exits 1 on any error."""
import selectors
import socket
import sys


def connect(host, port, sel, state):
    s = socket.create_connection((host, port))
    s.setblocking(False)
    state[s] = bytearray()
    sel.register(s, selectors.EVENT_READ)
    return s


def main():
    host, port, path, total, conns = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    req = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    sent = done = 0
    statuses = {}
    state = {}
    for _ in range(min(conns, total)):
        s = connect(host, port, sel, state)
        s.sendall(req)
        sent += 1
    while done < total:
        for key, _ in sel.select(10):
            s = key.fileobj
            data = s.recv(1 << 20)
            if not data:
                print("connection closed by the server", file=sys.stderr)
                sys.exit(1)
            buf = state[s]
            buf += data
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buf[:end]).decode("latin-1")
                length = 0
                close = False
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "connection" and value.strip().lower() == "close":
                        close = True
                if len(buf) < end + 4 + length:
                    break
                status = head.split(" ", 2)[1]
                statuses[status] = statuses.get(status, 0) + 1
                del buf[: end + 4 + length]
                done += 1
                if close:  # keepalive_requests reached: go on with a new connection
                    sel.unregister(s)
                    del state[s]
                    s.close()
                    if sent < total:
                        s = connect(host, port, sel, state)
                        buf = state[s]
                if sent < total:
                    s.sendall(req)
                    sent += 1
    print(done, statuses)


if __name__ == "__main__":
    main()
