"""Idle connections: open many keep-alive connections to a proxy, make one
GET on each, read the whole response, and leave them open. HTTP/1.1 or
HTTP/2 with prior knowledge (h2c), standard library only, non-blocking
sockets on one selector so 10,000 connections open in seconds."""

import collections
import errno
import os
import selectors
import socket
import struct
import time

IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: pick the port at connect(), per destination
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
# HPACK static table entries 8 to 14 are `:status` with these values.
STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}
# Huffman codes (RFC 7541, appendix B) of the ten digits: 5 bits for 0-2, 6 for 3-9.
HUFFMAN_DIGITS = {(5, 0): "0", (5, 1): "1", (5, 2): "2", **{(6, 0x19 + i): str(3 + i) for i in range(7)}}


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_literal(name, value):
    """Literal header field without indexing, new name, no Huffman coding
    (lengths here are all below 127, so one length byte each)."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def h2_request(authority, path):
    block = b"".join(hpack_literal(n, v) for n, v in (
        (b":method", b"GET"), (b":scheme", b"http"), (b":path", path), (b":authority", authority)))
    return PREFACE + frame(SETTINGS, 0, 0) + frame(HEADERS, END_STREAM | END_HEADERS, 1, block)


def hpack_int(data, pos, prefix_bits):
    value = data[pos] & ((1 << prefix_bits) - 1)
    pos += 1
    if value == (1 << prefix_bits) - 1:
        shift = 0
        while True:
            b = data[pos]
            pos += 1
            value += (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
    return value, pos


def huffman_digits(raw):
    bits = "".join(f"{b:08b}" for b in raw)
    out, pos = "", 0
    while len(bits) - pos >= 5 and len(out) < 3:
        code = int(bits[pos:pos + 5], 2)
        if (5, code) in HUFFMAN_DIGITS:
            out, pos = out + HUFFMAN_DIGITS[(5, code)], pos + 5
            continue
        code = int(bits[pos:pos + 6], 2)
        if (6, code) not in HUFFMAN_DIGITS:
            return None
        out, pos = out + HUFFMAN_DIGITS[(6, code)], pos + 6
    return out


def h2_status(block):
    """The `:status` of a response header block: the first field (pseudo-
    headers come first), after any dynamic table size update. On the first
    response of a connection the dynamic table is empty, so the field is a
    static index or a literal with the static name index 8."""
    pos = 0
    while pos < len(block) and block[pos] & 0xE0 == 0x20:  # dynamic table size update
        _, pos = hpack_int(block, pos, 5)
    if pos >= len(block):
        return None
    b = block[pos]
    if b & 0x80:
        index, _ = hpack_int(block, pos, 7)
        return STATIC_STATUS.get(index)
    index, pos = hpack_int(block, pos, 6 if b & 0x40 else 4)
    if index not in STATIC_STATUS:
        return None
    huffman = block[pos] & 0x80
    length, pos = hpack_int(block, pos, 7)
    raw = block[pos:pos + length]
    text = huffman_digits(raw) if huffman else raw.decode("ascii", "replace")
    return int(text) if text and text.isdigit() else None


class Conn:
    """One client connection's exchange: connect, send, read one response."""

    def __init__(self, sock, request, h2):
        self.sock, self.out, self.h2 = sock, bytearray(request), h2
        self.inbuf = bytearray()
        self.status = None
        self.done = False

    def feed(self, data):
        """Take bytes read; returns an error text, or None."""
        self.inbuf += data
        return self._h2() if self.h2 else self._h1()

    def _h1(self):
        head_end = self.inbuf.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = bytes(self.inbuf[:head_end]).decode("latin-1")
        if self.status is None:
            parts = head.split(" ", 2)
            self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        body = len(self.inbuf) - head_end - 4
        lower = head.lower()
        for line in lower.split("\r\n")[1:]:
            if line.startswith("content-length:"):
                self.done = body >= int(line.split(":", 1)[1])
                return None
        if "transfer-encoding: chunked" in lower:
            self.done = self.inbuf.endswith(b"0\r\n\r\n")
            return None
        return "response without a length"

    def _h2(self):
        while len(self.inbuf) >= 9:
            length = int.from_bytes(self.inbuf[:3], "big")
            if len(self.inbuf) < 9 + length:
                return None
            kind, flags = self.inbuf[3], self.inbuf[4]
            stream = int.from_bytes(self.inbuf[5:9], "big") & 0x7FFFFFFF
            payload = bytes(self.inbuf[9:9 + length])
            del self.inbuf[:9 + length]
            if kind == SETTINGS and not flags & ACK:
                self.out += frame(SETTINGS, ACK, 0)
            elif kind == PING and not flags & ACK:
                self.out += frame(PING, ACK, 0, payload)
            elif kind == GOAWAY:
                return "GOAWAY"
            elif kind == RST_STREAM and stream == 1:
                return "RST_STREAM"
            elif kind == HEADERS and stream == 1:
                if flags & PADDED:
                    payload = payload[1:len(payload) - payload[0]]
                if flags & PRIORITY:
                    payload = payload[5:]
                if self.status is None:
                    self.status = h2_status(payload) or -1
                self.done = bool(flags & END_STREAM)
            elif kind == DATA and stream == 1 and flags & END_STREAM:
                self.done = True
        return None


def open_idle(port, n, path, *, h2=False, sources=1, window=256, timeout=60.0):
    """Open `n` connections to 127.0.0.1:`port`, each making one GET for
    `path` and reading its whole response, at most `window` exchanges at a
    time. Source addresses rotate over 127.0.0.1 .. 127.0.0.`sources`.
    Returns (sockets that got a 200 and are held open, Counter of failures)."""
    sel = selectors.DefaultSelector()
    failures = collections.Counter()
    held, active = [], 0
    authority = f"127.0.0.1:{port}".encode()
    request = h2_request(authority, path.encode()) if h2 else \
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    deadline = time.monotonic() + timeout
    started = 0

    def fail(conn, why):
        nonlocal active
        failures[why] += 1
        active -= 1
        sel.unregister(conn.sock)
        conn.sock.close()

    while (started < n or active) and time.monotonic() < deadline:
        while started < n and active < window:
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError as e:  # out of file descriptors: no point in trying the rest
                failures[f"socket: {errno.errorcode.get(e.errno, e.errno)}"] += n - started
                n = started
                break
            s.setblocking(False)
            started += 1
            try:
                if sources > 1:
                    s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    s.bind((f"127.0.0.{started % sources + 1}", 0))
                err = s.connect_ex(("127.0.0.1", port))
            except OSError as e:
                err = e.errno
            conn = Conn(s, request, h2)
            if err not in (0, errno.EINPROGRESS):
                failures[f"connect: {errno.errorcode.get(err, err)}"] += 1
                s.close()
                continue
            active += 1
            sel.register(s, selectors.EVENT_WRITE, conn)
        for key, events in sel.select(timeout=0.2):
            conn = key.data
            try:
                if events & selectors.EVENT_WRITE:
                    err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        fail(conn, f"connect: {errno.errorcode.get(err, err)}")
                        continue
                    sent = conn.sock.send(conn.out)
                    del conn.out[:sent]
                if events & selectors.EVENT_READ:
                    data = conn.sock.recv(65536)
                    if not data:
                        fail(conn, "closed before the response")
                        continue
                    why = conn.feed(data)
                    if why:
                        fail(conn, why)
                        continue
            except BlockingIOError:
                pass
            except OSError as e:
                fail(conn, f"{type(e).__name__}")
                continue
            if conn.done and conn.out:  # a SETTINGS ack still to go: small, send it now
                try:
                    del conn.out[:conn.sock.send(conn.out)]
                except OSError:
                    pass
            if conn.done:
                active -= 1
                sel.unregister(conn.sock)
                if conn.status == 200:
                    held.append(conn.sock)
                else:
                    failures[f"status {conn.status}"] += 1
                    conn.sock.close()
            else:
                sel.modify(conn.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0), conn)
    for key in list(sel.get_map().values()):
        failures["timed out"] += 1
        key.fileobj.close()
    failures["not started (time)"] += n - started
    sel.close()
    return held, +failures


def still_open(socks, h2):
    """How many of the held sockets are still open. Whatever waits is read:
    end of file or a reset means closed; for h2c, frames after the response
    (a SETTINGS ack, a WINDOW_UPDATE) are fine but a GOAWAY counts apart;
    for HTTP/1.1 any byte (a 408) counts apart."""
    counts = collections.Counter()
    for s in socks:
        data, state = b"", "open"
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    state = "closed"
                    break
                data += chunk
        except BlockingIOError:
            pass
        except OSError:
            state = "closed"
        if state == "open" and data and (not h2 or goaway_in(data)):
            state = "GOAWAY" if h2 else "unsolicited bytes"
        counts[state] += 1
    return counts


def goaway_in(data):
    pos = 0
    while pos + 9 <= len(data):
        if data[pos + 3] == GOAWAY:
            return True
        pos += 9 + int.from_bytes(data[pos:pos + 3], "big")
    return False


def close_all(socks):
    """Close with a reset (SO_LINGER 0): no TIME_WAIT left for the next run."""
    linger = struct.pack("ii", 1, 0)
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        s.close()


def measure(name, pid_of, port, n, path, rss_kib, *, h2, sources, hold, timeout):
    """One proxy, one protocol: RSS idle, with `n` idle connections once all
    are open, and `hold` seconds later. `pid_of()` is the proxy's root pid."""
    pid = pid_of()
    time.sleep(0.5)
    idle = rss_kib(pid)
    started = time.monotonic()
    held, failures = open_idle(port, n, path, h2=h2, sources=sources, timeout=timeout)
    opened_in = time.monotonic() - started
    at_open = rss_kib(pid)
    open_now = still_open(held, h2)
    time.sleep(hold)
    later = rss_kib(pid)
    open_later = still_open(held, h2)
    close_all(held)
    r = {"target": name, "proto": "h2c" if h2 else "http/1.1", "n": n, "ok": len(held),
         "failures": failures, "open_at_sample": open_now.get("open", 0), "open_later": open_later.get("open", 0),
         "other_later": {k: v for k, v in open_later.items() if k != "open"},
         "idle": idle, "at_open": at_open, "later": later, "seconds": opened_in}
    r["per_conn"] = (later - idle) / max(len(held), 1)
    fail_text = ", ".join(f"{k}: {v}" for k, v in failures.items()) or "none"
    print(f"idle | {name:8} | {r['proto']:8} | {len(held):>6}/{n} got 200 in {opened_in:5.1f} s | "
          f"open at samples {r['open_at_sample']}/{r['open_later']} | rss idle {idle / 1024:6.1f} MiB, "
          f"all open {at_open / 1024:6.1f}, +{hold:.0f} s {later / 1024:6.1f} | "
          f"{r['per_conn']:5.2f} KiB/conn | failures: {fail_text}"
          + (f" | later: {r['other_later']}" if r["other_later"] else ""), flush=True)
    return r


def pin_self(cpus):
    """Pin this script (the idle client) to `cpus`; returns the old set."""
    old = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, cpus)
    return old
