"""Day-2 defaults of the chart: `helm test`, pod spreading, disruption
budgets, the database connection budget, PostgreSQL passwords from an
existing Secret, extra env/volumes for every component, the bootstrap admin
and demo catalogue switches, and NOTES that keep values the source of truth."""

import helm_python as helm
import pytest

from conftest import RELEASE, load_value_set

APP = ("gateway", "users", "products")
SERVICES = ("users", "products")


def _pod(rel, component):
    if component == "postgresql":
        return rel.get("StatefulSet", f"{RELEASE}-postgresql")["spec"]["template"]["spec"]
    return rel.deployment(component)["spec"]["template"]["spec"]


# --- helm test ----------------------------------------------------------------


def test_the_helm_test_pod_calls_the_services_through_the_gateway_service(default_release):
    (pod,) = default_release.of_kind("Pod")
    annotations = pod["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    assert "hook-succeeded" in annotations["helm.sh/hook-delete-policy"]
    (c,) = pod["spec"]["containers"]
    script = c["args"][0]
    base = f"http://{RELEASE}-gateway.shop.svc:80"
    assert f'"{base}$path"' in script
    for path in ("/users/health", "/products/health", "/products/"):
        assert path in script
    assert pod["spec"]["restartPolicy"] == "Never"
    assert c["image"] == "busybox:1.36.1"


def test_the_helm_test_pod_is_locked_down_like_the_others(default_release):
    (pod,) = default_release.of_kind("Pod")
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["automountServiceAccountToken"] is False
    (c,) = pod["spec"]["containers"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert c["resources"]["limits"] and c["resources"]["requests"]


def test_the_helm_test_pod_can_be_switched_off(render_with):
    assert not render_with({"helmTest": {"enabled": False}}).of_kind("Pod")


def test_the_helm_test_image_must_be_pinned(chart):
    with pytest.raises(helm.HelmValuesError, match="helmTest"):
        chart.validate_schema({"helmTest": {"image": {"tag": "latest"}}})


# --- spreading and disruption budgets ---------------------------------------------


@pytest.mark.parametrize("component", APP)
def test_pods_prefer_other_nodes_and_spread_over_zones_by_default(default_release, component):
    spec = _pod(default_release, component)
    labels = default_release.deployment(component)["spec"]["selector"]["matchLabels"]
    (term,) = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"] == labels
    (spread,) = spec["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
    assert spread["labelSelector"]["matchLabels"] == labels


def test_a_components_own_affinity_replaces_the_default(render_with):
    rel = render_with(load_value_set("operations"))
    assert "nodeAffinity" in _pod(rel, "products")["affinity"]
    assert "podAntiAffinity" not in _pod(rel, "products")["affinity"]
    assert "podAntiAffinity" in _pod(rel, "users")["affinity"]


def test_pod_spread_none_renders_no_scheduling_defaults(render_with):
    rel = render_with({"common": {"podSpread": "none"}})
    for component in APP:
        assert "affinity" not in _pod(rel, component)
        assert "topologySpreadConstraints" not in _pod(rel, component)


def test_disruption_budgets_are_on_by_default_for_every_component_with_several_pods(default_release):
    for component in APP:
        pdb = default_release.get("PodDisruptionBudget", f"{RELEASE}-{component}")
        assert pdb["spec"]["minAvailable"] == 1


def test_a_single_pod_gets_no_disruption_budget_that_would_block_drains(render_with):
    rel = render_with({"users": {"replicaCount": 1}, "products": {"autoscaling": {"enabled": True, "minReplicas": 1}}})
    assert not rel.has("PodDisruptionBudget", f"{RELEASE}-users")
    assert not rel.has("PodDisruptionBudget", f"{RELEASE}-products")
    assert rel.has("PodDisruptionBudget", f"{RELEASE}-gateway")


# --- connection budget --------------------------------------------------------------


def _autoscaled(**extra):
    values = {s: {"autoscaling": {"enabled": True}} for s in SERVICES}
    for key, value in extra.items():
        values.setdefault(key, {}).update(value)
    return values


def test_notes_are_quiet_while_the_pools_fit(default_release):
    # (2 + 1) x 10 + (2 + 1) x 10 = 60 <= 100 - 3
    assert "WARNING" not in default_release.notes


def test_notes_warn_when_the_pools_at_the_autoscaling_maximum_exceed_max_connections(render_with):
    # (6 + 1) x 10 + (10 + 1) x 10 = 180 > 97
    notes = render_with(_autoscaled()).notes
    assert "WARNING" in notes
    assert "180 database connections" in notes and "more than the 97" in notes


def test_smaller_pools_or_more_connections_fit_again(render_with):
    small = {s: {"autoscaling": {"enabled": True}, "config": {"DATABASE_MAX_CONNECTIONS": "5"}} for s in SERVICES}
    assert "WARNING" not in render_with(small).notes  # 7 x 5 + 11 x 5 = 90
    assert "WARNING" not in render_with(_autoscaled(postgresql={"maxConnections": 200})).notes


def test_the_in_chart_server_gets_max_connections(render_with):
    rel = render_with({"postgresql": {"enabled": True, "maxConnections": 150}})
    (c,) = _pod(rel, "postgresql")["containers"]
    assert c["args"] == ["postgres", "-c", "max_connections=150"]


def test_max_connections_below_ten_is_refused(chart):
    with pytest.raises(helm.HelmValuesError, match="maxConnections"):
        chart.validate_schema({"postgresql": {"maxConnections": 5}})


# --- PostgreSQL passwords from an existing Secret ------------------------------------


def test_an_existing_postgresql_secret_replaces_every_generated_password(render_with):
    rel = render_with(load_value_set("operations"))
    assert not rel.has("Secret", f"{RELEASE}-postgresql")
    for s in SERVICES:
        assert not rel.has("Secret", f"{RELEASE}-{s}-database")
    (pg,) = _pod(rel, "postgresql")["containers"]
    assert pg["envFrom"] == [{"secretRef": {"name": "shop-postgresql-auth"}}]
    for s in SERVICES:
        (c,) = _pod(rel, s)["containers"]
        env = {v["name"]: v for v in c["env"]}
        assert env["SHOP_DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "shop-postgresql-auth", "key": f"{s.upper()}_DB_PASSWORD"}
        assert env["DATABASE_URL"]["value"] == f"postgres://{s}:$(SHOP_DATABASE_PASSWORD)@{RELEASE}-postgresql:5432/{s}"
        names = [v["name"] for v in c["env"]]
        assert names.index("SHOP_DATABASE_PASSWORD") < names.index("DATABASE_URL"), "defined before use"


def test_with_an_existing_secret_every_render_is_identical(render_with):
    values = load_value_set("operations")
    assert render_with(values).files == render_with(values).files


# --- extra env, volumes and mounts ---------------------------------------------------


def test_extra_env_volumes_and_mounts_reach_every_component(render_with):
    rel = render_with(load_value_set("operations"))
    (users,) = _pod(rel, "users")["containers"]
    assert {"name": "JWT_SIGNING_KEY_FILE", "value": "/etc/shop/keys/signing.pem"} in users["env"]
    assert {"name": "keys", "mountPath": "/etc/shop/keys", "readOnly": True} in users["volumeMounts"]
    assert {"name": "keys", "secret": {"secretName": "users-keys"}} in _pod(rel, "users")["volumes"]
    (gateway,) = _pod(rel, "gateway")["containers"]
    assert gateway["env"] == [{"name": "RUST_BACKTRACE", "value": "1"}]
    (pg,) = _pod(rel, "postgresql")["containers"]
    assert {"name": "POSTGRES_INITDB_ARGS", "value": "--data-checksums"} in pg["env"]


@pytest.mark.parametrize("component", [*APP, "postgresql"])
def test_extra_items_without_their_required_fields_are_refused(chart, component):
    with pytest.raises(helm.HelmValuesError, match="extraEnv"):
        chart.validate_schema({component: {"extraEnv": [{"value": "x"}]}})
    with pytest.raises(helm.HelmValuesError, match="extraVolumeMounts"):
        chart.validate_schema({component: {"extraVolumeMounts": [{"name": "keys"}]}})


# --- first admin, demo catalogue, NOTES -------------------------------------------------


def test_admin_email_and_demo_catalogue_are_values(render_with, default_release):
    rel = render_with(load_value_set("operations"))
    assert rel.config_env("users")["ADMIN_EMAIL"] == "admin@example.com"
    assert rel.config_env("products")["SEED_DEMO_CATALOGUE"] == "true"
    assert "ADMIN_EMAIL" not in default_release.config_env("users")
    assert "SEED_DEMO_CATALOGUE" not in default_release.config_env("products")
    assert "admin@example.com, is created" in rel.notes


def test_admin_email_in_both_places_is_refused(render_with):
    with pytest.raises(helm.HelmRenderError, match="users.config.ADMIN_EMAIL is set by the chart"):
        render_with({"users": {"adminEmail": "a@example.com", "config": {"ADMIN_EMAIL": "b@example.com"}}})


def test_an_invalid_admin_email_is_refused(chart):
    with pytest.raises(helm.HelmValuesError, match="adminEmail"):
        chart.validate_schema({"users": {"adminEmail": "not an email"}})


def test_notes_without_an_admin_say_how_to_create_one(default_release):
    assert f"kubectl exec --namespace shop deploy/{RELEASE}-users -- users create-admin" in default_release.notes
    assert "products.demoCatalogue=true" in default_release.notes


def test_notes_keep_the_values_as_the_source_of_the_route_table(default_release):
    assert "kubectl edit" not in default_release.notes.replace("a `kubectl edit`", "")
    assert "--set-file gateway.routeTable=" in default_release.notes
    assert f"helm test {RELEASE}" in default_release.notes
