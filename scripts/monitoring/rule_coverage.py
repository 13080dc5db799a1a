"""Refuse an alert without a promtool unit test case in which it fires and
one in which it stays silent (monitoring/prometheus/tests/*.test.yml).

    python3 scripts/monitoring/rule_coverage.py RULES_DIR TESTS_DIR

Prints one line per alert and exits 1 when any alert misses a case, or a
test names an alert that no rule file defines.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def alerts_defined(rules_dir: Path) -> dict[str, str]:
    """Alert name -> the rule file defining it."""
    defined: dict[str, str] = {}
    for path in sorted(rules_dir.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    if rule["alert"] in defined:
                        raise SystemExit(f"alert {rule['alert']} defined twice ({defined[rule['alert']]}, {path.name})")
                    defined[rule["alert"]] = path.name
    return defined


def cases(tests_dir: Path) -> tuple[set[str], set[str]]:
    """Alerts with a firing case, alerts with a silent case."""
    firing: set[str] = set()
    silent: set[str] = set()
    for path in sorted(tests_dir.glob("*.test.yml")):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    return firing, silent


def main() -> int:
    rules_dir, tests_dir = Path(sys.argv[1]), Path(sys.argv[2])
    defined = alerts_defined(rules_dir)
    firing, silent = cases(tests_dir)
    failed = False
    for name, file in sorted(defined.items()):
        missing = [what for what, seen in (("firing", firing), ("silent", silent)) if name not in seen]
        print(f"  {name:36} {file:14} {'MISSING ' + ' and '.join(missing) + ' case' if missing else 'fires and stays silent'}")
        failed |= bool(missing)
    unknown = sorted((firing | silent) - set(defined))
    if unknown:
        print(f"tests name alerts no rule defines: {', '.join(unknown)}")
        failed = True
    if not defined:
        print("no alert found")
        failed = True
    print(f"{len(defined)} alerts, {len(defined) - sum(1 for n in defined if n not in firing or n not in silent)} with a firing and a silent case")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
