"""Monitoring: the metrics ports, the ServiceMonitors/PodMonitor, the
PrometheusRule and the dashboard ConfigMaps, each behind its switch."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from conftest import REPO_ROOT, RELEASE

RULES_DIR = REPO_ROOT / "monitoring/prometheus/rules"
DASHBOARDS_DIR = REPO_ROOT / "monitoring/grafana/dashboards"
OPERATOR_KINDS = ("ServiceMonitor", "PodMonitor", "PrometheusRule")
ALL_ON = {"monitoring": {"serviceMonitors": {"enabled": True}, "prometheusRule": {"enabled": True},
                         "dashboards": {"enabled": True}}}


def _dashboards(rel):
    return [o for o in rel.of_kind("ConfigMap") if o["_template"].endswith("monitoring/dashboards.yaml")]


def _port(ports, name):
    return next((p for p in ports if p["name"] == name), None)


def test_everything_is_off_by_default(default_release):
    for kind in OPERATOR_KINDS:
        assert default_release.of_kind(kind) == [], kind
    assert _dashboards(default_release) == []
    assert "Monitoring:" not in default_release.notes
    assert "Users and products metrics: port 9464 (/metrics)" in default_release.notes


def test_the_notes_say_what_monitoring_rendered(render_with):
    notes = render_with(ALL_ON).notes
    assert "ServiceMonitors and a PodMonitor (jobs gateway, users, products)" in notes
    assert "PrometheusRule shop-monitoring" in notes
    assert 'dashboard ConfigMaps labelled grafana_dashboard="1"' in notes


def test_services_listen_for_metrics_on_a_named_port_of_pod_and_service(default_release):
    for component in ("users", "products"):
        assert default_release.config_env(component)["METRICS_LISTEN_ADDR"] == "0.0.0.0:9464"
        container = default_release.deployment(component)["spec"]["template"]["spec"]["containers"][0]
        assert _port(container["ports"], "metrics")["containerPort"] == 9464
        service = default_release.get("Service", f"{RELEASE}-{component}")
        assert _port(service["spec"]["ports"], "metrics") == {
            "name": "metrics", "port": 9464, "targetPort": "metrics", "protocol": "TCP"}


def test_the_gateway_admin_port_stays_off_every_service(render_with):
    rel = render_with(ALL_ON)
    for service in rel.of_kind("Service"):
        assert _port(service["spec"]["ports"], "admin") is None, service["metadata"]["name"]
        assert all(p["port"] != 9000 for p in service["spec"]["ports"]), service["metadata"]["name"]


def test_the_metrics_port_is_configurable(render_with):
    rel = render_with({"monitoring": {"servicesMetricsPort": 9100, "serviceMonitors": {"enabled": True}}})
    assert rel.config_env("products")["METRICS_LISTEN_ADDR"] == "0.0.0.0:9100"
    assert _port(rel.get("Service", f"{RELEASE}-products")["spec"]["ports"], "metrics")["port"] == 9100
    pod = rel.deployment("products")["spec"]["template"]["metadata"]["annotations"]
    assert pod["prometheus.io/port"] == "9100"


def test_service_pods_carry_scrape_annotations_unless_switched_off(default_release, render_with):
    for component in ("users", "products"):
        pod = default_release.deployment(component)["spec"]["template"]["metadata"]["annotations"]
        assert (pod["prometheus.io/scrape"], pod["prometheus.io/port"], pod["prometheus.io/path"]) == (
            "true", "9464", "/metrics")
    off = render_with({"monitoring": {"podAnnotations": False}})
    for component in ("users", "products"):
        pod = off.deployment(component)["spec"]["template"]["metadata"]["annotations"]
        assert not any(key.startswith("prometheus.io/") for key in pod), component


def test_metrics_listen_addr_is_refused_in_a_service_config(render_with):
    with pytest.raises(Exception, match="users.config.METRICS_LISTEN_ADDR is set by the chart"):
        render_with({"users": {"config": {"METRICS_LISTEN_ADDR": "0.0.0.0:1"}}})


def test_monitors_scrape_every_component_with_its_job_name(render_with):
    rel = render_with({"monitoring": {"serviceMonitors": {"enabled": True, "interval": "20s",
                                                          "scrapeTimeout": "5s", "labels": {"release": "kps"}}}})
    assert rel.of_kind("PrometheusRule") == [] and _dashboards(rel) == []
    for component in ("users", "products"):
        monitor = rel.get("ServiceMonitor", f"{RELEASE}-{component}")
        spec = monitor["spec"]
        assert monitor["metadata"]["labels"]["release"] == "kps"
        assert spec["jobLabel"] == "app.kubernetes.io/component"
        assert spec["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "20s", "scrapeTimeout": "5s"}]
        # The Services it selects carry the job label's value and the port.
        selected = [s for s in rel.of_kind("Service")
                    if spec["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
        assert selected and all(s["metadata"]["labels"][spec["jobLabel"]] == component for s in selected)
        assert any(_port(s["spec"]["ports"], "metrics") for s in selected)
    gateway = rel.get("PodMonitor", f"{RELEASE}-gateway")["spec"]
    pod = rel.deployment("gateway")["spec"]["template"]
    assert gateway["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert pod["metadata"]["labels"][gateway["jobLabel"]] == "gateway"
    assert gateway["podMetricsEndpoints"][0]["port"] == "admin"
    assert _port(pod["spec"]["containers"][0]["ports"], "admin")


def _rule_groups():
    groups = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        groups += yaml.safe_load(path.read_text())["groups"]
    return groups


def test_the_prometheus_rule_carries_every_shipped_rule_group(render_with):
    rel = render_with({"monitoring": {"prometheusRule": {"enabled": True, "labels": {"role": "alert-rules"}}}})
    assert rel.of_kind("ServiceMonitor") == [] and _dashboards(rel) == []
    (rule,) = rel.of_kind("PrometheusRule")
    assert rule["metadata"]["labels"]["role"] == "alert-rules"
    assert rule["spec"]["groups"] == _rule_groups()
    assert sum(1 for g in _rule_groups() for r in g["rules"] if "alert" in r) >= 8


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
def test_promtool_accepts_the_rendered_rule_groups(render_with, tmp_path):
    (rule,) = render_with(ALL_ON).of_kind("PrometheusRule")
    path = tmp_path / "rendered.yml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboards_are_configmaps_for_grafanas_sidecar(render_with):
    rel = render_with({"monitoring": {"dashboards": {"enabled": True, "annotations": {"grafana_folder": "Shop"}}}})
    assert rel.of_kind("ServiceMonitor") == [] and rel.of_kind("PrometheusRule") == []
    maps = {m["metadata"]["name"]: m for m in _dashboards(rel)}
    shipped = sorted(DASHBOARDS_DIR.glob("*.json"))
    assert sorted(maps) == [f"{RELEASE}-dashboard-{p.stem}" for p in shipped]
    for path in shipped:
        cm = maps[f"{RELEASE}-dashboard-{path.stem}"]
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["annotations"] == {"grafana_folder": "Shop"}
        assert json.loads(cm["data"][path.name]) == json.loads(path.read_text())


def test_the_sidecar_label_is_configurable(render_with):
    rel = render_with({"monitoring": {"dashboards": {"enabled": True, "sidecarLabel": "example.com/dashboard",
                                                     "sidecarLabelValue": "shop", "labels": {"team": "web"}}}})
    for cm in _dashboards(rel):
        labels = cm["metadata"]["labels"]
        assert labels["example.com/dashboard"] == "shop" and labels["team"] == "web"
        assert "grafana_dashboard" not in labels


def test_network_policies_let_the_scraper_reach_every_metrics_port(render_with):
    scraper = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    rel = render_with({"networkPolicy": {"enabled": True, "metricsFrom": scraper}})
    for component, port in (("gateway", "admin"), ("users", "metrics"), ("products", "metrics")):
        rules = rel.get("NetworkPolicy", f"{RELEASE}-{component}")["spec"]["ingress"]
        assert {"ports": [{"port": port, "protocol": "TCP"}], "from": scraper} in rules, component
    # Without metricsFrom no rule opens the metrics port.
    closed = render_with({"networkPolicy": {"enabled": True}})
    for component in ("users", "products"):
        rules = closed.get("NetworkPolicy", f"{RELEASE}-{component}")["spec"]["ingress"]
        assert all(p["port"] != "metrics" for r in rules for p in r["ports"]), component


def _refusal(chart, values) -> str:
    import helm_python as helm

    with pytest.raises(helm.HelmValuesError) as refused:
        chart.validate_schema(values)
    return str(refused.value)


def test_the_schema_refuses_bad_monitoring_values(chart):
    assert "at '/monitoring/serviceMonitors/interval'" in _refusal(
        chart, {"monitoring": {"serviceMonitors": {"interval": "30"}}})
    assert "at '/monitoring/dashboards': additional properties 'label' not allowed" in _refusal(
        chart, {"monitoring": {"dashboards": {"label": "grafana_dashboard"}}})
    assert "at '/monitoring/dashboards/sidecarLabelValue': got number, want string" in _refusal(
        chart, {"monitoring": {"dashboards": {"sidecarLabelValue": 1}}})
    assert "at '/monitoring/dashboards/sidecarLabel'" in _refusal(
        chart, {"monitoring": {"dashboards": {"sidecarLabel": "not a label"}}})
    assert "at '/monitoring/prometheusRule/enabled': got string, want boolean" in _refusal(
        chart, {"monitoring": {"prometheusRule": {"enabled": "yes"}}})
    assert "at '/monitoring/servicesMetricsPort'" in _refusal(chart, {"monitoring": {"servicesMetricsPort": 0}})


def test_the_operator_schemas_refuse_a_misspelt_or_mistyped_field(render_with):
    import copy

    import prometheus_operator

    rel = render_with(ALL_ON)
    monitor = rel.get("ServiceMonitor", f"{RELEASE}-users")
    clean = {k: v for k, v in monitor.items() if k != "_template"}
    assert prometheus_operator.problem(clean) is None
    misspelt = copy.deepcopy(clean)
    misspelt["spec"]["endpoints"][0]["intervall"] = "30s"
    assert "unknown fields ['/spec/endpoints/0/intervall']" in prometheus_operator.problem(misspelt)
    mistyped = copy.deepcopy(clean)
    mistyped["spec"]["endpoints"][0]["port"] = 9464
    assert "spec.endpoints.0.port" in prometheus_operator.problem(mistyped)
    (rule,) = rel.of_kind("PrometheusRule")
    bad_rule = {k: v for k, v in copy.deepcopy(rule).items() if k != "_template"}
    bad_rule["spec"]["groups"][0]["rules"][0]["severity"] = "critical"
    assert "unknown fields" in prometheus_operator.problem(bad_rule)


def test_every_dashboard_fits_grafanas_dashboard_schema():
    import grafana_schema

    shipped = sorted(DASHBOARDS_DIR.glob("*.json"))
    assert len(shipped) == 3
    for path in shipped:
        board = json.loads(path.read_text())
        assert grafana_schema.problems(board) == [], path.name
        assert board["uid"] == f"shop-{path.stem}"
        assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, (path.name, panel["title"])
            for target in panel.get("targets", []):
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_the_dashboard_schema_check_finds_a_misspelt_field_and_a_foreign_option():
    import copy

    import grafana_schema

    board = json.loads((DASHBOARDS_DIR / "gateway.json").read_text())
    bad = copy.deepcopy(board)
    bad["panels"][1]["gridPoss"] = bad["panels"][1]["gridPos"]
    stat = next(i for i, p in enumerate(bad["panels"]) if p["type"] == "stat")
    bad["panels"][stat]["options"]["legend"] = {"showLegend": True}
    assert grafana_schema.problems(bad) == ["/panels/1/gridPoss", f"/panels/{stat}/options/legend"]
