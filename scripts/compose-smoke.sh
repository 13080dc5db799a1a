#!/usr/bin/env bash
# Compose smoke test: the whole system in containers, exercised only through
# the gateway on http://127.0.0.1:80. Run from the repository root:
#   bash scripts/compose-smoke.sh
# Uses `docker compose` when available, else `docker-compose`. Creates the
# env files it needs with scripts/init-env.sh (restoring any existing ones
# afterwards) and always finishes with `down -v`. At the end, on the same
# stack, scripts/compose-faults.py runs the fault test under write load
# (SMOKE_FAULTS=0 skips it; FAULTS_REPORT=file keeps its figures as JSON).
# SMOKE_BUILD=0 reuses the shop-*:local images already built (a rerun).
# Last, the gateway is recreated (same image, no build) with
# docker-compose.https.yml and certificate files from a throwaway CA: HTTPS
# on 443 and the 308 redirect of plain HTTP. With three products replicas
# up, the monitoring profile's Prometheus must scrape all of them, the
# gateway and users (every target up).
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT="${SMOKE_PROJECT:-shopsmoke}"
BASE="http://127.0.0.1:80"
started_at=$(date +%s)

if docker compose version >/dev/null 2>&1; then
  compose() { docker compose -p "$PROJECT" "$@"; }
else
  compose() { docker-compose -p "$PROJECT" "$@"; }
fi

log() { printf '[smoke %3ss] %s\n' "$(( $(date +%s) - started_at ))" "$*"; }
fail() { log "FAIL: $*"; exit 1; }

# --- base images: pull, or build local stand-ins when there is no registry --
need_base=0
prom_image=$(sed -n 's/^ *image: *\(prom\/prometheus:[^ ]*\) *$/\1/p' docker-compose.yml | head -1)
for img in rust:1.95-bookworm debian:bookworm-slim postgres:15-bookworm "$prom_image"; do
  docker image inspect "$img" >/dev/null 2>&1 || docker pull -q "$img" >/dev/null 2>&1 || need_base=1
done
if [ "$need_base" = 1 ]; then
  log "building local base images from Debian packages"
  bash scripts/local-base-images.sh
fi

# --- env files with fresh secrets ------------------------------------------
env_files=(gateway/.env users/.env products/.env scripts/postgres/postgres.env)
for f in "${env_files[@]}"; do [ -e "$f" ] && mv "$f" "$f.smoke-backup"; done
restore_env() {
  for f in "${env_files[@]}"; do
    rm -f "$f"
    [ -e "$f.smoke-backup" ] && mv "$f.smoke-backup" "$f"
  done
  return 0
}
cleanup() {
  status=$?
  if [ "$status" != 0 ]; then
    log "logs of the failed run:"
    compose logs --no-color --tail=60 2>&1 | tail -200 || true
  fi
  # With the HTTPS file and the monitoring profile too, so that their
  # containers and volumes go as well.
  compose --profile monitoring -f docker-compose.yml -f docker-compose.https.yml down -v --remove-orphans >/dev/null 2>&1 || true
  restore_env
  [ -z "${tls_dir:-}" ] || rm -rf "$tls_dir"
  log "finished with status $status in $(( $(date +%s) - started_at ))s"
}
trap cleanup EXIT

# The README's first-start script writes them (never overwriting: the
# originals were moved aside above).
ADMIN_EMAIL="admin@smoke.test" bash scripts/init-env.sh >/dev/null
admin_email="admin@smoke.test"
admin_password=$(sed -n 's/^ADMIN_PASSWORD=//p' users/.env)
[ -n "$admin_password" ] || fail "scripts/init-env.sh wrote no admin password"
# The fault test registers many users from one address (the host).
sed -i 's/^REGISTER_MAX_PER_IP_PER_HOUR=.*/REGISTER_MAX_PER_IP_PER_HOUR=1000000/' users/.env

# --- no secret enters the build context ----------------------------------------
probe=gateway/context-probe.env.smoke-backup
echo "SECRET=probe" > "$probe"
leaked=$(printf 'FROM debian:bookworm-slim\nCOPY . /ctx\nRUN find /ctx \\( -name .env -o -name "*.env" -o -name "*.smoke-backup" -o \\( -name ".env.*" ! -name .env.example \\) \\) -print | sed "s|^/ctx/|LEAKED |"\n' \
  | docker build --no-cache --iidfile /tmp/smoke-context.iid -f - . 2>&1 | grep -E '^LEAKED ' || true)
rm -f "$probe"
docker rmi -f "$(cat /tmp/smoke-context.iid 2>/dev/null)" >/dev/null 2>&1 || true
[ -z "$leaked" ] || fail "env files in the build context: $leaked"
log "the build context holds no env file and no backup"

# --- build and start ----------------------------------------------------------
if [ "${SMOKE_BUILD:-1}" = 1 ]; then
  log "building images"
  build_started=$(date +%s)
  compose build
  log "images built in $(( $(date +%s) - build_started ))s:"
else
  log "SMOKE_BUILD=0: using the images already tagged:"
fi
docker image ls --format '  {{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "shop-(gateway|users|products)" || true

log "starting"
compose up -d

wait_for() { # url expected-status seconds
  local url="$1" want="$2" deadline=$(( $(date +%s) + $3 )) code
  while [ "$(date +%s)" -lt "$deadline" ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$url" || true)
    [ "$code" = "$want" ] && return 0
    sleep 1
  done
  fail "$url did not answer $want within $3s (last: ${code:-none})"
}
wait_for "$BASE/users/health" 200 240
wait_for "$BASE/products/health" 200 120
log "system is up"

# curl wrapper: prints the body, fails unless the status matches.
call() { # expected-status method path [json-body] [token]
  local want="$1" method="$2" path="$3" body="${4:-}" token="${5:-}" out code
  out=$(mktemp)
  local args=(-s -o "$out" -w '%{http_code}' -X "$method" --max-time 10 "$BASE$path")
  [ -n "$body" ] && args+=(-H 'content-type: application/json' --data "$body")
  [ -n "$token" ] && args+=(-H "authorization: Bearer $token")
  code=$(curl "${args[@]}" || true)
  if [ "$code" != "$want" ]; then
    cat "$out" >&2; rm -f "$out"
    fail "$method $path answered $code, expected $want"
  fi
  cat "$out"; rm -f "$out"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# --- the user journey -----------------------------------------------------------
call 201 POST /users/auth/register '{"email":"shopper@smoke.test","password":"correct horse battery"}' >/dev/null
call 200 POST /users/auth/login '{"email":"shopper@smoke.test","password":"correct horse battery"}' | json '["token_type"]' | grep -qx bearer
admin_token=$(call 200 POST /users/auth/login "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" | json '["access_token"]')
call 200 GET /users/me "" "$admin_token" | json '["role"]' | grep -qx admin
product=$(call 201 POST /products/ '{"title":"Smoke Test Kettle","price":"24.50","stock_qty":7,"category":"kitchen"}' "$admin_token")
product_id=$(echo "$product" | json '["id"]')
echo "$product" | json '["price"]' | grep -qx '24.50'
call 200 GET "/products/?q=Kettle" | json '["total"]' | grep -qx 1
call 200 GET "/products/$product_id" | json '["slug"]' | grep -qx smoke-test-kettle
log "register, login, create, list and read work through the gateway"

# --- the storefront at / (from the gateway image's /srv/storefront) ------------
page_headers=$(curl -s -D - -o /dev/null --max-time 10 "$BASE/product/smoke-test-kettle")
echo "$page_headers" | grep -q '^HTTP/1.1 200' || fail "the storefront page is not served: $page_headers"
echo "$page_headers" | grep -qi "^content-security-policy: default-src 'none'" || fail "no CSP on the page: $page_headers"
echo "$page_headers" | grep -qi '^cache-control: no-cache' || fail "the page is not no-cache: $page_headers"
asset=$(curl -s --max-time 10 "$BASE/" | grep -o '/v-[0-9a-f]*/app\.js' | head -1)
[ -n "$asset" ] || fail "the storefront page names no app.js"
curl -s -D - -o /dev/null -H 'accept-encoding: br' --max-time 10 "$BASE$asset" \
  | grep -qi '^cache-control: max-age=31536000, public, immutable' || fail "$asset is not cached for a year"
log "the storefront is served at / with its CSP and cache headers"

# --- only port 80 is published ------------------------------------------------
published=$(docker ps --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}} {{.Ports}}' | grep -- '->' || true)
echo "$published" | grep -q gateway || fail "the gateway publishes nothing"
[ "$(echo "$published" | wc -l)" = 1 ] || fail "more than the gateway publishes ports: $published"
echo "$published" | grep -Eq ':80->80/tcp' || fail "gateway does not publish 80: $published"
for port in 8000 5432 9000; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "port $port is reachable from the host"; fi
done
log "only port 80 is published; 8000, 5432 and 9000 are not reachable"

# Docker must wait out the drain (20 s) before it kills: stop_grace_period.
for c in $(docker ps -q --filter "label=com.docker.compose.project=$PROJECT"); do
  timeout=$(docker inspect -f '{{.Config.StopTimeout}}' "$c")
  [ "$timeout" = 30 ] || fail "container $c stops with a ${timeout:-default 10}s grace, not 30s"
done
log "every container gets 30s to drain on stop"

# --- scaling: the gateway spreads requests over replicas ------------------------
compose up -d --no-recreate --scale products=3 products
products_containers() { docker ps --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=products" --format '{{.Names}}'; }
deadline=$(( $(date +%s) + 120 ))
until [ "$(products_containers | wc -l)" = 3 ] && ! docker ps --filter "label=com.docker.compose.service=products" --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Status}}' | grep -vq '(healthy)'; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "three healthy products replicas did not appear"
  sleep 2
done
reached=0
for attempt in $(seq 1 30); do
  for i in $(seq 1 12); do curl -s -o /dev/null -H "x-request-id: smoke-scale-$i" "$BASE/products/$product_id"; done
  reached=0
  for c in $(products_containers); do
    docker logs "$c" 2>&1 | grep -q 'smoke-scale-' && reached=$((reached + 1))
  done
  [ "$reached" -ge 2 ] && break
  sleep 2
done
[ "$reached" -ge 2 ] || fail "requests reached only $reached products replica(s)"
log "requests reached $reached of 3 products replicas"

# --- monitoring profile: Prometheus finds every replica by DNS -----------------
# Only Prometheus (Grafana has no offline stand-in; its dashboards are proven
# through Prometheus by scripts/monitoring-proof.sh). Queried with promtool
# inside its container: nothing of it is published.
monitoring_started=$(date +%s)
compose --profile monitoring up -d --no-deps prometheus >/dev/null 2>&1
prom_container=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=prometheus")
[ -n "$prom_container" ] || fail "the monitoring profile started no prometheus container"
prom_query() { docker exec "$prom_container" promtool query instant -o json http://localhost:9090 "$1" 2>/dev/null; }
up_by_job='import json, sys
series = json.load(sys.stdin)
parts = []
for job in ("gateway", "users", "products"):
    values = [float(s["value"][1]) for s in series if s["metric"]["job"] == job]
    parts.append("%s %d/%d" % (job, sum(values), len(values)))
print(" ".join(parts))'
scalar='import json, sys; print(int(float(json.load(sys.stdin)[0]["value"][1])))'
targets=""
deadline=$(( $(date +%s) + 90 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  # "job up/found" per job: "gateway 1/1 users 1/1 products 3/3" when all are up.
  targets=$(prom_query 'up{job=~"gateway|users|products"}' | python3 -c "$up_by_job" 2>/dev/null || true)
  [ "$targets" = "gateway 1/1 users 1/1 products 3/3" ] && break
  sleep 2
done
[ "$targets" = "gateway 1/1 users 1/1 products 3/3" ] || {
  prom_query 'up' >&2 || true
  fail "Prometheus targets up/found by job: '$targets', expected gateway 1/1 users 1/1 products 3/3"
}
docker ps --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=prometheus" \
  --format '{{.Ports}}' | grep -q -- '->' && fail "prometheus publishes a port"
# The mounted rule files: valid for the container's promtool, all loaded,
# evaluated without failure, and ShopTargetDown silent.
docker exec "$prom_container" sh -c 'promtool check rules /etc/prometheus/rules/*.yml' >/dev/null \
  || fail "promtool in the prometheus container refuses the rule files"
shipped_rules=$(cat monitoring/prometheus/rules/*.yml | grep -Ec '^ *- (alert|record):')
# prometheus_rule_group_rules exists once Prometheus has scraped itself:
# asked again for up to 60 s (bounded) rather than read once.
loaded_rules=0
for _ in $(seq 1 30); do
  loaded_rules=$(prom_query 'sum(prometheus_rule_group_rules)' | python3 -c "$scalar" 2>/dev/null || echo 0)
  [ "$loaded_rules" = "$shipped_rules" ] && break
  sleep 2
done
[ "$loaded_rules" = "$shipped_rules" ] || fail "Prometheus loaded $loaded_rules rules, the repository has $shipped_rules"
[ "$(prom_query 'sum(prometheus_rule_evaluation_failures_total)' | python3 -c "$scalar" 2>/dev/null)" = 0 ] \
  || fail "rule evaluations failed in Prometheus"
[ "$(prom_query 'ALERTS{alertstate="firing", alertname="ShopTargetDown"}')" = "[]" ] \
  || fail "ShopTargetDown fires while every target is up"
log "monitoring profile: Prometheus scrapes the gateway, users and 3 products replicas, all up; $loaded_rules rules loaded and evaluated; publishes nothing (took $(( $(date +%s) - monitoring_started ))s)"

# --- one replica down: the others keep serving ------------------------------
victim=$(products_containers | head -1)
docker stop "$victim" >/dev/null
ok=0
for i in $(seq 1 40); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/products/$product_id" || true)
  [ "$code" = 200 ] && ok=$((ok + 1))
done
[ "$ok" -ge 36 ] || fail "with one replica stopped only $ok/40 requests succeeded"
log "with one replica stopped, $ok/40 requests succeeded"

# --- every replica down: a problem response, then recovery -------------------
compose stop products >/dev/null 2>&1
sleep 1
headers=$(mktemp)
code=$(curl -s -D "$headers" -o /tmp/smoke-body.json -w '%{http_code}' --max-time 15 "$BASE/products/$product_id" || true)
case "$code" in 502|503|504) ;; *) fail "with no products replica the gateway answered $code";; esac
grep -qi '^content-type: application/problem+json' "$headers" || fail "the $code is not a problem+json response"
json '["request_id"]' < /tmp/smoke-body.json >/dev/null
rm -f "$headers"
log "with no replica the gateway answers $code problem+json"
compose up -d --scale products=3 products >/dev/null 2>&1
wait_for "$BASE/products/$product_id" 200 120
log "products recovered"

# --- database restart: services recover, data kept ------------------------------
compose restart postgres >/dev/null 2>&1
wait_for "$BASE/users/ready" 200 120
wait_for "$BASE/products/ready" 200 120
call 200 GET "/products/$product_id" | json '["title"]' | grep -qx 'Smoke Test Kettle'
call 200 POST /users/auth/login '{"email":"shopper@smoke.test","password":"correct horse battery"}' >/dev/null
log "after a PostgreSQL restart the services recovered and no data was lost"
smoke_done=$(date +%s)

# --- faults under write load (same stack, three products replicas) ----------
if [ "${SMOKE_FAULTS:-1}" = 1 ]; then
  wait_for "$BASE/products/$product_id" 200 120
  compose_cmd="docker-compose -p $PROJECT"
  docker compose version >/dev/null 2>&1 && compose_cmd="docker compose -p $PROJECT"
  python3 scripts/compose-faults.py --base "$BASE" --compose "$compose_cmd" \
    --admin-email "$admin_email" --admin-password "$admin_password" \
    --route-table gateway/shop.toml ${FAULTS_REPORT:+--report "$FAULTS_REPORT"}
  log "fault test took $(( $(date +%s) - smoke_done ))s"
fi

# --- HTTPS: docker-compose.https.yml with certificate files -----------------
https_started=$(date +%s)
tls_dir=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=Shop Smoke Test CA" -keyout "$tls_dir/ca.key" -out "$tls_dir/ca.crt" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=localhost" -keyout "$tls_dir/tls.key" -out "$tls_dir/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$tls_dir/ext.cnf"
openssl x509 -req -in "$tls_dir/tls.csr" -CA "$tls_dir/ca.crt" -CAkey "$tls_dir/ca.key" -CAcreateserial \
  -days 2 -extfile "$tls_dir/ext.cnf" -out "$tls_dir/tls.crt" 2>/dev/null
# Bound into the container: readable by the gateway's uid 10001 (a throwaway key).
chmod 755 "$tls_dir" && chmod 644 "$tls_dir"/*
cat >> gateway/.env <<'EOF_ENV'
GATEWAY_TLS_CERT=/etc/gateway-tls/tls.crt
GATEWAY_TLS_KEY=/etc/gateway-tls/tls.key
GATEWAY_REDIRECT_HTTPS=true
EOF_ENV
compose_https() { compose -f docker-compose.yml -f docker-compose.https.yml "$@"; }
SHOP_TLS_DIR="$tls_dir" compose_https up -d --no-deps --no-build gateway >/dev/null 2>&1
tls_curl() { curl -s --cacert "$tls_dir/ca.crt" --resolve localhost:443:127.0.0.1 --max-time 5 "$@"; }
deadline=$(( $(date +%s) + 60 ))
until [ "$(tls_curl -o /dev/null -w '%{http_code}' https://localhost/users/health || true)" = 200 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "https://localhost/users/health (trusting the test CA) did not answer 200 within 60s"
  sleep 1
done
[ "$(tls_curl -o /dev/null -w '%{http_code}' https://localhost/products/health)" = 200 ] || fail "https://localhost/products/health did not answer 200"
redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 http://localhost/users/health?x=1 || true)
[ "$redirect" = "308 https://localhost/users/health?x=1" ] || fail "plain HTTP with GATEWAY_REDIRECT_HTTPS=true answered '$redirect', not a 308 to https"
docker ps --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=gateway" \
  --format '{{.Ports}}' | grep -q ':443->443/tcp' || fail "the gateway does not publish 443"
gateway_container=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=gateway")
docker exec "$gateway_container" sh -c 'test -w /var/lib/gateway/acme' \
  || fail "the ACME storage volume is not writable by the gateway's user"
log "HTTPS with docker-compose.https.yml: 200 over TLS trusting the test CA, 308 from plain HTTP, ACME volume writable (took $(( $(date +%s) - https_started ))s)"

log "PASS"
