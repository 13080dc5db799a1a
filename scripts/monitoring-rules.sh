#!/usr/bin/env bash
# Static checks of the Prometheus alert rules (monitoring/prometheus):
# `promtool check rules` on every rule file and the compose Prometheus
# configuration, `promtool test rules` on every unit test file, and every
# alert has a case in which it fires and one in which it stays silent.
# Needs promtool (Debian package `prometheus`) and python3 with PyYAML.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=monitoring/prometheus

promtool check rules "$dir"/rules/*.yml
promtool check config --syntax-only "$dir/prometheus.yml"
(cd "$dir" && promtool test rules tests/*.test.yml)
python3 scripts/monitoring/rule_coverage.py "$dir/rules" "$dir/tests"
