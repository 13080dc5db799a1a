"""The tables printed at the end of a run (Markdown, medians of the rounds)."""

import statistics

KEYS = ("rps", "p50", "p99", "rss", "cpu")
GATEWAY_VARIANTS = ("gateway", "gateway+log", "baseline", "baseline+log", "traced", "edge")


def medians(results, scen, targets):
    med = {}
    for target in targets:
        runs = results.get((scen, target), [])
        if runs:
            med[target] = {k: statistics.median(r[k] for r in runs) for k in KEYS}
    return med


def logged(target):
    return target.endswith("+log")


def main_table(scenarios, targets, results):
    """One row per scenario and target. A "+log" row is compared with
    nginx+log (both logging), a log-off row with nginx; HAProxy logs nothing,
    so only log-off rows get its columns. The before/after columns compare
    each gateway variant with the baseline (with --baseline; +log with
    baseline+log), else traced, edge and gateway+log with the gateway."""
    ref_of = {}
    if "baseline" in targets:
        ref_of = {t: "baseline+log" if logged(t) else "baseline" for t in GATEWAY_VARIANTS
                  if not t.startswith("baseline")}
    elif any(t in targets for t in ("traced", "edge")):
        ref_of = {t: "gateway" for t in ("gateway+log", "traced", "edge")}
    ref_name = "baseline" if "baseline" in targets else "gateway"
    cols = f" req/s vs {ref_name} | CPU vs {ref_name} |" if ref_of else ""
    tuned = "nginx-tuned" in targets
    if tuned:
        cols += " req/s vs nginx-tuned | CPU vs nginx-tuned |"
    print("| scenario | target | req/s | p50 ms | p99 ms | RSS MiB | CPU µs/req | req/s vs nginx | CPU vs nginx | "
          "req/s vs haproxy | p99 vs nginx | p99 vs haproxy |" + cols)
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|---:|" * cols.count("CPU vs"))
    for scen, *_ in scenarios:
        med = medians(results, scen, targets)
        for target, m in med.items():
            def ratio(key, ref):
                if ref not in med or target == ref or not med[ref][key] or med[ref][key] != med[ref][key] \
                        or not m[key]:
                    return "-"
                return f"{m[key] / med[ref][key]:.2f}x"

            def ms(v):
                return "-" if v != v else f"{v:.2f}"

            ngx = "nginx+log" if logged(target) else "nginx"
            hap = "-" if logged(target) else "haproxy"
            cpu = f"{m['cpu']:.1f}" if m["cpu"] else "-"
            ref = ref_of.get(target)
            extra = (f" {ratio('rps', ref)} | {ratio('cpu', ref)} |" if ref else " - | - |") if ref_of else ""
            if tuned:
                tng = "nginx-tuned+log" if logged(target) else "nginx-tuned"
                extra += f" {ratio('rps', tng)} | {ratio('cpu', tng)} |"
            print(f"| {scen} | {target} | {m['rps']:.0f} | {ms(m['p50'])} | {ms(m['p99'])} | "
                  f"{m['rss'] / 1024:.1f} | {cpu} | {ratio('rps', ngx)} | {ratio('cpu', ngx)} | "
                  f"{ratio('rps', hap)} | {ratio('p99', ngx)} | {ratio('p99', hap)} |" + extra)


def errors_list(scenarios, results):
    """Runs where wrk saw socket errors or non-2xx answers (their req/s
    count refusals and failures as requests)."""
    bad = [(scen, target, r["errors"]) for scen, *_ in scenarios for (s, target), runs in results.items()
           if s == scen for r in runs if r.get("errors", "").strip()]
    if bad:
        print()
        print("Runs with errors (wrk counts them as requests):")
        for scen, target, text in bad:
            print(f"* {scen} / {target}: {text.strip()}")


def log_pair_table(scenarios, targets, results):
    """The access-log pair side by side: the gateway against NGINX with both
    logs off and both on, and what the log costs each per request."""
    if not all(t in targets for t in ("gateway", "gateway+log", "nginx", "nginx+log")):
        return
    gateways = ["gateway"] + (["baseline"] if "baseline+log" in targets else [])
    print()
    print("Access log pair: req/s and CPU µs per request, log off / log on; log cost = CPU with minus without.")
    print()
    head = "| scenario | nginx req/s | " + " | ".join(f"{g} req/s | {g} vs nginx" for g in gateways) + \
        " | nginx CPU | " + " | ".join(f"{g} CPU | {g} CPU vs nginx" for g in gateways) + \
        " | log cost µs: nginx | " + " | ".join(gateways) + " |"
    print(head)
    print("|---|" + "---:|" * (head.count("|") - 2))
    for scen, _, _, _, _, kind in scenarios:
        if kind != "http":
            continue
        med = medians(results, scen, targets)
        if not all(t in med for t in ("nginx", "nginx+log")):
            continue

        def pair(t, key, fmt):
            off, on = med.get(t, {}).get(key), med.get(t + "+log", {}).get(key)
            return f"{fmt(off)} / {fmt(on)}" if off is not None and on is not None else "-"

        def vs(t, key):
            def r(a, b):
                return f"{med[a][key] / med[b][key]:.2f}x" if a in med and med[b][key] else "-"
            return f"{r(t, 'nginx')} / {r(t + '+log', 'nginx+log')}"

        def cost(t):
            return f"{med[t + '+log']['cpu'] - med[t]['cpu']:.1f}" if t in med and t + "+log" in med else "-"

        def num(v):
            return f"{v:.0f}"

        def one(v):
            return f"{v:.1f}"

        print(f"| {scen} | {pair('nginx', 'rps', num)} | "
              + " | ".join(f"{pair(g, 'rps', num)} | {vs(g, 'rps')}" for g in gateways)
              + f" | {pair('nginx', 'cpu', one)} | "
              + " | ".join(f"{pair(g, 'cpu', one)} | {vs(g, 'cpu')}" for g in gateways)
              + f" | {cost('nginx')} | " + " | ".join(cost(g) for g in gateways) + " |")


def gzip_table(level, json_bytes, scenarios, gzip_targets, results):
    gz_scen, id_scen = scenarios[0][0], scenarios[1][0]
    kib = json_bytes / 1024
    print()
    print(f"gzip level {level} on a {json_bytes} B JSON page: the CPU one KiB of gzip costs is the "
          f"proxy's CPU per request with gzip minus without, over {kib:.1f} KiB.")
    print()
    print("| target | CPU µs/req gzip | CPU µs/req identity | gzip CPU µs per KiB | bytes/response gzip | "
          "bytes/response identity |")
    print("|---|---:|---:|---:|---:|---:|")
    for target in gzip_targets:
        gz, ident = results.get((gz_scen, target)), results.get((id_scen, target))
        if not gz or not ident:
            continue
        med = {k: (statistics.median(r[k] for r in gz), statistics.median(r[k] for r in ident))
               for k in ("cpu", "bytes")}
        per_kib = (med["cpu"][0] - med["cpu"][1]) / kib
        print(f"| {target} | {med['cpu'][0]:.1f} | {med['cpu'][1]:.1f} | {per_kib:.2f} | "
              f"{med['bytes'][0]:.0f} | {med['bytes'][1]:.0f} |")


def idle_table(rows, layout, hold, nofile):
    print()
    print(f"Idle connections ({layout}; each proxy started afresh per protocol; every connection made one "
          f"GET /bench/small and read its 200, then stayed open). RSS of the proxy's process tree: before any "
          f"connection, once all were open, and {hold:.0f} s later; per connection = (later - idle) / held. "
          f"File descriptor limit {nofile}.")
    print()
    print("| proxy | protocol | connections | got 200 | open at samples | RSS idle MiB | RSS all open MiB | "
          f"RSS +{hold:.0f} s MiB | KiB per connection | failures |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        failures = ", ".join(f"{k}: {v}" for k, v in r["failures"].items()) or "-"
        print(f"| {r['target']} | {r['proto']} | {r['n']} | {r['ok']} | {r['open_at_sample']} / {r['open_later']} | "
              f"{r['idle'] / 1024:.1f} | {r['at_open'] / 1024:.1f} | {r['later'] / 1024:.1f} | "
              f"{r['per_conn']:.2f} | {failures} |")


def slow_download_table(rows, conns, seconds):
    print()
    print(f"Slow readers of a 100 MiB file: {conns} connections per proxy, each reading at most 16 KiB/s for "
          f"{seconds:.0f} s (small receive buffers). RSS of the proxy's process tree before, the highest "
          "1 s sample, and at the end; growth = highest - before.")
    print()
    print("| proxy | client | RSS before MiB | RSS highest MiB | RSS end MiB | growth MiB |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['target']} | {r['client']} | {r['before'] / 1024:.1f} | {r['max'] / 1024:.1f} | "
              f"{r['after'] / 1024:.1f} | {(r['max'] - r['before']) / 1024:.1f} |")
