"""Offline validation of the Prometheus Operator objects the chart renders
(ServiceMonitor, PodMonitor, PrometheusRule) against the operator's CRD
schemas, as packaged in cloudcoil-models-prometheus-operator.

The models ignore unknown fields, so strictness comes from a round trip: a
valid object dumps back to exactly what was rendered; a misspelt or unknown
field is missing from the dump.
"""

from __future__ import annotations

from typing import Any

import pydantic
from cloudcoil.models.prometheus_operator import v1

API_VERSION = "monitoring.coreos.com/v1"
MODELS = {"ServiceMonitor": v1.ServiceMonitor, "PodMonitor": v1.PodMonitor, "PrometheusRule": v1.PrometheusRule}


def is_operator_object(obj: dict[str, Any]) -> bool:
    return obj.get("apiVersion", "").startswith("monitoring.coreos.com/")


def _dropped(rendered: Any, dumped: Any, path: str = "") -> list[str]:
    """Paths present in the rendered object but not in the model's dump
    (also used for the dashboards, grafana_schema.py)."""
    if isinstance(rendered, dict):
        if not isinstance(dumped, dict):
            return [path or "/"]
        out = []
        for key, value in rendered.items():
            if key not in dumped:
                out.append(f"{path}/{key}")
            else:
                out.extend(_dropped(value, dumped[key], f"{path}/{key}"))
        return out
    if isinstance(rendered, list):
        if not isinstance(dumped, list) or len(dumped) != len(rendered):
            return [path]
        return [p for i, (r, d) in enumerate(zip(rendered, dumped)) for p in _dropped(r, d, f"{path}/{i}")]
    return []


def problem(obj: dict[str, Any]) -> str | None:
    """None when `obj` is a valid object of a known operator kind, else what is wrong."""
    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    if obj.get("apiVersion") != API_VERSION or obj.get("kind") not in MODELS:
        return f"{where}: not a {API_VERSION} ServiceMonitor, PodMonitor or PrometheusRule"
    try:
        model = MODELS[obj["kind"]].model_validate(obj)
    except pydantic.ValidationError as error:
        return f"{where}: {error}"
    dropped = _dropped(obj, model.model_dump(by_alias=True, exclude_unset=True, mode="json"))
    return f"{where}: unknown fields {dropped}" if dropped else None
