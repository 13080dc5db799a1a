#!/usr/bin/env bash
# Build, from Debian packages, local stand-ins for the public base images our
# Dockerfiles and docker-compose.yml use, for machines whose Docker engine
# cannot pull from a registry. Users with a registry never need this.
#
#   debian:bookworm-slim      minimal Debian 12 (debootstrap --variant=minbase)
#   rust:1.95-bookworm        the above + gcc, make + this machine's Rust toolchain
#                             (RUSTUP_HOME/CARGO_HOME/PATH as in the official image)
#   postgres:15-bookworm      the above + PostgreSQL 15 + an entrypoint honouring
#                             the official image's POSTGRES_* variables and
#                             /docker-entrypoint-initdb.d
#   prom/prometheus:<tag of docker-compose.yml>
#                             the base + Debian's `prometheus` package: the
#                             binary as entrypoint, promtool beside it, user
#                             nobody and /prometheus as in the official image
#                             (the compose monitoring profile; there is no
#                             Debian package of Grafana, so no stand-in)
#
# Needs root, debootstrap (installed if missing) and the Debian mirror.
# Images that already exist are kept unless FORCE=1.
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
RUST_TAG="${RUST_IMAGE:-rust:1.95-bookworm}"
DEBIAN_TAG="debian:bookworm-slim"
PG_TAG="postgres:15-bookworm"
# The tag the compose file uses, so that the two never disagree.
PROM_TAG="${PROMETHEUS_IMAGE:-$(sed -n 's/^ *image: *\(prom\/prometheus:[^ ]*\) *$/\1/p' "$(dirname "$0")/../docker-compose.yml" | head -1)}"
WORK="${WORK_DIR:-/var/tmp/shop-base-images}"
here="$(cd "$(dirname "$0")" && pwd)"

have_image() { [ "${FORCE:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
log() { printf '[base-images] %s\n' "$*" >&2; }

command -v debootstrap >/dev/null || {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq debootstrap
}
mkdir -p "$WORK"

rootfs_base() {
  local dir="$WORK/base"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    log "debootstrap $SUITE (minbase) into $dir"
    debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$dir" "$MIRROR" >&2
    # Keep images small: no docs, man pages or apt lists.
    chroot "$dir" apt-get clean
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
    touch "$dir/.complete"
  fi
  echo "$dir"
}

import_dir() { # dir tag [--change ...]
  local dir="$1" tag="$2"; shift 2
  tar --exclude=./.complete --numeric-owner -C "$dir" -c . | docker import "$@" - "$tag" >/dev/null
  log "imported $tag"
}

clone_base() { # name -> a fresh copy of the base rootfs
  local base dest="$WORK/$1"
  base="$(rootfs_base)"
  rm -rf "$dest"
  cp -a "$base" "$dest"
  rm -f "$dest/.complete"
  echo "$dest"
}

chroot_apt() { # dir packages...
  local dir="$1"; shift
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mount -t proc proc "$dir/proc"
  trap 'umount "$dir/proc" 2>/dev/null || true' RETURN
  chroot "$dir" bash -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends $* && apt-get clean && rm -rf /var/lib/apt/lists/*" >&2
}

if ! have_image "$DEBIAN_TAG"; then
  import_dir "$(rootfs_base)" "$DEBIAN_TAG" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]'
fi

# This machine may reach crates.io through a TLS-intercepting proxy whose CA
# is in the host's trust store; the builder stand-in trusts what the host
# trusts, so `cargo build` inside `docker build` can fetch crates.
ca_sum="$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum | cut -c1-16)"
rust_ok() {
  have_image "$RUST_TAG" &&
    [ "$(docker image inspect -f '{{ index .Config.Labels "shop.host-ca" }}' "$RUST_TAG" 2>/dev/null)" = "$ca_sum" ]
}

if ! rust_ok; then
  dir="$(clone_base rust)"
  chroot_apt "$dir" gcc libc6-dev make pkg-config
  if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    chroot "$dir" update-ca-certificates >&2
  fi
  sysroot="$(rustc --print sysroot)"
  log "copying the Rust toolchain from $sysroot"
  mkdir -p "$dir/usr/local/rustup/toolchains/local" "$dir/usr/local/cargo/bin"
  tar -C "$sysroot" --exclude=./share/doc -c . | tar -C "$dir/usr/local/rustup/toolchains/local" -x
  for bin in cargo rustc rustdoc cargo-clippy clippy-driver rustfmt cargo-fmt; do
    [ -e "$sysroot/bin/$bin" ] && ln -sf "/usr/local/rustup/toolchains/local/bin/$bin" "$dir/usr/local/cargo/bin/$bin"
  done
  import_dir "$dir" "$RUST_TAG" \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL shop.host-ca=$ca_sum" \
    --change 'CMD ["bash"]'
  rm -rf "$dir"
fi

if ! have_image "$PG_TAG"; then
  dir="$(clone_base postgres)"
  chroot_apt "$dir" postgresql-15 postgresql-client-15
  install -m 0755 "$here/postgres-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$dir/docker-entrypoint-initdb.d" "$dir/var/lib/postgresql/data" "$dir/var/run/postgresql"
  chroot "$dir" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
  import_dir "$dir" "$PG_TAG" \
    --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'VOLUME /var/lib/postgresql/data' \
    --change 'EXPOSE 5432' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]'
  rm -rf "$dir"
fi

if [ -n "$PROM_TAG" ] && ! have_image "$PROM_TAG"; then
  dir="$(clone_base prometheus)"
  # No service start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d" && chmod 755 "$dir/usr/sbin/policy-rc.d"
  chroot_apt "$dir" prometheus
  rm -f "$dir/usr/sbin/policy-rc.d"
  # The official image's layout: binaries in /bin, data in /prometheus
  # owned by nobody, the default configuration in /etc/prometheus.
  ln -sf /usr/bin/prometheus "$dir/usr/local/bin/prometheus"
  ln -sf /usr/bin/promtool "$dir/usr/local/bin/promtool"
  mkdir -p "$dir/prometheus"
  chroot "$dir" chown -R nobody:nogroup /prometheus
  import_dir "$dir" "$PROM_TAG" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'USER nobody' \
    --change 'WORKDIR /prometheus' \
    --change 'VOLUME /prometheus' \
    --change 'EXPOSE 9090' \
    --change 'ENTRYPOINT ["/usr/bin/prometheus"]' \
    --change 'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
  rm -rf "$dir"
fi

docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^(debian|rust|postgres|prom/prometheus):" >&2
