#!/usr/bin/env python3
"""Where a proxy's CPU samples go, by task and by what is on the stack.

Reads the output of `perf script -F ip,sym,dso` of a profile taken with
whole stacks (`perf record --call-graph dwarf,65528`: with a shorter copy
most of the gateway's stacks end before the task's root) and prints:

- for the gateway: each sample assigned to the task it ran in (the client
  connection's: hyper's server and the proxy's request future; or the
  upstream connection's, `Driver::drive`: hyper's client dispatcher),
  kernel and user space apart, each split by the frames on its stack;
- for any process: the leaf functions in user space and in the kernel.

Run 19 in docs/benchmarks/gateway.md was taken with it:

    perf record -F 499 --call-graph dwarf,65528 -p PID -o p.data -- sleep 8
    perf script -i p.data -F ip,sym,dso > p.txt
    python3 bench/gateway/stack_shares.py p.txt
"""
import collections
import re
import sys

FRAME = re.compile(r"\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def samples(path):
    """Each sample's frames, leaf first, as (symbol, dso)."""
    cur = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if cur:
                    yield cur
                cur = []
                continue
            m = FRAME.match(line.rstrip("\n"))
            if m:
                cur.append((m.group(2), m.group(3)))
    if cur:
        yield cur


def strip(sym):
    """The symbol without generic arguments (`Server<S, Incoming>` would
    otherwise match every body pattern)."""
    prev = None
    while prev != sym:
        prev, sym = sym, re.sub(r"(\w)<[^<>]*>", r"\1", sym)
    return sym


def space(dso):
    return "kernel" if "kernel" in dso else "user"


def kernel_what(joined, writing, reading):
    """What a kernel sample of a task was doing: its write, its read, or other."""
    if re.search(r"writev|write_vectored", joined):
        return writing
    if re.search(r"recvfrom|poll_read", joined):
        return reading
    return "other"


def classify(frames):
    """(task, space, what): what the sample was doing."""
    joined = " | ".join(strip(s) for s, _ in frames)
    sp = space(frames[0][1])
    if "Driver::drive" in joined:
        task = "upstream connection task (hyper's client dispatcher)"
        if sp == "kernel":
            what = kernel_what(joined, "write the request (loopback delivery included)", "read the response")
        elif re.search(r"Client as hyper::proto::h1::Http1Transaction>::parse", joined):
            what = "parse the response head"
        elif re.search(r"Client as hyper::proto::h1::Http1Transaction>::encode|write_head", joined):
            what = "encode the request head"
        elif re.search(r"incoming::Sender|want::|oneshot|mpsc|poll_recv|Callback", joined):
            what = "request channel, response oneshot, body sender"
        else:
            what = "dispatcher and I/O"
    elif "serve_http1" in joined or "UpgradeableConnection" in joined:
        task = "client connection task (hyper's server, the proxy)"
        if sp == "kernel":
            what = kernel_what(joined, "write the response", "read the request")
        elif re.search(r"try_send_request|SendRequest|client::dispatch|oneshot|want::"
                       r"|Connection::ready|ConnectionPool::acquire|UpstreamPool::acquire", joined):
            what = "hand-off to the upstream connection"
        elif re.search(r"ResponseBody|Incoming as http_body::Body", joined):
            what = "response body"
        elif "gateway::proxy" in joined or "gateway::policies" in joined:
            what = "the proxy's phases"
        else:
            what = "hyper's server (parse, encode, I/O)"
    elif "epoll_wait" in joined or "park" in joined:
        task, what = "runtime, idle", ""
    else:
        task, what = "other (runtime, timers, accept, log writer)", ""
    return task, sp, what


def main():
    all_samples = list(samples(sys.argv[1]))
    n = len(all_samples)
    if not n:
        sys.exit("no samples")

    def pct(x):
        return f"{100 * x / n:5.1f} %"

    tasks = collections.Counter()
    detail = collections.defaultdict(collections.Counter)
    leaves = {"user": collections.Counter(), "kernel": collections.Counter()}
    for frames in all_samples:
        task, sp, what = classify(frames)
        tasks[(task, sp)] += 1
        detail[(task, sp)][what] += 1
        leaves[sp][strip(frames[0][0])[:100]] += 1
    print(f"{n} samples")
    for (task, sp), count in sorted(tasks.items()):
        print(f"{pct(count)}  {task} [{sp}]")
        for what, c in detail[(task, sp)].most_common():
            if what:
                print(f"          {pct(c)}  {what}")
    for sp in ("user", "kernel"):
        print(f"{sp} leaf functions:")
        for sym, c in leaves[sp].most_common(15):
            print(f"  {pct(c)}  {sym}")


if __name__ == "__main__":
    main()
