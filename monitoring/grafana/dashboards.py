"""The shop's Grafana dashboards, written as data: run it to (re)write
monitoring/grafana/dashboards/*.json, or with --check to fail when a JSON
file differs from what this script makes (CI runs the check).

    python3 monitoring/grafana/dashboards.py [--check]

Every panel selects on the Prometheus job (gateway, users, products: the
compose scrape jobs, and the ServiceMonitors' jobLabel in Helm) and reads the
data source from the dashboard's `datasource` variable, so the same files
work in compose (provisioned) and with Grafana's sidecar in Kubernetes.
scripts/monitoring-proof.sh proves every expression returns series.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
# Options by panel type, as Grafana's schema defines them (helm/tests checks
# each dashboard round-trips through grafana-foundation-sdk's models).
GRAPH_OPTIONS = {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True},
                 "tooltip": {"mode": "multi", "sort": "desc"}}
STAT_OPTIONS = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                "colorMode": "value", "graphMode": "none", "textMode": "auto"}


class Board:
    """Panels laid out left to right, rows of 24 columns."""

    def __init__(self, uid: str, title: str, description: str):
        self.uid, self.title, self.description = uid, title, description
        self.panels: list[dict] = []
        self.x = self.y = 0

    def row(self, title: str) -> None:
        if self.x:
            self.x, self.y = 0, self.y + 8
        self.panels.append({"type": "row", "title": title, "collapsed": False, "panels": [],
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}})
        self.y += 1

    def panel(self, title: str, targets: list[tuple[str, str]], unit: str = "short", *,
              kind: str = "timeseries", width: int = 12, description: str = "",
              mappings: list | None = None) -> None:
        if self.x + width > 24:
            self.x, self.y = 0, self.y + 8
        defaults: dict = {"unit": unit}
        if mappings:
            defaults["mappings"] = mappings
        self.panels.append({
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DS,
            "gridPos": {"h": 8, "w": width, "x": self.x, "y": self.y},
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": STAT_OPTIONS if kind == "stat" else GRAPH_OPTIONS,
            "targets": [{"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
                        for i, (expr, legend) in enumerate(targets)],
        })
        self.x += width

    def json(self) -> dict:
        for i, p in enumerate(self.panels, start=1):
            p["id"] = i
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["shop"],
            "timezone": "browser",
            "editable": True,
            "schemaVersion": 39,
            "version": 1,
            "refresh": "30s",
            "time": {"from": "now-1h", "to": "now"},
            "annotations": {"list": []},
            "links": [{"type": "dashboards", "tags": ["shop"], "title": "Shop dashboards", "asDropdown": True}],
            "templating": {"list": [{
                "name": "datasource", "label": "Data source", "type": "datasource",
                "query": "prometheus", "current": {}, "hide": 0, "refresh": 1,
            }]},
            "panels": self.panels,
        }


def rate(metric: str, sel: str, by: str = "", fn: str = "rate") -> str:
    """`sum [by (labels)] (fn(metric{sel}[$__rate_interval]))`."""
    agg = f"sum by ({by}) " if by else "sum"
    return f"{agg}({fn}({metric}{{{sel}}}[{RATE}]))"


def ratio_5xx(metric: str, job: str, by: str) -> str:
    """5xx share per `by`; 0 (not "no data") while nothing failed."""
    sel = f'{{job="{job}"}}'
    err = f'{{job="{job}",status=~"5.."}}'
    total = f"sum by ({by}) (rate({metric}{sel}[{RATE}]))"
    return f"(sum by ({by}) (rate({metric}{err}[{RATE}])) or {total} * 0) / {total}"


def quantiles(metric: str, job: str, by: str, extra: str = "") -> list[tuple[str, str]]:
    sel = f'job="{job}"{extra}'
    return [(f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket{{{sel}}}[{RATE}])))",
             f"p{int(q * 100)} {{{{{by}}}}}") for q in (0.5, 0.9, 0.99)]


def http_rows(b: Board, job: str) -> None:
    """The HTTP and database panels users and products share (same metric names)."""
    sel = f'job="{job}"'
    b.row("HTTP")
    b.panel("Requests by route", [(rate("http_requests_total", sel, "route"), "{{route}}")],
            "reqps", description="Answered requests per second by axum route template.")
    b.panel("Requests by status", [(rate("http_requests_total", sel, "status"), "{{status}}")],
            "reqps")
    b.panel("Latency by route", quantiles("http_request_duration_seconds", job, "route"), "s",
            description="Request head to response head, percentiles per route template.")
    b.panel("5xx ratio", [(ratio_5xx("http_requests_total", job, "job"), "5xx share")], "percentunit", width=6)
    b.panel("In flight", [(f'sum by (instance) (http_requests_in_flight{{job="{job}"}})', "{{instance}}")], width=6)
    b.row("Database")
    b.panel("Connection pool", [
        (f'sum by (instance) (db_pool_connections_in_use{{job="{job}"}})', "in use {{instance}}"),
        (f'sum by (instance) (db_pool_connections_idle{{job="{job}"}})', "idle {{instance}}"),
        (f'sum by (instance) (db_pool_connections_open{{job="{job}"}})', "open {{instance}}"),
        (f'max by (instance) (db_pool_connections_max{{job="{job}"}})', "max {{instance}}"),
    ], description="Connections per replica; saturation is in use reaching max (alert ServiceDbPoolSaturated).")
    b.panel("Pool use", [(f'sum by (instance) (db_pool_connections_in_use{{job="{job}"}}) / '
                          f'sum by (instance) (db_pool_connections_max{{job="{job}"}})', "{{instance}}")],
            "percentunit")
    b.panel("Query duration by operation", quantiles("db_query_duration_seconds", job, "operation"), "s")
    b.panel("Queries by operation and outcome",
            [(rate("db_query_duration_seconds_count", sel, "operation, outcome"), "{{operation}} {{outcome}}")], "ops")
    b.panel("Replicas up", [(f'sum(up{{job="{job}"}})', "up"), (f'count(up{{job="{job}"}})', "scraped")],
            kind="stat", width=6)


def gateway() -> Board:
    b = Board("shop-gateway", "Shop / Gateway", "Traffic, errors, latency, upstream health, reloads and TLS of the gateway.")
    g = 'job="gateway"'
    b.row("Traffic")
    b.panel("Requests by route", [(rate("gateway_requests_total", g, "route"), "{{route}}")], "reqps",
            description='Per route prefix of gateway.toml; "-" is a request no route matched.')
    b.panel("Requests by status", [(rate("gateway_requests_total", g, "status"), "{{status}}")], "reqps")
    b.panel("In flight", [(f"sum by (instance) (gateway_requests_in_flight{{{g}}})", "{{instance}}")], width=8)
    b.panel("Gateways up", [('sum(up{job="gateway"})', "up"), ('count(up{job="gateway"})', "scraped")],
            kind="stat", width=4)
    b.row("Errors")
    b.panel("5xx ratio by route", [(ratio_5xx("gateway_requests_total", "gateway", "route"), "{{route}}")],
            "percentunit", description="Share of answers that were 5xx (alert GatewayHighErrorRatio above 5%).")
    b.panel("Upstream errors", [(rate("gateway_upstream_errors_total", g, "upstream, kind"),
                                 "{{upstream}} {{kind}}")], "ops",
            description="Failed exchanges with an upstream: no endpoint, connect, timeouts, protocol, client body.")
    b.row("Latency")
    b.panel("Latency by route", quantiles("gateway_request_duration_seconds", "gateway", "route"), "s", width=24,
            description="Request head to the end of the response body (alert GatewayHighLatencyP99 above 1s).")
    b.row("Upstream health")
    b.panel("Endpoint health", [(f"max by (upstream, endpoint) (gateway_upstream_endpoint_healthy{{{g}}})",
                                 "{{upstream}} {{endpoint}}")],
            kind="state-timeline", mappings=[{"type": "value", "options": {
                "0": {"text": "unhealthy", "color": "red"}, "1": {"text": "healthy", "color": "green"}}}],
            description="1 while the gateway sends traffic to the endpoint (alert GatewayUpstreamEndpointDown).")
    b.panel("Healthy endpoints per upstream",
            [(f"sum by (upstream) (gateway_upstream_endpoint_healthy{{{g}}})", "{{upstream}}")],
            description="0 means the upstream's routes fail (alert GatewayNoHealthyEndpoint).")
    b.row("Reloads and TLS")
    b.panel("Route table reloads", [(rate("gateway_config_reloads_total", g, "result", "increase"),
                                     "{{result}}")], width=8)
    b.panel("Certificate reloads", [(rate("gateway_tls_reloads_total", g, "result", "increase"),
                                     "{{result}}")], width=8)
    b.panel("Certificate expiry", [(f"min by (name) (gateway_tls_certificate_expiry_seconds{{{g}}} - time())",
                                    "{{name}}")], "s", kind="stat", width=8,
            description="Time left on each served certificate (alerts below 14 and 3 days). Only with HTTPS on.")
    b.panel("TLS handshakes", [(rate("gateway_tls_handshakes_total", g, "result"), "{{result}}")],
            "ops", width=24, description="refused: over tls.max_handshakes. Only with HTTPS on.")
    return b


def users() -> Board:
    b = Board("shop-users", "Shop / Users", "Logins, throttling, tokens, Argon2, HTTP and database of the users service.")
    u = 'job="users"'
    b.row("Logins and registrations")
    b.panel("Logins by outcome", [(rate("users_logins_total", u, "outcome"), "{{outcome}}")],
            "ops", description="ok, bad_credentials, throttled (lockout or per-address limit), deactivated.")
    b.panel("Throttling", [
        (rate("users_logins_total", u + ',outcome="throttled"'), "logins throttled"),
        (rate("users_registrations_total", u + ',outcome="throttled"'), "registrations throttled"),
    ], "ops", description="Alert UsersLoginThrottleStorm above 0.5 throttled logins per second.")
    b.panel("Registrations by outcome",
            [(rate("users_registrations_total", u, "outcome"), "{{outcome}}")], "ops")
    b.panel("Refresh tokens", [
        (rate("users_refresh_rotations_total", u), "rotations"),
        (rate("users_refresh_reuse_detections_total", u), "reuse detections"),
    ], "ops", description="A reuse detection revokes the token's login session (alert UsersRefreshTokenReuse).")
    b.row("Argon2")
    b.panel("Argon2 queue wait", quantiles("users_argon2_queue_wait_seconds", "users", "operation"), "s",
            description="Time a login or registration waited for a hashing slot.")
    b.panel("Argon2 hashing time", quantiles("users_argon2_duration_seconds", "users", "operation"), "s")
    http_rows(b, "users")
    return b


def products() -> Board:
    b = Board("shop-products", "Shop / Products", "Catalogue writes, stock, HTTP and database of the products service.")
    p = 'job="products"'
    b.row("Catalogue and stock")
    b.panel("Catalogue changes", [(rate("products_changes_total", p, "change"), "{{change}}")],
            "ops", width=8)
    b.panel("Stock changes", [(rate("products_stock_changes_total", p, "direction"),
                               "{{direction}}")], "ops", width=8)
    b.panel("Stock conflicts (409)", [(rate("products_stock_conflicts_total", p, "reason"),
                                       "{{reason}}")], "ops", width=8,
            description="Stock changes refused: not enough stock, or above the maximum.")
    http_rows(b, "products")
    return b


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for board in (gateway(), users(), products()):
        path = OUT / f"{board.uid.removeprefix('shop-')}.json"
        text = json.dumps(board.json(), indent=2) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"stale dashboards (run python3 monitoring/grafana/dashboards.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
