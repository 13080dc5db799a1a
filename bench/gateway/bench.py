#!/usr/bin/env python3
"""Run wrk against the gateway, NGINX, HAProxy and the upstream directly.

Pinned by default: the proxies and the upstream share CPU 0, wrk runs on
CPU 1 (taskset), one worker per proxy, so requests per second measure CPU
efficiency and the CPU per request (from /proc, the proxy's whole process
tree) is not hidden by spreading over both cores. --no-pin opts out.

Beside each proxy with its access log off, "gateway+log" (its default JSON
access log on stdout, into a file) and "nginx+log" (a buffered JSON-ish
access_log) run the same scenarios (--no-log-pair skips them).

With --scenarios compression (or all) the gateway and NGINX also compress
a 16 KiB JSON page with gzip at the same level (--gzip-level), and the CPU
each spends per KiB compressed is reported (gzip minus identity, same path).

With --scenarios tls (or all) the proxies also terminate TLS with the same
ECDSA P-256 certificate, and the TLS scenarios run against them: keep-alive
small GETs over TLS, a new TLS connection per request (full handshakes, wrk
with Connection: close), and resumed handshakes (openssl s_time -reuse).

With --scenarios idle (or all) each proxy, started afresh, holds N idle
HTTP/1.1 keep-alive connections (one GET each) and then M idle h2c ones,
and the RSS of its process tree is reported (idle.py).

Rounds are interleaved (every target once per scenario per round) so a
noisy neighbour hurts every target alike. Loopback only; bounded in time.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import configs
import idle
import report
from procs import (Fleet, OtlpSink, cpu_ticks, free_port, machine_ticks, parse_wrk, raise_nofile, rss_kib,
                   s_time_count, steal_share)

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

# Files from disk: the gateway's files handler against NGINX with sendfile
# (HAProxy serves no files; the upstream takes no part).
STATIC_SCENARIOS = [
    ("1 KiB file, 64 conns", 64, "/static/1k.bin", [], 2, "static"),
    ("1 MiB file, 64 conns", 64, "/static/1m.bin", [], 2, "static"),
]
STATIC_TARGETS = ("gateway", "gateway+log", "baseline", "baseline+log", "nginx", "nginx+log")
SCENARIO_SETS = ("plain", "tls", "compression", "static", "idle")
GATEWAYS = ("gateway", "gateway+log", "baseline", "baseline+log", "traced", "edge")


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="",
                    help="comma-separated targets (gateway,baseline,traced,edge,nginx,haproxy,direct, and "
                         "gateway+log, baseline+log, nginx+log); a target listed brings its +log twin along "
                         "unless --no-log-pair")
    ap.add_argument("--pin", dest="pin", action="store_true", default=True,
                    help="(the default) proxies and upstream on CPU 0, wrk and the idle client on CPU 1 "
                         "(taskset), one worker per proxy")
    ap.add_argument("--no-pin", "--unpinned", dest="pin", action="store_false",
                    help="no pinning: every process on every core, one worker per core per proxy")
    ap.add_argument("--no-log-pair", dest="log_pair", action="store_false", default=True,
                    help="skip the access-log targets gateway+log, nginx+log (and baseline+log)")
    ap.add_argument("--scenarios", default="plain",
                    help="comma-separated: plain (default), tls, compression, static, idle; or all")
    ap.add_argument("--slow-conns", type=int, default=1000,
                    help="static: slow readers of the 100 MiB file per proxy (0: skip that phase)")
    ap.add_argument("--slow-seconds", type=float, default=20.0, help="static: how long the slow readers read")
    ap.add_argument("--gzip-level", type=int, default=6,
                    help="gzip level for both the gateway and NGINX in the compression scenarios")
    ap.add_argument("--idle-conns", type=int, default=10000, help="idle HTTP/1.1 connections per proxy")
    ap.add_argument("--idle-h2-conns", type=int, default=1000, help="idle h2c connections per proxy")
    ap.add_argument("--idle-hold", type=float, default=3.0,
                    help="seconds between the two RSS samples with all idle connections open")
    ap.add_argument("--idle-sources", type=int, default=4,
                    help="client addresses 127.0.0.1 .. 127.0.0.N the idle connections rotate over")
    ap.add_argument("--edge", action="store_true",
                    help="also run the gateway as target 'edge': the same binary with the policies of "
                         "gateway/examples/edge.toml on its /bench/ route (policy cost: compare with 'gateway')")
    ap.add_argument("--traced", action="store_true",
                    help="also run the gateway as target 'traced': the same binary exporting a span per "
                         "request over OTLP/HTTP to a sink in this script (tracing cost: compare with 'gateway')")
    ap.add_argument("--nginx-tuned", action="store_true",
                    help="also run NGINX with `proxy_buffers 8 16k` as target 'nginx-tuned' (and "
                         "nginx-tuned+log): a 64 KiB response stays in memory, as operators tune it; "
                         "the plain target keeps NGINX's default 8 x 4k (a temporary file)")
    ap.add_argument("--baseline", default="",
                    help="another gateway binary (e.g. the previous commit's) run as target 'baseline' "
                         "in the same interleaved rounds, for before/after comparisons")
    args = ap.parse_args()
    sets = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    args.sets = set(SCENARIO_SETS) if "all" in sets else sets
    unknown = args.sets - set(SCENARIO_SETS)
    if unknown or not args.sets:
        ap.error(f"--scenarios: unknown {sorted(unknown)}; choose from {', '.join(SCENARIO_SETS)} or all")
    if args.pin and CORES < 2:
        print("one CPU only: running unpinned", file=sys.stderr)
        args.pin = False
    return args


def select_targets(args, ports):
    """The targets of the wrk rounds, in interleaving order."""
    wanted = ["gateway"]
    if args.log_pair:
        wanted.append("gateway+log")
    if args.baseline:
        wanted += ["baseline"] + (["baseline+log"] if args.log_pair else [])
    wanted += (["traced"] if args.traced else []) + (["edge"] if args.edge else [])
    wanted += ["nginx"] + (["nginx+log"] if args.log_pair else [])
    if args.nginx_tuned:
        wanted += ["nginx-tuned"] + (["nginx-tuned+log"] if args.log_pair else [])
    wanted += ["haproxy", "direct"]
    only = {t for t in args.only.split(",") if t}
    if only:
        if args.log_pair:
            only |= {t + "+log" for t in only}
        wanted = [t for t in wanted if t in only or t == "direct"]
    return {t: ports[t] for t in wanted}


def main():
    args = parse_args()
    nofile = args.nofile = raise_nofile()
    tmp = tempfile.mkdtemp(prefix="gw-bench-")
    # Pinned, each proxy gets one core: one worker (the gateway sizes its
    # workers from its CPU affinity by itself).
    workers = 1 if args.pin else CORES
    server_cpu = ["taskset", "-c", "0"] if args.pin else []
    client_cpu = ["taskset", "-c", "1"] if args.pin else []
    fleet = Fleet(tmp, server_cpu)
    names = ["upstream", *GATEWAYS, "nginx", "nginx+log", "nginx-tuned", "nginx-tuned+log", "haproxy"]
    ports = {n: free_port() for n in names}
    ports["direct"] = ports["upstream"]
    admin = {n: free_port() for n in GATEWAYS}
    tls = {n: free_port() for n in names}
    sink = OtlpSink() if args.traced else None
    scenarios = (SCENARIOS if "plain" in args.sets else []) + \
        (TLS_SCENARIOS if "tls" in args.sets else []) + \
        (COMPRESSION_SCENARIOS if "compression" in args.sets else []) + \
        (STATIC_SCENARIOS if "static" in args.sets else [])
    docroot = os.path.join(tmp, "docroot")
    if "static" in args.sets:
        os.makedirs(os.path.join(docroot, "static"))
        for name, size in (("1k.bin", 1024), ("1m.bin", 1 << 20)):
            with open(os.path.join(docroot, "static", name), "wb") as f:
                f.write(os.urandom(size))
        # Sparse: the page cache serves it; the disk takes no part.
        with open(os.path.join(docroot, "static", "100m.bin"), "wb") as f:
            f.truncate(100 << 20)
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
    gz = configs.gz_route(args.gzip_level) if "compression" in args.sets else ""
    if "static" in args.sets:
        gz += configs.static_route(docroot)
    access_logs = {t: os.path.join(tmp, f"{t}.access.log")
                   for t in ("gateway+log", "baseline+log", "nginx+log", "nginx-tuned+log")}

    def gateway_config(name, binary, public, admin_port, tls_port, **kw):
        """Write `name`.toml; a baseline that does not know
        limits.connections_per_client gets the table without it."""
        path = os.path.join(tmp, f"{name}.toml")
        common = dict(public=public, admin=admin_port, up_port=ports["upstream"], tls_port=tls_port,
                      cert=cert, key=key, **kw)
        configs.gateway_toml(path, **common)
        if binary != args.gateway and not configs.gateway_accepts(binary, path):
            print(f"{name}: {binary} rejects [limits] connections_per_client; left out", file=sys.stderr)
            configs.gateway_toml(path, limits=False, **common)
        return path

    def start_gateway(name, binary, port, path, log=False):
        env = dict(os.environ, RUST_LOG=configs.GATEWAY_LOG_LEVEL if log else "warn")
        if name == "traced":
            env.update(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{sink.port}",
                       OTEL_SERVICE_NAME="gateway-bench")
        stdout = access_logs.get(name) or os.path.join(tmp, f"{name}.stdout")
        fleet.start(name, [binary, "run", "--config", path], port, env, stdout_path=stdout)

    targets = select_targets(args, ports)
    machine_start = machine_ticks()
    results = {}  # (scenario, target) -> list of dicts
    idle_results = []
    slow_results = []
    idle_rss = {}
    json_bytes = 0
    try:
        fleet.start("upstream", [args.upstream, f"127.0.0.1:{ports['upstream']}"], ports["upstream"])
        if scenarios:
            for name in (t for t in targets if t in GATEWAYS):
                binary = args.baseline if name.startswith("baseline") else args.gateway
                path = gateway_config(name, binary, ports[name], admin[name], tls[name], edge=name == "edge",
                                      gz=gz, log=name.endswith("+log"))
                start_gateway(name, binary, ports[name], path, log=name.endswith("+log"))
            for name in (t for t in targets if t.startswith("nginx")):
                prefix = os.path.join(tmp, name)
                conf = configs.nginx_conf(prefix, workers=workers, port=ports[name], tls_port=tls[name],
                                          up_port=ports["upstream"], cert=cert, key=key,
                                          gzip_level=args.gzip_level, access_log=access_logs.get(name),
                                          docroot=docroot if "static" in args.sets else None,
                                          proxy_buffers="8 16k" if name.startswith("nginx-tuned") else None)
                fleet.start(name, ["nginx", "-p", prefix, "-c", conf], ports[name])
            if "haproxy" in targets:
                cfg = os.path.join(tmp, "haproxy.cfg")
                configs.haproxy_cfg(cfg, workers=workers, port=ports["haproxy"], tls_port=tls["haproxy"],
                                    combined=combined, up_port=ports["upstream"])
                fleet.start("haproxy", ["haproxy", "-f", cfg], ports["haproxy"])
            idle_rss = {t: rss_kib(fleet.pid(t)) for t in targets if fleet.pid(t)}
            with urllib.request.urlopen(f"http://127.0.0.1:{ports['upstream']}/gz/json", timeout=5) as resp:
                json_bytes = len(resp.read())
            run_rounds(args, scenarios, targets, tls, fleet, client_cpu, post_lua, results)
            if "static" in args.sets and args.slow_conns:
                slow_results = run_slow_downloads(args, fleet, targets, client_cpu)
            fleet.stop_all(keep=("upstream",))
        if "idle" in args.sets:
            idle_results = run_idle(args, fleet, tmp, workers, cert, key, combined, ports["upstream"],
                                    gateway_config, start_gateway)
    finally:
        fleet.stop_all()
        if sink:
            sink.stop()
        log_lines = {t: count_lines(p) for t, p in access_logs.items() if t in targets and os.path.exists(p)}
        shutil.rmtree(tmp, ignore_errors=True)

    steal = steal_share(machine_start, machine_ticks())
    print()
    print(f"CPU steal during the run: {steal:.1%} of the machine's time"
          + (" - a noisy neighbour: absolute figures are unreliable, compare only ratios within the run"
             if steal > 0.02 else ""))
    layout = ("proxy and upstream pinned to CPU 0, wrk to CPU 1 (one worker per proxy)" if args.pin
              else f"{CORES} cores shared by wrk, proxy and upstream")
    if scenarios:
        print()
        print(f"Median of {args.rounds} interleaved rounds, {args.duration} s each; {layout}. "
              "RSS: proxy process tree, sampled mid-run; "
              "CPU: proxy user+system time per request (direct: not measured).")
        print("Idle RSS (MiB): " + ", ".join(f"{t} {v / 1024:.1f}" for t, v in idle_rss.items()))
        if log_lines:
            print("Access log lines written: " + ", ".join(f"{t} {n}" for t, n in log_lines.items()))
        if sink:
            print(f"OTLP sink (target traced): {sink.exports} exports, {sink.bytes / 1e6:.1f} MB received")
        print()
        report.main_table(scenarios, targets, results)
        report.errors_list(scenarios, results)
        report.log_pair_table(scenarios, targets, results)
    if "compression" in args.sets:
        report.gzip_table(args.gzip_level, json_bytes, COMPRESSION_SCENARIOS, GZIP_TARGETS, results)
    if slow_results:
        report.slow_download_table(slow_results, args.slow_conns, args.slow_seconds)
    if idle_results:
        report.idle_table(idle_results, "proxy and upstream pinned to CPU 0, the client to CPU 1, one worker per "
                          "proxy" if args.pin else f"{CORES} cores shared", args.idle_hold, nofile)


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def run_rounds(args, scenarios, targets, tls, fleet, client_cpu, post_lua, results):
    """The wrk rounds: every scenario, every target, interleaved."""
    for target, port in targets.items():  # warm-up
        subprocess.run(client_cpu + ["wrk", "-t2", "-c64", "-d1s", f"http://127.0.0.1:{port}/bench/small"],
                       capture_output=True)
    for rnd in range(args.rounds):
        for scen, conns, path, extra, threads, kind in scenarios:
            extra = [post_lua if a == "POST_LUA" else a for a in extra]
            order = list(targets.items())
            if kind == "gzip":
                order = [(t, p) for t, p in order if t in GZIP_TARGETS]
            elif kind == "static":
                order = [(t, p) for t, p in order if t in STATIC_TARGETS]
            elif kind != "http":
                order = [(t, tls[t]) for t, _ in order if t in ("gateway", "nginx", "haproxy")]
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
                pid = fleet.pid(target) if target != "direct" else None
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
                print(f"round {rnd + 1} | {scen:32} | {target:12} | {r['rps']:>10.0f} req/s | "
                      f"p50 {r['p50']:7.2f} ms | p99 {r['p99']:7.2f} ms | rss {rss / 1024:6.1f} MiB | "
                      f"cpu {r['cpu']:5.1f} us/req {r['errors']}",
                      flush=True)


def run_slow_downloads(args, fleet, targets, client_cpu):
    """Each file-serving proxy in turn: --slow-conns clients GET the 100 MiB
    file and read it slowly for --slow-seconds; the proxy's RSS sampled every
    second (before, the highest, and at the end)."""
    out = []
    here = os.path.dirname(os.path.abspath(__file__))
    for target in (t for t in targets if t in ("gateway", "nginx")):
        pid = fleet.pid(target)
        before = rss_kib(pid)
        client = subprocess.Popen(client_cpu + [sys.executable, os.path.join(here, "slow_download.py"),
                                                "--port", str(targets[target]), "--path", "/static/100m.bin",
                                                "--conns", str(args.slow_conns),
                                                "--seconds", str(args.slow_seconds)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        samples = []
        while client.poll() is None and len(samples) < args.slow_seconds + 120:
            time.sleep(1)
            samples.append(rss_kib(pid))
        output = client.communicate(timeout=30)[0].strip()
        after = rss_kib(pid)
        print(f"slow readers | {target:8} | {output} | rss before {before / 1024:.1f} MiB, "
              f"max {max(samples, default=0) / 1024:.1f}, end {after / 1024:.1f}", flush=True)
        out.append({"target": target, "before": before, "max": max(samples, default=0), "after": after,
                    "client": output})
    return out


def run_idle(args, fleet, tmp, workers, cert, key, combined, up_port, gateway_config, start_gateway):
    """Each proxy afresh, alone, once per protocol: N idle HTTP/1.1
    connections, then M idle h2c ones (the gateway's plain port speaks h2c
    with prior knowledge; NGINX and HAProxy get an h2c listener)."""
    wanted = ["gateway"] + (["baseline"] if args.baseline else []) + ["nginx", "haproxy"]
    only = {t for t in args.only.split(",") if t}
    if only:
        wanted = [t for t in wanted if t in only]
    biggest = max(args.idle_conns, args.idle_h2_conns)

    def start(target, name, port, h2_port, other):
        """Start `target` for the scenario; returns its h2c port."""
        if target in ("gateway", "baseline"):
            binary = args.baseline if target == "baseline" else args.gateway
            path = gateway_config(name, binary, port, free_port(), other, idle_conns=biggest)
            start_gateway(name, binary, port, path)
            return port
        if target == "nginx":
            prefix = os.path.join(tmp, name)
            conf = configs.nginx_conf(prefix, workers=workers, port=port, tls_port=other, up_port=up_port,
                                      cert=cert, key=key, gzip_level=args.gzip_level,
                                      idle_conns=biggest, h2_port=h2_port, nofile=args.nofile)
            fleet.start(name, ["nginx", "-p", prefix, "-c", conf], port)
            return h2_port
        cfg = os.path.join(tmp, f"{name}.cfg")
        configs.haproxy_cfg(cfg, workers=workers, port=port, tls_port=other, combined=combined,
                            up_port=up_port, idle_conns=biggest, h2_port=h2_port, nofile=args.nofile)
        fleet.start(name, ["haproxy", "-f", cfg], port)
        return h2_port

    old_cpus = idle.pin_self({1} if args.pin else None)
    results = []
    try:
        for proto, n in (("http/1.1", args.idle_conns), ("h2c", args.idle_h2_conns)):
            if n <= 0:
                continue
            h2 = proto == "h2c"
            for target in wanted:
                name = f"idle-{target}"
                port = free_port()
                try:
                    h2_port = start(target, name, port, free_port(), free_port())
                except RuntimeError as e:  # its log is printed already; the others still run
                    print(f"idle | {target:8} | {proto:8} | did not start: {e}", flush=True)
                    fleet.stop(name)
                    continue
                try:
                    results.append(idle.measure(target, lambda: fleet.pid(name), h2_port if h2 else port, n,
                                                "/bench/small", rss_kib, h2=h2, sources=args.idle_sources,
                                                hold=args.idle_hold, timeout=max(30.0, n / 200)))
                finally:
                    fleet.stop(name)
    finally:
        idle.pin_self(old_cpus)
    return results


if __name__ == "__main__":
    sys.exit(main())
