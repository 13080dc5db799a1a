#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the test suite and print the
# TEST_DATABASE_URL to use. Installs PostgreSQL from Debian packages when it
# is missing (needs root). Usage:
#   eval "$(scripts/test-postgres.sh start)"   # exports TEST_DATABASE_URL, PG_TEST_DIR
#   scripts/test-postgres.sh stop "$PG_TEST_DIR"
set -euo pipefail

find_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

install_postgres() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed and this is not root: apt-get install postgresql" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo 55433
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    bindir="$(find_bindir || true)"
    if [ -z "$bindir" ]; then install_postgres; bindir="$(find_bindir)"; fi
    dir="$(mktemp -d /tmp/shop-pg.XXXXXX)"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port="$(free_port)"
    as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off" \
      start >&2
    echo "export PG_TEST_DIR=$dir"
    echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir="${2:?usage: $0 stop DIR}"
    bindir="$(find_bindir)"
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
