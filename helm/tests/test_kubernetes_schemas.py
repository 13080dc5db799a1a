"""Every rendered manifest is a valid Kubernetes object, checked offline
against the bundled schemas of kubernetes-validate in strict mode (unknown
fields are errors), for the newest Kubernetes it knows and the oldest the
chart supports (Chart.yaml kubeVersion). Prometheus Operator objects are
checked against the operator's CRD schemas (prometheus_operator.py)."""

import functools

import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import pytest

import prometheus_operator
from conftest import manifest

OLDEST_SUPPORTED = "1.25.0"
NEWEST = kubernetes_validate.utils.latest_version()

# The library reads the 1.8 MB definitions file on every call; read each once.
kv_utils.schema_contents = functools.lru_cache(maxsize=None)(kv_utils.schema_contents)


def _problem(obj, version):
    """None when valid, else where and what."""
    if prometheus_operator.is_operator_object(obj):
        return prometheus_operator.problem(obj)
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        path = "/".join(str(p) for p in e.path)
        return f"{obj['kind']}/{obj['metadata']['name']} at {path}: {e.message} (Kubernetes {version})"
    return None


@pytest.mark.parametrize("version", [NEWEST, OLDEST_SUPPORTED])
def test_every_manifest_validates_strictly(release, version):
    assert release.objects, "the release rendered no objects"
    problems = [p for p in (_problem(manifest(obj), version) for obj in release.objects) if p]
    assert problems == []


def test_newest_schemas_are_a_current_kubernetes():
    major, minor, *_ = (int(p) for p in NEWEST.split("."))
    assert (major, minor) >= (1, 34), NEWEST


def test_every_object_is_namespaced_to_the_release(release):
    for obj in release.objects:
        assert obj["metadata"].get("namespace") == "shop", f"{obj['kind']}/{obj['metadata']['name']}"
