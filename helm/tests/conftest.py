"""Shared fixtures: the chart, the value sets it is proven with, and rendering.

Rendering uses Helm's own Go SDK (helm-python-sdk), so templates, values
coalescing and values.schema.json behave exactly as in `helm install`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import helm_python as helm
import pytest
import yaml

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent.parent
CHART_DIR = TESTS_DIR.parent / "shop"
VALUES_DIR = TESTS_DIR / "values"

RELEASE = "shop"
NAMESPACE = "shop"


def load_value_set(name: str) -> dict[str, Any]:
    """A value set from helm/tests/values/<name>.yaml ("defaults" is the chart's own)."""
    if name == "defaults":
        return {}
    return yaml.safe_load((VALUES_DIR / f"{name}.yaml").read_text()) or {}


VALUE_SETS = ["defaults"] + sorted(p.stem for p in VALUES_DIR.glob("*.yaml"))


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`, recursively (like several -f files)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Release:
    """A rendered release: its manifests by template, parsed, plus NOTES.txt."""

    values: dict[str, Any]
    merged_values: dict[str, Any]
    files: dict[str, str]
    objects: list[dict[str, Any]]
    notes: str

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        for o in self.objects:
            if o["kind"] == kind and o["metadata"]["name"] == name:
                return o
        raise AssertionError(f"no {kind} named {name} in the release")

    def has(self, kind: str, name: str) -> bool:
        return any(o["kind"] == kind and o["metadata"]["name"] == name for o in self.objects)

    def workloads(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] in ("Deployment", "StatefulSet")]

    def deployment(self, component: str) -> dict[str, Any]:
        return self.get("Deployment", f"{RELEASE}-{component}")

    def config_env(self, component: str) -> dict[str, str]:
        return self.get("ConfigMap", f"{RELEASE}-{component}-env")["data"]

    def route_table(self) -> str:
        return self.get("ConfigMap", f"{RELEASE}-gateway-routes")["data"]["gateway.toml"]


@functools.lru_cache(maxsize=None)
def _chart() -> helm.Chart:
    return helm.Chart.load(str(CHART_DIR))


@pytest.fixture(scope="session")
def chart() -> helm.Chart:
    return _chart()


def render(values: dict[str, Any] | None = None) -> Release:
    """Render the chart as `helm install shop helm/shop -n shop` would."""
    values = values or {}
    files = _chart().render(values=values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[dict[str, Any]] = []
    notes = ""
    for path, text in sorted(files.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("metadata", {}).setdefault("annotations", {})
                doc["_template"] = path
                objects.append(doc)
    return Release(values, _chart().merge_values(values), files, objects, notes)


@functools.lru_cache(maxsize=None)
def _render_set(name: str) -> Release:
    return render(load_value_set(name))


@pytest.fixture(params=VALUE_SETS)
def release(request: pytest.FixtureRequest) -> Release:
    """The chart rendered with each value set in turn."""
    return _render_set(request.param)


@pytest.fixture(scope="session")
def default_release() -> Release:
    return _render_set("defaults")


@pytest.fixture(scope="session")
def render_with():
    """Render with the given values (on top of the chart's defaults)."""
    return render


def manifest(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as Kubernetes receives it (without our bookkeeping)."""
    clean = {k: v for k, v in obj.items() if k != "_template"}
    if not clean["metadata"].get("annotations"):
        clean["metadata"] = {k: v for k, v in clean["metadata"].items() if k != "annotations"}
    return clean


def pod_specs(rel: Release) -> Iterator[tuple[str, dict[str, Any]]]:
    for w in rel.workloads():
        yield w["metadata"]["name"], w["spec"]["template"]["spec"]


def containers(rel: Release) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every container (and init container) of every workload, named "<workload>/<container>"."""
    for name, spec in pod_specs(rel):
        for c in spec.get("initContainers", []) + spec["containers"]:
            yield f"{name}/{c['name']}", c


def gateway_bin() -> Path:
    """The gateway binary `gateway check` runs from (GATEWAY_BIN, default target/debug/gateway)."""
    path = Path(os.environ.get("GATEWAY_BIN", "target/debug/gateway"))
    return path if path.is_absolute() else REPO_ROOT / path


# A test that did not run must not pass for one that did: under CI=true
# (where every tool a test needs is installed) a skipped test fails the run.
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") == "true" and _skipped:
        print(f"\nhelm/tests: CI=true but {len(_skipped)} test(s) were skipped:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = 1
