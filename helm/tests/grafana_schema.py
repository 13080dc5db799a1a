"""Offline validation of the shipped Grafana dashboards against Grafana's
dashboard schema, as generated into grafana-foundation-sdk's models (panel
options per panel type included).

The models skip fields they do not know, so strictness comes from a round
trip: a valid dashboard encodes back with every field it had; a misspelt
field, or an option the panel type does not have, is missing.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard

from prometheus_operator import _dropped

# The panel types' own models (timeseries, stat, state-timeline, ...):
# without them panel options stay plain dictionaries and are not checked.
plugins.register_default_plugins()


def problems(board: dict[str, Any]) -> list[str]:
    """Paths of fields Grafana's schema does not know (empty: valid)."""
    decoded = dashboard.Dashboard.from_json(board)
    return _dropped(board, json.loads(json.dumps(decoded, cls=JSONEncoder)))
