#!/usr/bin/env bash
# Monitoring proof with real parts: the gateway (HTTP and HTTPS), users and
# products binaries on loopback ports with temporary SQLite data, scraped
# every second by a real Prometheus (Debian package `prometheus`) that loads
# the shipped alert rules. scripts/monitoring/proof.py then checks every
# target is up, generates a load through the gateway, and requires every
# PromQL expression of every shipped dashboard to return series and every
# rule to evaluate without error. Also runs the static rule checks
# (scripts/monitoring-rules.sh) and the dashboards' drift check first.
#
#   bash scripts/monitoring-proof.sh
# Binaries come from BIN_DIR (default ${CARGO_TARGET_DIR:-target}/debug;
# build them with `cargo build --bins`). Needs prometheus, promtool, openssl
# and python3 with PyYAML. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
started_at=$(date +%s)
log() { printf '[monitoring %3ss] %s\n' "$(( $(date +%s) - started_at ))" "$*"; }

bin_dir="${BIN_DIR:-${CARGO_TARGET_DIR:-target}/debug}"
case "$bin_dir" in /*) ;; *) bin_dir="$repo/$bin_dir" ;; esac
for b in gateway users products; do
  [ -x "$bin_dir/$b" ] || { echo "no $bin_dir/$b: run cargo build --bins (or set BIN_DIR)" >&2; exit 1; }
done
for tool in prometheus promtool openssl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install prometheus openssl)" >&2; exit 1; }
done

python3 monitoring/grafana/dashboards.py --check
bash scripts/monitoring-rules.sh
log "rule files, rule unit tests and dashboards are consistent"

work=$(mktemp -d)
pids=()
cleanup() {
  status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" != 0 ]; then
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  fi
  rm -rf "$work"
  log "finished with status $status"
}
trap cleanup EXIT

# Free loopback ports, asked of the kernel at once so that none repeats.
read -r p_users m_users p_products m_products p_gw p_admin p_tls p_prom < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(8)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

admin_email=admin@proof.test
admin_password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
  -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null

start() { # name command...
  local name="$1"; shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
}
wait_http() { # url seconds
  local deadline=$(( $(date +%s) + $2 ))
  until curl -sf -o /dev/null --max-time 2 "$1"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$1 did not answer within $2s" >&2; exit 1; }
    sleep 0.3
  done
}

common_env=(APP_ENV=development LOG_FORMAT=json RUST_LOG=warn)
mkdir -p "$work/users" "$work/products"
start users env "${common_env[@]}" DATA_DIR="$work/users" LISTEN_ADDR="127.0.0.1:$p_users" \
  METRICS_LISTEN_ADDR="127.0.0.1:$m_users" ADMIN_EMAIL="$admin_email" ADMIN_PASSWORD="$admin_password" \
  LOGIN_MAX_FAILURES_PER_EMAIL=2 \
  "$bin_dir/users"
wait_http "http://127.0.0.1:$p_users/health" 60
start products env "${common_env[@]}" DATA_DIR="$work/products" LISTEN_ADDR="127.0.0.1:$p_products" \
  METRICS_LISTEN_ADDR="127.0.0.1:$m_products" JWKS_URL="http://127.0.0.1:$p_users/.well-known/jwks.json" \
  "$bin_dir/products"
wait_http "http://127.0.0.1:$p_products/health" 60
cp gateway/gateway.toml "$work/gateway.toml"
start gateway env LOG_FORMAT=json RUST_LOG=warn GATEWAY_LISTEN="127.0.0.1:$p_gw" GATEWAY_ADMIN_LISTEN="127.0.0.1:$p_admin" \
  USERS_UPSTREAM="http://127.0.0.1:$p_users" PRODUCTS_UPSTREAM="http://127.0.0.1:$p_products" \
  GATEWAY_TLS_LISTEN="127.0.0.1:$p_tls" GATEWAY_TLS_CERT="$work/tls.crt" GATEWAY_TLS_KEY="$work/tls.key" \
  "$bin_dir/gateway" run --config "$work/gateway.toml"
wait_http "http://127.0.0.1:$p_gw/products/health" 60
log "gateway :$p_gw (HTTPS :$p_tls, admin :$p_admin), users :$p_users (metrics :$m_users), products :$p_products (metrics :$m_products)"

# The shipped rules, the compose file's job names, scraped every second.
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $repo/monitoring/prometheus/rules/*.yml
scrape_configs:
  - job_name: gateway
    static_configs: [{targets: ["127.0.0.1:$p_admin"]}]
  - job_name: users
    static_configs: [{targets: ["127.0.0.1:$m_users"]}]
  - job_name: products
    static_configs: [{targets: ["127.0.0.1:$m_products"]}]
EOF
promtool check config "$work/prometheus.yml" >/dev/null
start prometheus prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$p_prom"
wait_http "http://127.0.0.1:$p_prom/-/ready" 60
log "prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3) on :$p_prom"

python3 scripts/monitoring/proof.py --repo "$repo" --prometheus "http://127.0.0.1:$p_prom" \
  --gateway "http://127.0.0.1:$p_gw" --gateway-tls "https://localhost:$p_tls" \
  --admin-email "$admin_email" --admin-password "$admin_password"
log "PASS in $(( $(date +%s) - started_at ))s"
