#!/usr/bin/env python3
"""Slow readers of one large file: open --conns connections to --port, send
`GET --path` on each, then for --seconds read at most --rate bytes per
second from each (the rest waits in the kernel and in the proxy). Prints
one line: `connected N read BYTES`. Bounded in count (--conns) and time
(--seconds); loopback only."""
import argparse
import selectors
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=int, default=16384, help="bytes per second per connection")
    args = ap.parse_args()
    request = f"GET {args.path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    socks = []
    for _ in range(min(args.conns, 20000)):
        s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        # A small receive buffer: the reader is slow, the proxy holds the rest.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.sendall(request)
        s.setblocking(False)
        socks.append(s)
    total = 0
    end = time.monotonic() + min(args.seconds, 600)
    while time.monotonic() < end:
        tick = time.monotonic()
        for s in socks:
            try:
                total += len(s.recv(args.rate))
            except BlockingIOError:
                pass
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    print(f"connected {len(socks)} read {total}", flush=True)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
