#!/usr/bin/env bash
# The storefront runs as it is (no build step). This script only names the
# asset directory after its content and writes precompressed siblings, so
# the gateway can cache assets for a year and send .br/.gz as they are:
#
#   scripts/storefront-assets.sh          rename v-*/ to v-<hash of its files>, point
#                                 index.html at it, write every .gz and .br
#   scripts/storefront-assets.sh --check  change nothing; exit 1 naming what is stale
#
# Needs gzip and brotli (Debian packages gzip, brotli). Run it after editing
# anything under storefront/ and commit the result.
set -euo pipefail
cd "$(dirname "$0")/../storefront"
check=false
[ "${1:-}" = "--check" ] && check=true
fail() { echo "scripts/storefront-assets.sh: $*" >&2; exit 1; }
command -v gzip >/dev/null && command -v brotli >/dev/null || fail "needs gzip and brotli (apt-get install gzip brotli)"

dirs=(v-*/)
[ "${#dirs[@]}" -eq 1 ] && [ -d "${dirs[0]}" ] || fail "expected exactly one asset directory v-*/, found: ${dirs[*]}"
current="${dirs[0]%/}"
sources() { find "$1" -type f ! -name '*.gz' ! -name '*.br' | LC_ALL=C sort; }
hash="$(cd "$current" && sources . | xargs sha256sum | sha256sum | cut -c1-12)"
wanted="v-$hash"

if $check; then
  [ "$current" = "$wanted" ] || fail "$current/ changed since it was named: run scripts/storefront-assets.sh (wants $wanted/)"
else
  if [ "$current" != "$wanted" ]; then
    if git ls-files --error-unmatch "$current" >/dev/null 2>&1; then git mv "$current" "$wanted"; else mv "$current" "$wanted"; fi
  fi
  sed -i -E "s#/v-[A-Za-z0-9]+/#/$wanted/#g" index.html
fi
grep -q "/$wanted/app.js" index.html || fail "index.html does not load /$wanted/app.js"
if grep -oE '/v-[A-Za-z0-9]+/' index.html | grep -vq "/$wanted/"; then fail "index.html names another asset directory"; fi

stale=0
for file in index.html $(sources "$wanted"); do
  case "$file" in *.html|*.js|*.css|*.svg) ;; *) continue ;; esac
  if $check; then
    [ -f "$file.gz" ] && gzip -dc "$file.gz" | cmp -s - "$file" || { echo "stale: $file.gz" >&2; stale=1; }
    [ -f "$file.br" ] && brotli -dc "$file.br" | cmp -s - "$file" || { echo "stale: $file.br" >&2; stale=1; }
  else
    gzip -9 -n -c "$file" >"$file.gz"
    brotli -q 11 -f -o "$file.br" "$file"
  fi
done
# No sibling without its file.
for sibling in $(find . -name '*.gz' -o -name '*.br'); do
  [ -f "${sibling%.*}" ] || { echo "orphan: $sibling" >&2; stale=1; $check || rm -f "$sibling"; }
done
if $check && [ "$stale" -ne 0 ]; then fail "precompressed files are stale: run scripts/storefront-assets.sh"; fi
echo "storefront assets: $wanted ($(sources "$wanted" | wc -l) files, precompressed $($check && echo checked || echo written))"
