#!/usr/bin/env python3
"""Run wrk against the gateway, NGINX, HAProxy and the upstream directly.

With --scenarios compression (or all) the gateway and NGINX also compress
a 16 KiB JSON page with gzip at the same level (--gzip-level), and the CPU
each spends per KiB compressed is reported (gzip minus identity, same path).

With --scenarios tls (or all) the proxies also terminate TLS with the same
ECDSA P-256 certificate, and the TLS scenarios run against them: keep-alive
small GETs over TLS, a new TLS connection per request (full handshakes, wrk
with Connection: close), and resumed handshakes (openssl s_time -reuse).

Every proxy routes /bench/ to the same upstream with the prefix stripped,
keeps upstream connections alive, sets the same forwarding headers and a
request id, logs no requests, and uses as many workers/threads as cores.
Rounds are interleaved (every target once per scenario per round) so a
noisy neighbour hurts every target alike. Loopback only; bounded in time.
"""

import argparse
import http.server
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CORES = os.cpu_count() or 1

SCENARIOS = [
    # name, connections, path, extra wrk args, wrk threads, kind
    ("small GET, 64 conns", 64, "/bench/small", [], 2, "http"),
    ("small GET, 1000 conns", 1000, "/bench/small", [], 2, "http"),
    ("64 KiB GET, 64 conns", 64, "/bench/64k", [], 2, "http"),
    ("16 KiB POST, 64 conns", 64, "/bench/post", ["-s", "POST_LUA"], 2, "http"),
    ("new conn per request, 32 conns", 32, "/bench/small", ["-H", "Connection: close"], 2, "http"),
]

TLS_SCENARIOS = [
    ("TLS small GET, 64 conns", 64, "/bench/small", [], 2, "https"),
    ("TLS new conn per request (full handshake), 32 conns", 32, "/bench/small",
     ["-H", "Connection: close"], 2, "https"),
    # Two `openssl s_time -reuse` clients: every connection resumes the first session.
    ("TLS resumed handshake per request, 2 clients", 2, "/bench/small", [], 2, "s_time"),
]


# The gateway's route /gz/ and NGINX's location /gz/ compress with gzip at
# --gzip-level; HAProxy (libslz, no levels) and the upstream do not take part.
COMPRESSION_SCENARIOS = [
    ("16 KiB JSON GET, gzip, 64 conns", 64, "/gz/json", ["-H", "Accept-Encoding: gzip"], 2, "gzip"),
    ("16 KiB JSON GET, identity, 64 conns", 64, "/gz/json", [], 2, "gzip"),
]
GZIP_TARGETS = ("gateway", "baseline", "nginx")


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


def rss_kib(pid):
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_ticks(pid):
    """utime + stime of pid and its descendants, in clock ticks."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated targets (gateway,nginx,haproxy,direct)")
    ap.add_argument("--pin", action="store_true",
                    help="pin the proxies and the upstream to CPU 0 and wrk to CPU 1 (taskset), so that "
                         "CPU cost is not hidden by spreading over both cores")
    ap.add_argument("--scenarios", default="plain", choices=["plain", "tls", "compression", "all"],
                    help="plain HTTP scenarios (default), the TLS ones, gzip (gateway vs NGINX), or all")
    ap.add_argument("--gzip-level", type=int, default=6,
                    help="gzip level for both the gateway and NGINX in the compression scenarios")
    ap.add_argument("--edge", action="store_true",
                    help="also run the gateway as target 'edge': the same binary with the policies of "
                         "gateway/examples/edge.toml on its /bench/ route (policy cost: compare with 'gateway')")
    ap.add_argument("--traced", action="store_true",
                    help="also run the gateway as target 'traced': the same binary exporting a span per "
                         "request over OTLP/HTTP to a sink in this script (tracing cost: compare with 'gateway')")
    ap.add_argument("--baseline", default="",
                    help="another gateway binary (e.g. the previous commit's) run as target 'baseline' "
                         "in the same interleaved rounds, for before/after comparisons")
    args = ap.parse_args()

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="gw-bench-")
    # Pinned, each proxy gets one core: one worker (the gateway sizes its
    # workers from its CPU affinity by itself).
    workers = 1 if args.pin else CORES
    procs = {}
    up_port, gw_port, gw_admin, ngx_port, hap_port, base_port, base_admin = (free_port() for _ in range(7))
    trc_port, trc_admin = free_port(), free_port()
    edge_port, edge_admin = free_port(), free_port()
    sink = OtlpSink() if args.traced else None
    gw_tls, ngx_tls, hap_tls = (free_port() for _ in range(3))
    scenarios = (SCENARIOS if args.scenarios in ("plain", "all") else []) + \
        (TLS_SCENARIOS if args.scenarios in ("tls", "all") else []) + \
        (COMPRESSION_SCENARIOS if args.scenarios in ("compression", "all") else [])
    # One ECDSA P-256 certificate for every proxy.
    cert, key, combined = (os.path.join(tmp, n) for n in ("cert.pem", "key.pem", "combined.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    with open(combined, "w") as f:
        f.write(open(cert).read() + open(key).read())

    post_lua = os.path.join(tmp, "post.lua")
    with open(post_lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = string.rep("x", 16384)\n'
                'wrk.headers["Content-Type"] = "application/octet-stream"\n')

    # Only with the compression scenarios: a baseline build from before
    # route policies existed could not read the table otherwise.
    gz_route = f"""[[routes]]
prefix = "/gz/"
upstream = "bench"
[routes.compression]
algorithms = ["gzip"]
gzip_level = {args.gzip_level}
min_size = 1
""" if args.scenarios in ("compression", "all") else ""
    # gateway/examples/edge.toml's policies on the /bench/ route: P2C,
    # active checks, outlier detection, the retry budget, a rate limit
    # per client IP too high to refuse anything (its bucket is still
    # consulted on every request), CORS, compression (the small responses
    # are under min_size; the 64 KiB ones are not compressible types) and a
    # response header rule. wrk sends an Origin so CORS does its work.
    edge_policies = """balance = "p2c"
[upstreams.bench.health_check]
path = "/health"
interval = "5s"
timeout = "1s"
[upstreams.bench.outlier]
consecutive_connect_failures = 3
consecutive_5xx = 5
"""
    edge_route = """[routes.retry]
attempts = 1
on_status = [502, 503, 504]
[routes.rate_limit]
rate = "1000000/s"
burst = 1000000
key = "client_ip"
[routes.cors]
allow_origins = ["https://shop.example"]
allow_methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
allow_headers = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-Id"]
expose_headers = ["ETag", "Location", "X-Request-Id"]
max_age = "10m"
[routes.compression]
algorithms = ["zstd", "br", "gzip"]
[routes.headers]
response_set = { "X-Content-Type-Options" = "nosniff" }
"""
    for name, public, admin in (("gateway", gw_port, gw_admin), ("baseline", base_port, base_admin),
                                ("traced", trc_port, trc_admin), ("edge", edge_port, edge_admin)):
        with open(os.path.join(tmp, f"{name}.toml"), "w") as f:
            f.write(f"""
[listen]
public = "127.0.0.1:{public}"
admin = "127.0.0.1:{admin}"
[log]
access = false
level = "warn"
[upstreams.bench]
endpoints = ["http://127.0.0.1:{up_port}"]
{edge_policies if name == "edge" else ""}[[routes]]
prefix = "/bench/"
upstream = "bench"
{edge_route if name == "edge" else ""}{gz_route}[tls]
listen = "127.0.0.1:{gw_tls if name == 'gateway' else free_port()}"
[[tls.certificates]]
cert = "{cert}"
key = "{key}"
""")

    for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(tmp, "nginx", d), exist_ok=True)
    # What both NGINX locations do to proxy (the gateway's routes do the same).
    proxy = """      proxy_pass http://bench/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
"""
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(f"""
worker_processes {workers};
worker_rlimit_nofile 16384;
user root;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log error;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx/client_body;
  proxy_temp_path {tmp}/nginx/proxy;
  fastcgi_temp_path {tmp}/nginx/fastcgi;
  uwsgi_temp_path {tmp}/nginx/uwsgi;
  scgi_temp_path {tmp}/nginx/scgi;
  keepalive_requests 100000;
  upstream bench {{ server 127.0.0.1:{up_port}; keepalive 256; keepalive_requests 100000; }}
  ssl_certificate {cert};
  ssl_certificate_key {key};
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  server {{
    listen 127.0.0.1:{ngx_port} backlog=4096;
    listen 127.0.0.1:{ngx_tls} ssl http2 backlog=4096;
    client_max_body_size 1m;
    client_body_buffer_size 64k;  # keep 16 KiB bodies in memory, as the others do
    location /bench/ {{
{proxy}      proxy_set_header X-Forwarded-Prefix /bench;
      proxy_set_header X-Request-Id $request_id;
      add_header X-Request-Id $request_id;
    }}
    location /gz/ {{
{proxy}      proxy_set_header X-Forwarded-Prefix /gz;
      proxy_set_header X-Request-Id $request_id;
      add_header X-Request-Id $request_id;
      gzip on;
      gzip_comp_level {args.gzip_level};
      gzip_types application/json;
      gzip_min_length 1;
      gzip_proxied any;
      gzip_vary on;
    }}
  }}
}}
""")

    with open(os.path.join(tmp, "haproxy.cfg"), "w") as f:
        f.write(f"""
global
  nbthread {workers}
  maxconn 8000
  log stdout format raw local0 emerg
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 75s
  option http-keep-alive
  option forwardfor
  maxconn 8000
frontend fe
  bind 127.0.0.1:{hap_port}
  bind 127.0.0.1:{hap_tls} ssl crt {combined} alpn h2,http/1.1 ssl-min-ver TLSv1.2
  unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
  http-request set-header X-Request-Id %[unique-id]
  http-response set-header X-Request-Id %[unique-id]
  http-request set-header X-Real-IP %[src]
  http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header X-Forwarded-Prefix /bench
  http-request replace-path ^/bench(/.*) \\1
  default_backend be
backend be
  http-reuse safe
  server s1 127.0.0.1:{up_port}
""")

    server_cpu = ["taskset", "-c", "0"] if args.pin else []
    client_cpu = ["taskset", "-c", "1"] if args.pin else []

    def start(name, cmd, port, env=None):
        cmd = server_cpu + cmd
        log = open(os.path.join(tmp, f"{name}.log"), "w")
        procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True)
        try:
            wait_port(port)
        except RuntimeError:
            log.flush()
            with open(os.path.join(tmp, f"{name}.log")) as f:
                sys.stderr.write(f"{name} did not start:\n{f.read()}\n")
            raise

    targets = {
        "gateway": gw_port,
        **({"baseline": base_port} if args.baseline else {}),
        **({"traced": trc_port} if args.traced else {}),
        **({"edge": edge_port} if args.edge else {}),
        "nginx": ngx_port,
        "haproxy": hap_port,
        "direct": up_port,
    }
    only = [t for t in args.only.split(",") if t]
    if only:
        targets = {k: v for k, v in targets.items() if k in only or k == "direct"}
    tls_ports = {"gateway": gw_tls, "nginx": ngx_tls, "haproxy": hap_tls}
    results = {}  # (scenario, target) -> list of dicts
    try:
        start("upstream", [args.upstream, f"127.0.0.1:{up_port}"], up_port)
        if "gateway" in targets:
            env = dict(os.environ, RUST_LOG="warn")
            start("gateway", [args.gateway, "run", "--config", os.path.join(tmp, "gateway.toml")], gw_port, env)
        if "baseline" in targets:
            env = dict(os.environ, RUST_LOG="warn")
            start("baseline", [args.baseline, "run", "--config", os.path.join(tmp, "baseline.toml")], base_port, env)
        if "traced" in targets:
            env = dict(os.environ, RUST_LOG="warn", OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{sink.port}",
                       OTEL_SERVICE_NAME="gateway-bench")
            start("traced", [args.gateway, "run", "--config", os.path.join(tmp, "traced.toml")], trc_port, env)
        if "edge" in targets:
            env = dict(os.environ, RUST_LOG="warn")
            start("edge", [args.gateway, "run", "--config", os.path.join(tmp, "edge.toml")], edge_port, env)
        if "nginx" in targets:
            start("nginx", ["nginx", "-p", tmp, "-c", os.path.join(tmp, "nginx.conf")], ngx_port)
        if "haproxy" in targets:
            start("haproxy", ["haproxy", "-f", os.path.join(tmp, "haproxy.cfg")], hap_port)
        idle = {t: rss_kib(procs[t].pid) for t in targets if t in procs}
        with urllib.request.urlopen(f"http://127.0.0.1:{up_port}/gz/json", timeout=5) as resp:
            json_bytes = len(resp.read())

        for target, port in targets.items():  # warm-up
            subprocess.run(client_cpu + ["wrk", "-t2", "-c64", "-d1s", f"http://127.0.0.1:{port}/bench/small"],
                           capture_output=True)

        for rnd in range(args.rounds):
            for scen, conns, path, extra, threads, kind in scenarios:
                extra = [post_lua if a == "POST_LUA" else a for a in extra]
                order = list(targets.items())
                if kind == "gzip":
                    order = [(t, p) for t, p in order if t in GZIP_TARGETS]
                elif kind != "http":
                    order = [(t, tls_ports[t]) for t, _ in order if t in tls_ports]
                if rnd % 2:
                    order.reverse()
                for target, port in order:
                    if kind == "s_time":
                        cmds = [client_cpu + ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-www", path,
                                              "-reuse", "-time", str(args.duration)] for _ in range(conns)]
                    else:
                        scheme = "https" if kind == "https" else "http"
                        cmds = [client_cpu + ["wrk", f"-t{threads}", f"-c{conns}", f"-d{args.duration}s",
                                              "--latency", "--timeout", "5s", *extra,
                                              *(["-H", "Origin: https://shop.example"] if target == "edge" else []),
                                              f"{scheme}://127.0.0.1:{port}{path}"]]
                    pid = procs[target].pid if target in procs else None
                    before = cpu_ticks(pid) if pid else 0
                    started = time.time()
                    clients = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                               for c in cmds]
                    time.sleep(args.duration * 0.6)
                    rss = rss_kib(pid) if pid else 0
                    outs = [c.communicate(timeout=args.duration + 30)[0] for c in clients]
                    elapsed = time.time() - started
                    after = cpu_ticks(pid) if pid else 0
                    if kind == "s_time":
                        # HTTP/1.0 GETs, one per connection, each resuming the first session.
                        count = sum(s_time_count(o) for o in outs)
                        r = {"rps": count / elapsed, "count": count, "p50": float("nan"),
                             "p99": float("nan"), "errors": ""}
                    else:
                        r = parse_wrk(outs[0])
                    r["rss"] = rss
                    done = r.get("count", r["rps"] * args.duration)
                    r["cpu"] = (after - before) / os.sysconf("SC_CLK_TCK") * 1e6 / done if pid and done else 0.0
                    results.setdefault((scen, target), []).append(r)
                    print(f"round {rnd + 1} | {scen:32} | {target:8} | {r['rps']:>10.0f} req/s | "
                          f"p50 {r['p50']:7.2f} ms | p99 {r['p99']:7.2f} ms | rss {rss / 1024:6.1f} MiB | "
                          f"cpu {r['cpu']:5.1f} us/req {r['errors']}",
                          flush=True)
    finally:
        for name, p in procs.items():
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
        for p in procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
        if sink:
            sink.stop()

    print()
    print(f"Median of {args.rounds} interleaved rounds, {args.duration} s each; "
          f"{'proxy and upstream pinned to CPU 0, wrk to CPU 1 (one worker per proxy)' if args.pin else f'{CORES} cores shared by wrk, proxy and upstream'}. RSS: proxy process tree, sampled mid-run; "
          "CPU: proxy user+system time per request (direct: not measured).")
    print("Idle RSS (MiB): " + ", ".join(f"{t} {v / 1024:.1f}" for t, v in idle.items()))
    if sink:
        print(f"OTLP sink (target traced): {sink.exports} exports, {sink.bytes / 1e6:.1f} MB received")
    print()
    ref = "baseline" if "baseline" in targets else (
        "gateway" if "traced" in targets or "edge" in targets else None)
    base_cols = f" req/s vs {ref} | CPU vs {ref} |" if ref else ""
    print("| scenario | target | req/s | p50 ms | p99 ms | RSS MiB | CPU µs/req | req/s vs nginx | req/s vs haproxy | p99 vs nginx | p99 vs haproxy |" + base_cols)
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if base_cols else ""))
    for scen, *_ in scenarios:
        med = {}
        for target in targets:
            runs = results.get((scen, target), [])
            if runs:
                med[target] = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99", "rss", "cpu")}
        for target in targets:
            if target not in med:
                continue
            m = med[target]

            def ratio(key, ref):
                if ref not in med or target == ref or not med[ref][key] or med[ref][key] != med[ref][key]:
                    return "-"
                return f"{m[key] / med[ref][key]:.2f}x"

            cpu = f"{m['cpu']:.1f}" if m["cpu"] else "-"
            def ms(v):
                return "-" if v != v else f"{v:.2f}"

            print(f"| {scen} | {target} | {m['rps']:.0f} | {ms(m['p50'])} | {ms(m['p99'])} | "
                  f"{m['rss'] / 1024:.1f} | {cpu} | {ratio('rps', 'nginx')} | {ratio('rps', 'haproxy')} | "
                  f"{ratio('p99', 'nginx')} | {ratio('p99', 'haproxy')} |"
                  + ((f" {ratio('rps', ref)} | {ratio('cpu', ref)} |" if target != ref and target in ("gateway", "baseline", "traced", "edge")
                      else " - | - |") if base_cols else ""))

    if args.scenarios in ("compression", "all"):
        gz_scen, id_scen = COMPRESSION_SCENARIOS[0][0], COMPRESSION_SCENARIOS[1][0]
        kib = json_bytes / 1024
        print()
        print(f"gzip level {args.gzip_level} on a {json_bytes} B JSON page: the CPU one KiB of gzip costs is the "
              f"proxy's CPU per request with gzip minus without, over {kib:.1f} KiB.")
        print()
        print("| target | CPU µs/req gzip | CPU µs/req identity | gzip CPU µs per KiB | bytes/response gzip | "
              "bytes/response identity |")
        print("|---|---:|---:|---:|---:|---:|")
        for target in GZIP_TARGETS:
            gz, ident = results.get((gz_scen, target)), results.get((id_scen, target))
            if not gz or not ident:
                continue
            med = {k: (statistics.median(r[k] for r in gz), statistics.median(r[k] for r in ident))
                   for k in ("cpu", "bytes")}
            per_kib = (med["cpu"][0] - med["cpu"][1]) / kib
            print(f"| {target} | {med['cpu'][0]:.1f} | {med['cpu'][1]:.1f} | {per_kib:.2f} | "
                  f"{med['bytes'][0]:.0f} | {med['bytes'][1]:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
