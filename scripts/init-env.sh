#!/usr/bin/env bash
# First start in containers: writes the four env files docker-compose.yml
# reads, from their examples, with freshly generated secrets:
#
#   scripts/postgres/postgres.env   superuser + per-service database passwords
#   users/.env                      same users password, an Ed25519 signing
#                                   key, the first admin (password printed once)
#   products/.env                   same products password
#   gateway/.env                    the example as it is (no secrets)
#
# An existing file is never overwritten; passwords already in one of them
# are reused for the others, so the set stays consistent. Run it from
# anywhere:  scripts/init-env.sh   then:  docker compose up --build
#
# ADMIN_EMAIL (default admin@example.com) names the first admin. Needs
# openssl (1.1.1 or newer, for Ed25519).
set -euo pipefail
cd "$(dirname "$0")/.."

PG=scripts/postgres/postgres.env
USERS=users/.env
PRODUCTS=products/.env
GATEWAY=gateway/.env
admin_email="${ADMIN_EMAIL:-admin@example.com}"

command -v openssl >/dev/null || { echo "init-env: openssl is needed to generate the secrets" >&2; exit 1; }
umask 077

secret() { openssl rand -hex 24; }
# The value of KEY=... in an env file, if the file exists.
value_of() { [ -f "$1" ] && sed -n "s/^$2=//p" "$1" | tail -1 || true; }
# The password in a postgres://role:password@... DATABASE_URL, if the file exists.
url_password() { value_of "$1" DATABASE_URL | sed -n 's|^postgres://[^:]*:\([^@]*\)@.*|\1|p'; }
pick() { # first non-empty, non-placeholder argument, else a fresh secret
  local v
  for v in "$@"; do
    case "$v" in "" | change-me*) ;; *) echo "$v"; return ;; esac
  done
  secret
}

users_pw=$(pick "$(value_of "$PG" USERS_DB_PASSWORD)" "$(url_password "$USERS")")
products_pw=$(pick "$(value_of "$PG" PRODUCTS_DB_PASSWORD)" "$(url_password "$PRODUCTS")")

kept=()
written=()
write() { # file content: unless the file exists
  if [ -e "$1" ]; then
    kept+=("$1")
  else
    printf '%s\n' "$2" >"$1"
    written+=("$1")
  fi
}

write "$PG" "$(sed -e "s|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=$(secret)|" \
    -e "s|^USERS_DB_PASSWORD=.*|USERS_DB_PASSWORD=$users_pw|" \
    -e "s|^PRODUCTS_DB_PASSWORD=.*|PRODUCTS_DB_PASSWORD=$products_pw|" \
    "$PG.example")"

admin_password=""
if [ ! -e "$USERS" ]; then
  admin_password="$(openssl rand -base64 18 | tr -d '/+=\n')"
  # Env files cannot hold multi-line values: the PEM goes on one line with
  # literal \n (the users service reads both forms). printf, not sed, so the
  # \n stay literal.
  signing_key=$(openssl genpkey -algorithm ed25519 | awk '{printf "%s\\n", $0}')
  write "$USERS" "$(
    sed -e "s|change-me-users|$users_pw|" \
        -e "/^JWT_SIGNING_KEY=/d" \
        -e "s|^ADMIN_EMAIL=.*|ADMIN_EMAIL=$admin_email|" \
        -e "s|^ADMIN_PASSWORD=.*|ADMIN_PASSWORD=$admin_password|" \
        "$USERS.example"
    printf 'JWT_SIGNING_KEY=%s' "$signing_key"
  )"
else
  write "$USERS" ""
fi

write "$PRODUCTS" "$(sed -e "s|change-me-products|$products_pw|" "$PRODUCTS.example")"
write "$GATEWAY" "$(cat "$GATEWAY.example")"

for f in ${written[@]+"${written[@]}"}; do echo "init-env: wrote $f"; done
for f in ${kept[@]+"${kept[@]}"}; do echo "init-env: kept $f (exists; not overwritten)"; done
if [ -n "$admin_password" ]; then
  echo "init-env: first admin $admin_email, password: $admin_password"
  echo "init-env: (shown once; it is in $USERS until you remove ADMIN_PASSWORD after the first start)"
fi
echo "init-env: next: docker compose up --build   (or: docker-compose up --build)"
