"""Processes and what /proc says about them: ports, RSS and CPU time of a
whole process tree (NGINX master + workers), wrk's output, and the OTLP sink
that the traced gateway exports to."""

import http.server
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time


def raise_nofile(want=65536):
    """Raise RLIMIT_NOFILE for this script and the processes it starts (root
    may raise the hard limit too; otherwise the soft one goes up to it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limit in ((max(want, hard), max(want, hard)), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limit)
            return limit[0]
        except (ValueError, OSError):
            continue
    return soft


def s_time_count(out):
    """Connections made, from `openssl s_time` output (its own elapsed time
    is printed in whole seconds, so the caller times the process)."""
    m = re.search(r"(\d+) connections in [\d.]+ real seconds", out)
    return int(m.group(1)) if m else 0


class OtlpSink:
    """An OTLP/HTTP receiver that accepts every export (200, empty
    protobuf answer) and counts them; in a thread of this script."""

    def __init__(self):
        sink = self
        self.exports = 0
        self.bytes = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                sink.exports += 1
                sink.bytes += length
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def tree_pids(pid):
    """pid and its descendants."""
    pids = [pid]
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        for child in out.split():
            pids += tree_pids(int(child))
    except OSError:
        pass
    return pids


def tree_sum(pid, name, value):
    """The sum over pid and its descendants of `value(text)` of /proc/PID/`name`
    (a process that exits meanwhile counts nothing)."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/{name}") as f:
                total += value(f.read())
        except (OSError, IndexError, ValueError):
            pass
    return total


def rss_kib(pid):
    """VmRSS of pid and its descendants, in KiB."""
    return tree_sum(pid, "status", lambda text: int(text.split("VmRSS:", 1)[1].split()[0]) if "VmRSS:" in text else 0)


def cpu_ticks(pid):
    """utime + stime of pid and its descendants, in clock ticks."""
    def ticks(text):
        fields = text.rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    return tree_sum(pid, "stat", ticks)


def parse_wrk(out):
    def dur(text):
        m = re.match(r"([\d.]+)(us|ms|s|m)", text)
        if not m:
            return float("nan")
        v, u = float(m.group(1)), m.group(2)
        return v * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[u]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    errors = re.search(r"Socket errors: (.*)", out)
    read = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)([KMG]?B) read", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50": dur(p50.group(1)) if p50 else float("nan"),
        "p99": dur(p99.group(1)) if p99 else float("nan"),
        "errors": (errors.group(1) if errors else "") + (f" non2xx={non2xx.group(1)}" if non2xx else ""),
        # Bytes read per response (headers included), from wrk's total.
        "bytes": (float(read.group(2)) * {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}[read.group(3)]
                  / max(int(read.group(1)), 1)) if read else 0.0,
    }




class Fleet:
    """The processes of a run, each in its own session (so the whole tree
    can be signalled), output in the run's temp dir, optionally pinned."""

    def __init__(self, tmp, cpu_prefix):
        self.tmp, self.cpu_prefix, self.procs = tmp, cpu_prefix, {}

    def start(self, name, cmd, port, env=None, stdout_path=None):
        """Start `cmd` as `name` and wait until `port` accepts. stdout goes
        to `stdout_path` when given (the gateway's access log), else with
        stderr to `name`.log."""
        log_path = os.path.join(self.tmp, f"{name}.log")
        log = open(log_path, "w")
        out = open(stdout_path, "w") if stdout_path else log
        self.procs[name] = subprocess.Popen(self.cpu_prefix + cmd, stdout=out, stderr=log, env=env,
                                            start_new_session=True)
        try:
            wait_port(port)
        except RuntimeError:
            log.flush()
            with open(log_path) as f:
                sys.stderr.write(f"{name} did not start:\n{f.read()}\n")
            raise

    def pid(self, name):
        return self.procs[name].pid if name in self.procs else None

    def stop(self, name):
        p = self.procs.pop(name, None)
        if not p:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)

    def stop_all(self, keep=()):
        for name in [n for n in self.procs if n not in keep]:
            self.stop(name)


def machine_ticks():
    """The machine's CPU time so far (the `cpu` line of /proc/stat, in
    ticks): (total, steal). Steal is time the hypervisor gave to other
    guests while this one wanted to run."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is in user)
    return sum(fields[:8]), fields[7] if len(fields) > 7 else 0


def steal_share(start, end):
    """The share of CPU time stolen between two `machine_ticks()` samples."""
    total = end[0] - start[0]
    return (end[1] - start[1]) / total if total > 0 else 0.0
