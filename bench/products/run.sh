#!/usr/bin/env bash
# Products service benchmark: list (20 items), filtered list, read by id,
# text search and a filtered list with facets, with wrk on loopback,
# directly and through the gateway, on SQLite and PostgreSQL, with 1,000 and
# 100,000 products (SIZES="100000 1000000" for the large catalogue).
#
#   cargo build --release -p products --bin products --example bench_seed
#   cargo build --release -p gateway            # optional: adds "via gateway" rows
#   PG_URL=postgres://postgres@127.0.0.1:55432/postgres bench/products/run.sh
#
# Settings (environment): TARGET_DIR (default $CARGO_TARGET_DIR or target),
# PG_URL (admin URL of a PostgreSQL server; PostgreSQL rows are skipped when
# unset), BACKENDS ("sqlite postgres"), SIZES ("1000 100000"; 1000000 works),
# POOL (DATABASE_MAX_CONNECTIONS of the service, 10), DURATION (10s), WARMUP (2s of the same load before each measured run,
# discarded; 0 to skip), CONNECTIONS (32), THREADS (2), GATEWAY (true: add the "via
# gateway" rows when the gateway binary is built). Prints a Markdown table
# and the seed times; raw wrk output goes to bench/results/products-<time>/.
# To compare two builds, point TARGET_DIR at each in turn (a directory with
# release/products and release/examples/bench_seed) for the same backend and
# size, back to back.
#
# MODE=fixed (default) repeats one URL per scenario: with the list-page
# cache on, that measures the cache. MODE=diverse sends every request a
# different query from a seeded generator (`bench_queries` example, built
# with `cargo build --release -p products --example bench_queries`), in
# three mixes: browse, search, filtered + facets (see the example's
# header); QUERIES (30000) paths per mix, SEED (33) for the measured run
# and SEED+1 for the warm-up. MODE="fixed diverse" runs both.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}}
products_bin=$target/release/products
seed_bin=$target/release/examples/bench_seed
queries_bin=$target/release/examples/bench_queries
modes=${MODE:-fixed}
queries=${QUERIES:-30000}
seed=${SEED:-33}
gateway_bin=$target/release/gateway
sizes=${SIZES:-"1000 100000"}
duration=${DURATION:-10s}
warmup=${WARMUP:-2s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
products_port=18100
gateway_port=18180
results=$root/bench/results/products-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
work=$(mktemp -d)
pids=()

cleanup() {
    for pid in "${pids[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

for bin in "$products_bin" "$seed_bin"; do
    [ -x "$bin" ] || { echo "missing $bin: build it first (see the header of $0)" >&2; exit 1; }
done
case " $modes " in
    *" diverse "*) [ -x "$queries_bin" ] || { echo "missing $queries_bin: build it first (see the header of $0)" >&2; exit 1; } ;;
esac
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
use_gateway=false
[ -x "$gateway_bin" ] && [ "${GATEWAY:-true}" = true ] && use_gateway=true

wait_for() { # url (up to 2 minutes: the products service builds its search index before it listens)
    for _ in $(seq 1 1200); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "not ready: $1" >&2
    return 1
}

stop() { # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# CPU clock ticks used so far by a process and its waited-for children.
ticks_of() { # pid
    awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# CPU ticks of the PostgreSQL server (postmaster and backends), or empty.
pg_ticks() {
    [ -n "$pg_master" ] || return 0
    local total=0 pid
    for pid in $pg_master $(pgrep -P "$pg_master" 2>/dev/null); do
        total=$((total + $(ticks_of "$pid")))
    done
    echo "$total"
}

# Busy and total ticks of the whole machine.
machine_ticks() {
    awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat
}

# wrk's requests/s and the 50th/99th latency percentiles, as table cells.
# With a third argument (a mix), every request is a different query.
measure() { # name url [mix]
    local out=$results/$1.txt
    local script=() warm_script=()
    if [ -n "${3:-}" ]; then
        script=(-s "$here/diverse.lua" "$2" -- "$work/$3-measured.txt" "$threads")
        warm_script=(-s "$here/diverse.lua" "$2" -- "$work/$3-warmup.txt" "$threads")
    else
        script=("$2")
        warm_script=("$2")
    fi
    # Warm-up: connection pools, the database's buffers and plans, the
    # list-page cache; its figures are discarded. Diverse runs warm up on
    # other queries than they measure.
    [ "$warmup" != 0 ] && wrk -t"$threads" -c"$connections" -d"$warmup" "${warm_script[@]}" > /dev/null
    local svc0 pg0 busy0 all0 svc1 pg1 busy1 all1
    svc0=$(ticks_of "$products_pid")
    [ "$backend" = postgres ] && pg0=$(pg_ticks) || pg0=""
    read -r busy0 all0 < <(machine_ticks)
    wrk -t"$threads" -c"$connections" -d"$duration" --latency "${script[@]}" > "$out"
    svc1=$(ticks_of "$products_pid")
    [ "$backend" = postgres ] && pg1=$(pg_ticks) || pg1=""
    read -r busy1 all1 < <(machine_ticks)
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    errors=$(awk '/Non-2xx or 3xx responses/ {print $5}' "$out")
    local note=""
    grep -q 'some repeated' "$out" && note=" | some queries repeated"
    local requests hz cpu
    requests=$(awk '/requests in/ {print $1}' "$out")
    hz=$(getconf CLK_TCK)
    cpu=$(awk -v n="$requests" -v hz="$hz" -v s="$((svc1 - svc0))" -v p="${pg1:+$((pg1 - pg0))}" \
        -v b="$((busy1 - busy0))" -v a="$((all1 - all0))" 'BEGIN {
            ms = 1000 / hz / (n > 0 ? n : 1)
            out = sprintf("svc %.2f", s * ms)
            if (p != "") out = out sprintf(", pg %.2f", p * ms)
            idle = a > 0 ? 100 * (a - b) / a : 0
            printf "%s, all %.2f ms/req; idle %.0f %%", out, b * ms, idle
        }')
    echo "$rps | $p50 | $p99 | $cpu${errors:+ | non-2xx: $errors}$note"
}

case " $modes " in
    *" diverse "*)
        for mix in browse search facets; do
            "$queries_bin" "$mix" "$queries" "$seed" > "$work/$mix-measured.txt"
            "$queries_bin" "$mix" "$queries" "$((seed + 1))" > "$work/$mix-warmup.txt"
        done
        ;;
esac

echo "| backend | products | path | scenario | req/s | p50 | p99 | CPU per request |"
echo "|---|---|---|---|---|---|---|---|"

backends=""
for backend in ${BACKENDS:-sqlite postgres}; do
    case $backend in
        sqlite) backends="$backends sqlite" ;;
        postgres) [ -n "${PG_URL:-}" ] && backends="$backends postgres" ;;
        *) echo "BACKENDS: unknown backend $backend" >&2; exit 1 ;;
    esac
done
seed_times=$results/seed-times.txt

# The local PostgreSQL server's postmaster, for the "pg" CPU figure.
pg_master=""
if [ -n "${PG_URL:-}" ]; then
    pg_dir=$(psql -X -Atq "$PG_URL" -c "SHOW data_directory" 2>/dev/null || true)
    [ -n "$pg_dir" ] && [ -r "$pg_dir/postmaster.pid" ] && pg_master=$(head -n 1 "$pg_dir/postmaster.pid")
    [ -n "$pg_master" ] && [ -r "/proc/$pg_master/stat" ] || pg_master=""
fi

for backend in $backends; do
    for size in $sizes; do
        case $backend in
            sqlite) db_url="sqlite://$work/bench-$size.db" ;;
            postgres)
                name=bench_products_$size
                psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null 2>&1
                db_url="${PG_URL%/*}/$name"
                ;;
        esac
        seed_start=$(date +%s.%N)
        DATABASE_URL=$db_url "$seed_bin" "$size" >/dev/null
        seed_end=$(date +%s.%N)
        echo "$backend $size products: seeded in $(awk -v a="$seed_start" -v b="$seed_end" 'BEGIN {printf "%.1f", b - a}') s (migrations included)" >> "$seed_times"
        if [ "$backend" = postgres ]; then
            # What autovacuum does shortly after a bulk load: planner
            # statistics (the trigram indexes need them) and the visibility map.
            psql -q "$db_url" -c "VACUUM ANALYZE products" >/dev/null
        fi
        # One pass per list-cache size (empty: the service's default).
        for cache in ${CACHE_PASSES:-default}; do
            [ "$cache" = default ] && cache=""
            label=${cache:+, cache $cache}
            suffix=${cache:+-cache$cache}
            env DATABASE_URL="$db_url" LISTEN_ADDR=127.0.0.1:$products_port RUST_LOG=warn \
                DATABASE_MAX_CONNECTIONS=${POOL:-10} ${cache:+LIST_CACHE_ENTRIES=$cache} \
                "$products_bin" serve > "$results/products-$backend-$size$suffix.log" 2>&1 &
            products_pid=$!
            pids+=("$products_pid")
            start_at=$(date +%s.%N)
            wait_for "http://127.0.0.1:$products_port/ready"
            ready_at=$(date +%s.%N)
            echo "$backend $size products${label}: service ready in $(awk -v a="$start_at" -v b="$ready_at" 'BEGIN {printf "%.1f", b - a}') s (search index built), RSS $(awk '/^VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$products_pid/status")" >> "$seed_times"
            if $use_gateway; then
                PRODUCTS_UPSTREAM=http://127.0.0.1:$products_port RUST_LOG=warn \
                    "$gateway_bin" --config "$here/gateway.toml" > "$results/gateway-$backend-$size$suffix.log" 2>&1 &
                gateway_pid=$!
                pids+=("$gateway_pid")
                wait_for "http://127.0.0.1:$gateway_port/products/health"
            fi
            id=$((size / 2))
            # name|path (as the service serves it)
            # name|path (as the service serves it)|mix (diverse only)
            scenarios=()
            case " $modes " in
                *" fixed "*)
                    scenarios+=(
                        "list 20|/?per_page=20|"
                        "filtered list|/?category=Category%203&min_price=10&max_price=200&in_stock=true&sort=-price&per_page=20|"
                        "read by id|/$id|"
                        "search q|/?q=granite+kettle&per_page=20|"
                        "filtered + facets|/?category=Category%203&in_stock=true&facets=category,brand,price&per_page=20|"
                    )
                    ;;
            esac
            case " $modes " in
                *" diverse "*)
                    scenarios+=(
                        "diverse browse|/|browse"
                        "diverse search|/|search"
                        "diverse filtered + facets|/|facets"
                    )
                    ;;
            esac
            for entry in "${scenarios[@]}"; do
                scenario=${entry%%|*}
                rest=${entry#*|}
                path=${rest%%|*}
                mix=${rest#*|}
                slug=$(echo "$scenario" | tr ' +' '--')
                cells=$(measure "$backend-$size$suffix-direct-$slug" "http://127.0.0.1:$products_port$path" "$mix")
                echo "| $backend | $size | direct$label | $scenario | $cells |"
                if $use_gateway; then
                    cells=$(measure "$backend-$size$suffix-gateway-$slug" "http://127.0.0.1:$gateway_port/products$path" "$mix")
                    echo "| $backend | $size | via gateway$label | $scenario | $cells |"
                fi
            done
            $use_gateway && stop "$gateway_pid"
            stop "$products_pid"
        done
        if [ "$backend" = postgres ]; then
            psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS bench_products_$size" >/dev/null 2>&1
        fi
    done
done
echo
[ -f "$seed_times" ] && cat "$seed_times"
echo "raw wrk output: $results"
