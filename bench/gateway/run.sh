#!/usr/bin/env bash
# Gateway vs NGINX vs HAProxy vs direct, in front of the same upstream, on
# loopback; proxy and upstream pinned to CPU 0, wrk to CPU 1 (--no-pin: not).
# Builds the gateway in release first. Needs: nginx haproxy wrk
# (Debian: apt-get install -y nginx haproxy wrk), python3, taskset, openssl.
# Options: bench/gateway/README.md.
#
#   bench/gateway/run.sh                 # default: 5 s per run, 2 interleaved rounds, log pair on
#   DURATION=10 ROUNDS=3 bench/gateway/run.sh
#   bench/gateway/run.sh --scenarios tls   # the TLS scenarios
#   bench/gateway/run.sh --scenarios idle  # RSS with 10,000 idle HTTP/1.1 and 1,000 h2c connections
#   bench/gateway/run.sh --scenarios all --baseline /path/to/older/gateway
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
for tool in nginx haproxy wrk python3 taskset openssl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install -y nginx haproxy wrk)" >&2; exit 1; }
done
(cd "$root" && cargo build --release -p gateway --bin gateway --example bench_upstream)
exec python3 "$root/bench/gateway/bench.py" \
  --gateway "$CARGO_TARGET_DIR/release/gateway" \
  --upstream "$CARGO_TARGET_DIR/release/examples/bench_upstream" \
  --duration "${DURATION:-5}" --rounds "${ROUNDS:-2}" "$@"
