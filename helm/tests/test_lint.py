"""`helm lint --strict` (Helm's Go SDK) finds nothing to complain about."""

import helm_python as helm
import pytest

from conftest import CHART_DIR, VALUE_SETS, load_value_set

WARNING = 2


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_lint_reports_no_errors_or_warnings(value_set):
    report = helm.lint(str(CHART_DIR), values=load_value_set(value_set), strict=True)
    problems = [m for m in report["messages"] if m["severity"] >= WARNING]
    assert report["errors"] == [], report["errors"]
    assert problems == [], problems
    assert report["total_charts_linted"] == 1
