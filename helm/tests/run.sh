#!/usr/bin/env bash
# Tests of the Helm chart helm/shop. Run from anywhere; CI runs it from the
# repository root:  bash helm/tests/run.sh
#
# Creates (once) a virtualenv under ${TMPDIR:-/tmp} with the pinned packages of
# requirements.txt, then runs pytest: helm lint, renders with every value set
# in values/, Kubernetes schema validation (strict, offline), the chart's
# policies, values.schema.json refusals and, when the gateway binary exists
# (GATEWAY_BIN, default target/debug/gateway), `gateway check` of the route
# table. Exits non-zero on any failure. Extra arguments go to pytest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
if [ -z "$python" ]; then
  echo "helm/tests: Python 3.11 or newer is required (tomllib)" >&2
  exit 1
fi

# One virtualenv per set of requirements: a changed pin makes a new one.
stamp="$( (cat "$here/requirements.txt"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-12)"
venv="${TMPDIR:-/tmp}/shop-helm-tests-$stamp"
if [ ! -f "$venv/.installed" ]; then
  echo "helm/tests: creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$here/requirements.txt"
  touch "$venv/.installed"
fi

gateway_bin="${GATEWAY_BIN:-target/debug/gateway}"
case "$gateway_bin" in /*) ;; *) gateway_bin="$repo/$gateway_bin" ;; esac
if [ ! -x "$gateway_bin" ]; then
  echo "helm/tests: NOTE: no gateway binary at $gateway_bin: the 'gateway check' tests are skipped" \
       "(build it with cargo build -p gateway, or set GATEWAY_BIN)"
fi

"$venv/bin/python" -c 'import helm_python as h, kubernetes_validate.version as k; print("helm/tests: Helm SDK", h.helm_sdk_version(), "| helm-python-sdk", h.__version__, "| kubernetes-validate", k.__version__)'

# -p no:cacheprovider: leave no .pytest_cache in the chart's folder.
# -p no:cloudcoil: cloudcoil (the Prometheus Operator models' base) registers
# a pytest plugin for live clusters that these offline tests do not use.
exec "$venv/bin/python" -m pytest "$here" -p no:cacheprovider -p no:cloudcoil -rs -q "$@"
