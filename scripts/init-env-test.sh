#!/usr/bin/env bash
# Tests of scripts/init-env.sh, each in a scratch copy of the files it reads
# (the repository's own .env files are never touched). Run by .ci/run:
#   bash scripts/init-env-test.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

fail() { echo "init-env-test: FAIL: $*" >&2; exit 1; }
value() { sed -n "s/^$2=//p" "$1"; }
url_password() { value "$1" DATABASE_URL | sed -n 's|^postgres://[^:]*:\([^@]*\)@.*|\1|p'; }

fresh() { # a scratch tree holding the script and the four examples
  local dir="$scratch/$1"
  mkdir -p "$dir/scripts/postgres" "$dir/users" "$dir/products" "$dir/gateway"
  cp "$repo/scripts/init-env.sh" "$dir/scripts/"
  for f in scripts/postgres/postgres.env.example users/.env.example products/.env.example gateway/.env.example; do
    cp "$repo/$f" "$dir/$f"
  done
  echo "$dir"
}

# 1. A first run writes all four files, consistent, with real secrets.
d=$(fresh first)
out=$(ADMIN_EMAIL=boss@example.com bash "$d/scripts/init-env.sh")
for f in scripts/postgres/postgres.env users/.env products/.env gateway/.env; do
  [ -f "$d/$f" ] || fail "$f not written"
  [ "$(stat -c %a "$d/$f")" = 600 ] || fail "$f is not mode 600"
  ! grep -Eq '^[A-Z_]+=.*change-me' "$d/$f" || fail "$f still holds a change-me placeholder"
done
[ "$(value "$d/scripts/postgres/postgres.env" USERS_DB_PASSWORD)" = "$(url_password "$d/users/.env")" ] || fail "users password differs"
[ "$(value "$d/scripts/postgres/postgres.env" PRODUCTS_DB_PASSWORD)" = "$(url_password "$d/products/.env")" ] || fail "products password differs"
[ "$(value "$d/users/.env" ADMIN_EMAIL)" = boss@example.com ] || fail "ADMIN_EMAIL not taken from the environment"
admin_pw=$(value "$d/users/.env" ADMIN_PASSWORD)
[ "${#admin_pw}" -ge 16 ] || fail "admin password too short: $admin_pw"
grep -q "password: $admin_pw" <<<"$out" || fail "the admin password was not printed"
key=$(value "$d/users/.env" JWT_SIGNING_KEY)
printf '%b' "$key" | openssl pkey -noout 2>/dev/null || fail "JWT_SIGNING_KEY is not a private key"
printf '%b' "$key" | openssl pkey -text -noout | grep -q ED25519 || fail "JWT_SIGNING_KEY is not Ed25519"
[ "$(grep -c '^JWT_SIGNING_KEY=' "$d/users/.env")" = 1 ] || fail "JWT_SIGNING_KEY is not one line"

# 2. A second run overwrites nothing and prints no password.
before=$(cat "$d"/users/.env "$d"/products/.env "$d"/scripts/postgres/postgres.env "$d"/gateway/.env | sha256sum)
out=$(bash "$d/scripts/init-env.sh")
after=$(cat "$d"/users/.env "$d"/products/.env "$d"/scripts/postgres/postgres.env "$d"/gateway/.env | sha256sum)
[ "$before" = "$after" ] || fail "a second run changed a file"
[ "$(grep -c 'kept' <<<"$out")" = 4 ] || fail "a second run did not report four kept files"
! grep -q 'password:' <<<"$out" || fail "a second run printed a password"

# 3. Passwords already in one file are reused in the files still missing.
rm "$d/users/.env" "$d/scripts/postgres/postgres.env"
bash "$d/scripts/init-env.sh" >/dev/null
[ "$(value "$d/scripts/postgres/postgres.env" USERS_DB_PASSWORD)" = "$(url_password "$d/users/.env")" ] || fail "users password not consistent after a partial rewrite"
[ "$(value "$d/scripts/postgres/postgres.env" PRODUCTS_DB_PASSWORD)" = "$(url_password "$d/products/.env")" ] || fail "products password not reused from products/.env"

# 4. Without openssl it refuses, writing nothing.
d=$(fresh no-openssl)
mkdir "$scratch/bin"
for tool in bash sed cat dirname tail tr; do ln -s "$(command -v "$tool")" "$scratch/bin/$tool"; done
if err=$(PATH="$scratch/bin" bash "$d/scripts/init-env.sh" 2>&1); then fail "ran without openssl"; fi
grep -q 'openssl is needed' <<<"$err" || fail "unexpected refusal: $err"
[ ! -e "$d/users/.env" ] || fail "wrote a file without openssl"

echo "init-env-test: PASS (4 cases)"
