#!/usr/bin/env bash
# End-to-end check of the users service through the gateway (SPEC §4 as a
# client sees it): register, login, /users/me, refresh, Swagger UI and
# openapi.json under /users. Exits non-zero at the first failed check.
#
#   NO_BUILD=1 bench/users/e2e-gateway.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
USERS_PORT=${USERS_PORT:-18501}
GATEWAY_PORT=${GATEWAY_PORT:-18580}
GATEWAY_ADMIN_PORT=${GATEWAY_ADMIN_PORT:-18590}

if [[ -z "${NO_BUILD:-}" ]]; then
  (cd "$ROOT" && cargo build --release -p users -p gateway)
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

LISTEN_ADDR=127.0.0.1:$USERS_PORT DATA_DIR=$WORK/data RUST_LOG=warn \
  ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD='admin password 1' \
  "$TARGET/release/users" >"$WORK/users.log" 2>&1 &
PIDS+=("$!")
wait_for "http://127.0.0.1:$USERS_PORT/health"
GATEWAY_LISTEN=127.0.0.1:$GATEWAY_PORT GATEWAY_ADMIN_LISTEN=127.0.0.1:$GATEWAY_ADMIN_PORT \
  USERS_UPSTREAM=http://127.0.0.1:$USERS_PORT PRODUCTS_UPSTREAM=http://127.0.0.1:9 RUST_LOG=warn \
  "$TARGET/release/gateway" --config "$ROOT/gateway/gateway.toml" >"$WORK/gateway.log" 2>&1 &
PIDS+=("$!")
G=http://127.0.0.1:$GATEWAY_PORT
wait_for "$G/users/health"

check() { # description, expected, actual
  if [[ "$2" == "$3" ]]; then echo "ok   $1"; else echo "FAIL $1: expected $2, got $3"; exit 1; fi
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

status=$(curl -s -o "$WORK/reg.json" -D "$WORK/reg.h" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"email":"Ada@Example.com","password":"correct horse battery"}' "$G/users/auth/register")
check "register -> 201" 201 "$status"
check "register Location has the /users prefix" "/users/" "$(grep -i '^location:' "$WORK/reg.h" | awk '{print $2}' | cut -c1-7)"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"email":"x@example.com","password":"correct horse battery","role":"admin"}' "$G/users/auth/register")
check "register with role -> 422" 422 "$status"
curl -s -H 'content-type: application/json' \
  -d '{"email":"ada@example.com","password":"correct horse battery"}' "$G/users/auth/login" >"$WORK/login.json"
ACCESS=$(json '["access_token"]' <"$WORK/login.json")
REFRESH=$(json '["refresh_token"]' <"$WORK/login.json")
check "login token_type" bearer "$(json '["token_type"]' <"$WORK/login.json")"
status=$(curl -s -o /dev/null -w '%{http_code}' -d 'username=ada@example.com&password=correct+horse+battery' "$G/users/auth/login")
check "OAuth2 form login -> 200" 200 "$status"
check "/users/me email" ada@example.com "$(curl -s -H "authorization: Bearer $ACCESS" "$G/users/me" | json '["email"]')"
status=$(curl -s -o "$WORK/p.json" -D "$WORK/p.h" -w '%{http_code}' "$G/users/me")
check "/users/me without token -> 401" 401 "$status"
check "401 is problem+json" "application/problem+json" "$(grep -i '^content-type:' "$WORK/p.h" | awk '{print $2}' | tr -d '\r')"
check "problem instance has the prefix" /users/me "$(json '["instance"]' <"$WORK/p.json")"
status=$(curl -s -o "$WORK/r.json" -w '%{http_code}' -H 'content-type: application/json' \
  -d "{\"refresh_token\":\"$REFRESH\"}" "$G/users/auth/refresh")
check "refresh -> 200" 200 "$status"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  -d "{\"refresh_token\":\"$REFRESH\"}" "$G/users/auth/refresh")
check "reused refresh token -> 401" 401 "$status"
check "jwks key type" OKP "$(curl -s "$G/users/.well-known/jwks.json" | json '["keys"][0]["kty"]')"
check "openapi.json server URL" /users "$(curl -s "$G/users/openapi.json" | json '["servers"][0]["url"]')"
status=$(curl -s -o /dev/null -w '%{http_code}' "$G/users/docs/")
check "Swagger UI -> 200" 200 "$status"
check "Swagger UI loads /users/openapi.json" 1 "$(curl -s "$G/users/docs/swagger-initializer.js" | grep -c '/users/openapi.json')"
check "/users/docs redirects within the prefix" /users/docs/ "$(curl -s -o /dev/null -w '%{redirect_url}' "$G/users/docs" | sed "s#^$G##")"
ADMIN=$(curl -s -H 'content-type: application/json' \
  -d '{"email":"admin@example.com","password":"admin password 1"}' "$G/users/auth/login" | json '["access_token"]')
check "admin list total" 2 "$(curl -s -H "authorization: Bearer $ADMIN" "$G/users/?per_page=500" | json '["total"]')"
echo "all checks passed"
