"""The monitoring proof's checks, against a running stack and a real
Prometheus scraping it (started by scripts/monitoring-proof.sh):

1. every scrape target of the jobs gateway, users and products is up;
2. a load through the gateway: register, login (good and bad passwords, a
   lockout), refresh and a refresh-token reuse, list and read products,
   create a product as admin, stock changes and both kinds of 409 conflict,
   one request over HTTPS;
3. every PromQL expression of every dashboard in monitoring/grafana/dashboards
   returns at least one series (Grafana's variables substituted);
4. every rule of monitoring/prometheus/rules evaluates in Prometheus without
   error, and each alert expression runs as a query.

    python3 proof.py --prometheus URL --gateway URL --gateway-tls URL
                     --admin-email E --admin-password P --repo DIR
Prints a table and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

JOBS = ("gateway", "users", "products")
# What Grafana puts in place of its built-in variables. $__rate_interval is
# at least four scrape intervals; a minute covers the load with 1s scrapes.
VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m", "${datasource}": ""}


def http(method: str, url: str, body: dict | None = None, token: str | None = None,
         context: ssl.SSLContext | None = None) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15, context=context) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else ""
    except ValueError:
        return status, raw.decode(errors="replace")


def expect(want: int, method: str, url: str, body: dict | None = None, token: str | None = None,
           context: ssl.SSLContext | None = None) -> dict | str:
    status, answer = http(method, url, body, token, context)
    if status != want:
        raise SystemExit(f"FAIL: {method} {url} answered {status}, expected {want}: {answer}")
    return answer


def prom(base: str, path: str, **params: str) -> dict:
    url = f"{base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    status, answer = http("GET", url)
    if status != 200 or not isinstance(answer, dict) or answer.get("status") != "success":
        raise SystemExit(f"FAIL: Prometheus {path} {params}: {status} {answer}")
    return answer["data"]


def wait_for_targets(base: str, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        targets = [t for t in prom(base, "/api/v1/targets")["activeTargets"] if t["labels"]["job"] in JOBS]
        jobs = {t["labels"]["job"] for t in targets}
        if jobs == set(JOBS) and all(t["health"] == "up" for t in targets):
            return targets
        if time.monotonic() > deadline:
            raise SystemExit("FAIL: targets not all up: " + ", ".join(
                f"{t['labels']['job']} {t['scrapeUrl']} {t['health']} {t.get('lastError', '')}" for t in targets))
        time.sleep(0.5)


def load(gw: str, gw_tls: str, admin_email: str, admin_password: str) -> dict[str, int]:
    """One pass of everything the dashboards show; returns what was done."""
    done: dict[str, int] = {}

    def count(what: str, n: int = 1) -> None:
        done[what] = done.get(what, 0) + n

    shopper = {"email": "shopper@proof.test", "password": "correct horse battery"}
    expect(201, "POST", f"{gw}/users/auth/register", shopper)
    count("register 201")
    expect(409, "POST", f"{gw}/users/auth/register", shopper)
    count("register 409 (email taken)")
    pair = expect(200, "POST", f"{gw}/users/auth/login", shopper)
    count("login ok")
    expect(401, "POST", f"{gw}/users/auth/login", {"email": shopper["email"], "password": "wrong password"})
    count("login bad password")
    # Lock another account (LOGIN_MAX_FAILURES_PER_EMAIL=2): the third try is throttled.
    victim = {"email": "victim@proof.test", "password": "another long password"}
    expect(201, "POST", f"{gw}/users/auth/register", victim)
    count("register 201")
    for _ in range(2):
        expect(401, "POST", f"{gw}/users/auth/login", {"email": victim["email"], "password": "guess guess"})
        count("login bad password")
    expect(429, "POST", f"{gw}/users/auth/login", {"email": victim["email"], "password": "guess guess"})
    count("login throttled (429)")
    rotated = expect(200, "POST", f"{gw}/users/auth/refresh", {"refresh_token": pair["refresh_token"]})
    count("refresh rotation")
    expect(401, "POST", f"{gw}/users/auth/refresh", {"refresh_token": pair["refresh_token"]})
    count("refresh reuse (401)")
    expect(401, "POST", f"{gw}/users/auth/refresh", {"refresh_token": rotated["refresh_token"]})
    expect(200, "GET", f"{gw}/users/me", token=pair["access_token"])
    count("me")

    admin = expect(200, "POST", f"{gw}/users/auth/login", {"email": admin_email, "password": admin_password})
    count("login ok")
    token = admin["access_token"]
    product = expect(201, "POST", f"{gw}/products/",
                     {"title": "Proof Kettle", "price": "24.50", "stock_qty": 3, "category": "kitchen"}, token)
    count("product created")
    pid = product["id"]
    expect(200, "PATCH", f"{gw}/products/{pid}", {"price": "19.99"}, token)
    count("product updated")
    expect(200, "POST", f"{gw}/products/{pid}/stock", {"delta": -2}, token)
    expect(200, "POST", f"{gw}/products/{pid}/stock", {"delta": 5}, token)
    count("stock changes", 2)
    expect(409, "POST", f"{gw}/products/{pid}/stock", {"delta": -100}, token)
    expect(409, "POST", f"{gw}/products/{pid}/stock", {"delta": 1_000_000_000}, token)
    count("stock conflicts (409)", 2)
    for _ in range(5):
        expect(200, "GET", f"{gw}/products/?q=Kettle")
        expect(200, "GET", f"{gw}/products/{pid}")
    count("list and read", 10)
    expect(404, "GET", f"{gw}/products/00000000-0000-0000-0000-000000000000")
    expect(403, "POST", f"{gw}/products/", {"title": "Nope", "price": "1.00", "stock_qty": 1}, pair["access_token"])
    count("errors (404, 403)", 2)
    doomed = expect(201, "POST", f"{gw}/products/",
                    {"title": "Proof Doomed", "price": "1.00", "stock_qty": 1, "category": "kitchen"}, token)
    expect(204, "DELETE", f"{gw}/products/{doomed['id']}", token=token)
    count("product created")
    count("product deleted")
    # The HTTPS listener (a throwaway self-signed certificate: not verified).
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    expect(200, "GET", f"{gw_tls}/products/{pid}", context=insecure)
    count("HTTPS request")
    return done


def substitute(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    if "$" in expr:
        raise SystemExit(f"FAIL: an unknown dashboard variable is left in: {expr}")
    return expr


def check_dashboards(base: str, dashboards: Path) -> list[str]:
    failures = []
    files = sorted(dashboards.glob("*.json"))
    if not files:
        return [f"no dashboard in {dashboards}"]
    total = 0
    for path in files:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                total += 1
                expr = substitute(target["expr"])
                result = prom(base, "/api/v1/query", query=expr)["result"]
                mark = "ok " if result else "NO SERIES"
                print(f"  {mark:9} {len(result):3}  {path.stem:9} {panel['title']} [{target['refId']}]")
                if not result:
                    failures.append(f"{path.name}: '{panel['title']}' {target['refId']}: {expr}")
    print(f"{total} dashboard expressions in {len(files)} dashboards, {total - len(failures)} returned series")
    return failures


def check_rules(base: str, rules_dir: Path) -> list[str]:
    failures = []
    shipped = {}
    for path in sorted(rules_dir.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                shipped[rule.get("alert") or rule.get("record")] = rule["expr"]
    loaded = {}
    for group in prom(base, "/api/v1/rules")["groups"]:
        for rule in group["rules"]:
            loaded[rule["name"]] = rule
    for name, expr in sorted(shipped.items()):
        rule = loaded.get(name)
        if rule is None:
            failures.append(f"rule {name} is not loaded in Prometheus")
            continue
        # Evaluated by Prometheus's rule manager, and once more as a query.
        result = prom(base, "/api/v1/query", query=expr)["result"]
        state = rule.get("state", "")
        print(f"  {rule['health']:7} {state:8} {len(result):3} series  {name}")
        if rule["health"] != "ok" or rule.get("lastError"):
            failures.append(f"rule {name}: health {rule['health']} {rule.get('lastError', '')}")
    print(f"{len(shipped)} rules, {len(shipped) - len(failures)} evaluated without error")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser()
    for flag in ("--prometheus", "--gateway", "--gateway-tls", "--admin-email", "--admin-password", "--repo"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    repo = Path(args.repo)

    targets = wait_for_targets(args.prometheus, 60)
    print(f"targets up: {', '.join(sorted(t['labels']['job'] + ' ' + t['labels']['instance'] for t in targets))}")
    done = load(args.gateway, args.gateway_tls, args.admin_email, args.admin_password)
    print("load: " + ", ".join(f"{what} x{n}" for what, n in done.items()))
    # Two scrapes after the load, and a rule evaluation on them.
    time.sleep(3)
    wait_for_targets(args.prometheus, 10)
    failures = check_dashboards(args.prometheus, repo / "monitoring/grafana/dashboards")
    failures += check_rules(args.prometheus, repo / "monitoring/prometheus/rules")
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print("PASS: every target up, every dashboard expression returned series, every rule evaluated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
