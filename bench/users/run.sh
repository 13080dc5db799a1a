#!/usr/bin/env bash
# Users service benchmark: login and GET /me throughput and latency, plus the
# two 401 paths of login (wrong password vs unknown email), with wrk on
# loopback. Through the gateway when its binary is available (VIA=gateway),
# else directly (VIA=direct). Every run is bounded by DURATION.
#
#   bench/users/run.sh                    # build release binaries, then measure
#   NO_BUILD=1 VIA=direct DURATION=10s bench/users/run.sh
#
# Needs wrk (apt-get install -y wrk), curl, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DURATION=${DURATION:-15s}
THREADS=${THREADS:-2}
CONNS_ME=${CONNS_ME:-32}
CONNS_LOGIN=${CONNS_LOGIN:-8}
VIA=${VIA:-auto}
USERS_PORT=${USERS_PORT:-18401}
GATEWAY_PORT=${GATEWAY_PORT:-18480}
GATEWAY_ADMIN_PORT=${GATEWAY_ADMIN_PORT:-18490}
EMAIL=bench@example.com
PASSWORD='bench password 123'

if [[ -z "${NO_BUILD:-}" ]]; then
  (cd "$ROOT" && cargo build --release -p users)
  if [[ "$VIA" != direct ]]; then
    (cd "$ROOT" && cargo build --release -p gateway) || echo "gateway does not build: measuring directly"
  fi
fi
if [[ "$VIA" == auto ]]; then
  if [[ -x "$TARGET/release/gateway" ]]; then VIA=gateway; else VIA=direct; fi
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "not up: $1" >&2
  exit 1
}

# Production Argon2 parameters (the defaults); throttling thresholds raised
# so the 401 runs measure password checks, not 429s.
LISTEN_ADDR=127.0.0.1:$USERS_PORT DATA_DIR=$WORK/data LOG_FORMAT=json RUST_LOG=warn \
  LOGIN_MAX_FAILURES_PER_EMAIL=1000000000 LOGIN_MAX_FAILURES_PER_IP_PER_MINUTE=1000000000 \
  "$TARGET/release/users" serve >"$WORK/users.log" 2>&1 &
USERS_PID=$!
PIDS+=("$USERS_PID")
wait_for "http://127.0.0.1:$USERS_PORT/health"

if [[ "$VIA" == gateway ]]; then
  GATEWAY_LISTEN=127.0.0.1:$GATEWAY_PORT GATEWAY_ADMIN_LISTEN=127.0.0.1:$GATEWAY_ADMIN_PORT \
    USERS_UPSTREAM=http://127.0.0.1:$USERS_PORT PRODUCTS_UPSTREAM=http://127.0.0.1:9 \
    LOG_FORMAT=json RUST_LOG=warn \
    "$TARGET/release/gateway" --config "$ROOT/gateway/gateway.toml" >"$WORK/gateway.log" 2>&1 &
  PIDS+=("$!")
  wait_for "http://127.0.0.1:$GATEWAY_PORT/users/health"
  BASE=http://127.0.0.1:$GATEWAY_PORT/users
else
  BASE=http://127.0.0.1:$USERS_PORT
fi

curl -fsS -o /dev/null -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/auth/register"
TOKEN=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

summary() { # name, wrk output file
  python3 - "$1" "$2" <<'PY'
import re, sys
name, path = sys.argv[1], sys.argv[2]
text = open(path).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
total = re.search(r"(\d+) requests in", text).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors:.*", text)
print(f"| {name} | {float(rps):.0f} | {lat.get('50','?')} | {lat.get('99','?')} | {total} | "
      f"{non2xx.group(1) if non2xx else 0} | {errors.group(0) if errors else 'none'} |")
PY
}

RUNS=0
run() { # name, connections, wrk args...
  local name=$1 conns=$2
  shift 2
  local out="$WORK/run-$((++RUNS)).txt"
  wrk -t "$THREADS" -c "$conns" -d "$DURATION" --latency "$@" >"$out"
  summary "$name" "$out"
}

echo "users benchmark via $VIA: $BASE; wrk -t $THREADS -d $DURATION; $(nproc) CPUs"
echo "Argon2id m=19456 KiB, t=2, p=1 (defaults); PASSWORD_HASH_CONCURRENCY = CPUs"
echo "load before the runs: $(cut -d" " -f1-3 /proc/loadavg)"
echo
echo "| run | requests/s | p50 | p99 | requests | non-2xx | socket errors |"
echo "|---|---|---|---|---|---|---|"
run "GET /me (c=$CONNS_ME)" "$CONNS_ME" -H "Authorization: Bearer $TOKEN" "$BASE/me"
BENCH_EMAIL=$EMAIL BENCH_PASSWORD=$PASSWORD \
  run "login ok (c=$CONNS_LOGIN)" "$CONNS_LOGIN" -s "$ROOT/bench/users/login.lua" "$BASE/auth/login"
# The two 401 paths run at the same time (c=2 each), so they see the same
# machine load and their latencies compare directly.
BENCH_EMAIL=$EMAIL BENCH_PASSWORD='wrong password 1' \
  wrk -t 1 -c 2 -d "$DURATION" --latency -s "$ROOT/bench/users/login.lua" "$BASE/auth/login" >"$WORK/wrong.txt" &
WRONG=$!
BENCH_EMAIL=nobody@example.com BENCH_PASSWORD='wrong password 1' \
  wrk -t 1 -c 2 -d "$DURATION" --latency -s "$ROOT/bench/users/login.lua" "$BASE/auth/login" >"$WORK/unknown.txt" &
UNKNOWN=$!
wait "$WRONG" "$UNKNOWN"
summary "login 401 wrong password (c=2, concurrent)" "$WORK/wrong.txt"
summary "login 401 unknown email (c=2, concurrent)" "$WORK/unknown.txt"
echo
echo "users peak RSS: $(grep VmHWM /proc/$USERS_PID/status | awk '{print $2, $3}')"
