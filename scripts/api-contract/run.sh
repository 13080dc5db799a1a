#!/usr/bin/env bash
# The API contract, checked by a generic fuzzer: starts the whole system
# (launcher: gateway + users + products on fresh SQLite files), logs in as
# the bootstrap admin, and runs schemathesis (PyPI, pinned in
# requirements.txt, installed once into a virtualenv under ${TMPDIR:-/tmp})
# against both OpenAPI documents through the gateway, with every check,
# a fixed seed and a bounded number of examples. Exits non-zero on any
# failure. Usage (from anywhere):
#   bash scripts/api-contract/run.sh            # EXAMPLES=50 SEED=20261130
#   LAUNCHER_BIN=target/debug/shop bash scripts/api-contract/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
examples="${EXAMPLES:-50}"
seed="${SEED:-20261130}"

stamp="$( (cat "$here/requirements.txt"; python3 -c 'import sys; print(sys.version)') | sha256sum | cut -c1-12)"
venv="${TMPDIR:-/tmp}/shop-api-contract-$stamp"
if [ ! -f "$venv/.installed" ]; then
  if ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "api-contract: installing python3-venv from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  echo "api-contract: creating $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
  touch "$venv/.installed"
fi

launcher="${LAUNCHER_BIN:-}"
if [ -z "$launcher" ]; then
  cargo build --locked --workspace --bins   # the workspace-wide build reuses the test build's dependencies
  launcher="${CARGO_TARGET_DIR:-$repo/target}/debug/shop"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work="$(mktemp -d "${TMPDIR:-/tmp}/shop-api-contract.XXXXXX")"
port="$(free_port)"
admin_port="$(free_port)"
"$launcher" --data-dir "$work/data" --port "$port" --admin-port "$admin_port" >"$work/launcher.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  if curl -fsS "$base/users/health" >/dev/null 2>&1 && curl -fsS "$base/products/health" >/dev/null 2>&1 \
     && grep -q "password:" "$work/launcher.log"; then
    break
  fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/launcher.log" >&2; echo "api-contract: the launcher stopped" >&2; exit 1; }
  sleep 0.5
done
email="$(awk '/email:/ {print $2; exit}' "$work/launcher.log")"
password="$(awk '/password:/ {print $2; exit}' "$work/launcher.log")"
token="$(curl -fsS -X POST "$base/users/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

status=0
for service in users products; do
  echo "==== schemathesis: $service ($examples examples per operation, seed $seed)"
  # From the scratch directory: schemathesis leaves a .schemathesis/ behind.
  (cd "$work" && "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/$service/openapi.json" \
    --url "$base/$service" \
    --checks all \
    --header "Authorization: Bearer $token" \
    --max-examples "$examples" \
    --seed "$seed" \
    --workers 1 \
    --request-timeout 10 \
    --suppress-health-check too_slow \
    --generation-database none \
    --report junit --report-dir "$work/reports-$service") \
    || status=1
done
exit "$status"
