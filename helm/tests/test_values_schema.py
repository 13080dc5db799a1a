"""values.schema.json covers every value and refuses bad ones with a message
naming the key, as `helm install` would (Helm's Go SDK validates)."""

import json

import helm_python as helm
import pytest
import yaml

from conftest import CHART_DIR, VALUE_SETS, load_value_set


def _refusal(chart, values) -> str:
    with pytest.raises(helm.HelmValuesError) as refused:
        chart.validate_schema(values)
    return str(refused.value)


def _leaf_paths(value, prefix=()):
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _leaf_paths(child, prefix + (key,))
    else:
        yield prefix


def _declared(schema, definitions, path):
    node = schema
    for key in path:
        while "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[-1]]
        properties = node.get("properties", {})
        if key not in properties:
            return False
        node = properties[key]
    return True


def test_every_default_value_is_declared_in_the_schema():
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    undeclared = [".".join(p) for p in _leaf_paths(values) if not _declared(schema, schema["definitions"], p)]
    assert undeclared == []


def test_the_schema_refuses_unknown_keys_at_every_level_it_declares():
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    open_objects = []

    def walk(node, path):
        if "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
        if "properties" in node and node.get("additionalProperties", True) is not False:
            open_objects.append(path or "(top)")
        for key, child in node.get("properties", {}).items():
            walk(child, f"{path}.{key}".lstrip("."))

    walk(schema, "")
    assert open_objects == []


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_value_set_is_accepted(chart, value_set):
    chart.validate_schema(load_value_set(value_set))


def test_an_unknown_top_level_key_is_refused(chart):
    assert "additional properties 'replicas' not allowed" in _refusal(chart, {"replicas": 3})


def test_a_misspelt_nested_key_is_refused_naming_where(chart):
    message = _refusal(chart, {"users": {"existingSecrets": "users-secret"}})
    assert "at '/users': additional properties 'existingSecrets' not allowed" in message


def test_the_latest_tag_is_refused(chart):
    message = _refusal(chart, {"users": {"image": {"tag": "latest"}}})
    assert "at '/users/image/tag'" in message and "latest is not allowed" in message


def test_an_unknown_gateway_service_type_is_refused(chart):
    message = _refusal(chart, {"gateway": {"service": {"type": "Public"}}})
    assert "at '/gateway/service/type': value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'" in message


def test_a_duration_with_a_unit_is_refused_where_seconds_are_expected(chart):
    message = _refusal(chart, {"common": {"shutdownGraceSeconds": "20s"}})
    assert "at '/common/shutdownGraceSeconds': got string, want integer" in message


def test_an_environment_variable_name_must_be_upper_case(chart):
    message = _refusal(chart, {"users": {"config": {"access_token_ttl": "5m"}}})
    assert "at '/users/config': additional properties 'access_token_ttl' not allowed" in message


def test_an_upstream_url_must_be_plain_http(chart):
    message = _refusal(chart, {"gateway": {"upstreams": {"reviews": "https://reviews:8443"}}})
    assert "at '/gateway/upstreams/reviews'" in message


def test_a_drain_delay_over_a_minute_or_with_a_unit_is_refused(chart):
    message = _refusal(chart, {"common": {"shutdownDrainDelaySeconds": 61}})
    assert "/common/shutdownDrainDelaySeconds" in message and "maximum" in message
    message = _refusal(chart, {"common": {"shutdownDrainDelaySeconds": "5s"}})
    assert "at '/common/shutdownDrainDelaySeconds': got string, want integer" in message


def test_the_users_trust_acknowledgement_must_be_a_boolean(chart):
    message = _refusal(chart, {"users": {"trustProxiesWithoutNetworkPolicy": "yes"}})
    assert "at '/users/trustProxiesWithoutNetworkPolicy': got string, want boolean" in message


def test_a_database_password_that_would_break_the_url_is_refused(chart):
    message = _refusal(chart, {"postgresql": {"auth": {"usersPassword": "p@ss/word"}}})
    assert "at '/postgresql/auth/usersPassword'" in message and "does not match pattern" in message


def test_resources_need_both_cpu_and_memory(chart):
    # null removes a default, as with --set products.resources.limits.memory=null
    message = _refusal(chart, {"products": {"resources": {"limits": {"cpu": "1", "memory": None}}}})
    assert "at '/products/resources/limits': missing property 'memory'" in message


def test_replicas_must_be_at_least_one(chart):
    message = _refusal(chart, {"gateway": {"replicaCount": 0}})
    assert "at '/gateway/replicaCount': minimum: got 0, want 1" in message


def test_install_refuses_invalid_values_before_rendering(chart):
    with pytest.raises(helm.HelmValuesError, match="values don't meet the specifications of the schema"):
        chart.render(values={"gateway": {"service": {"type": "Public"}}}, name="shop")
