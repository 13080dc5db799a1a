"""What each part of the release is made of, value set by value set: secrets
and settings by envFrom, the database, the optional resources (Ingress, HPA,
PDB, NetworkPolicy), config changes rolling pods, NOTES.txt."""

import base64
import re

import helm_python as helm
import pytest

from conftest import RELEASE, load_value_set

SERVICES = ("users", "products")


def _env_sources(rel, component):
    (c,) = rel.deployment(component)["spec"]["template"]["spec"]["containers"]
    return [
        ("configMap", s["configMapRef"]["name"]) if "configMapRef" in s else ("secret", s["secretRef"]["name"])
        for s in c["envFrom"]
    ]


def _secret_data(rel, name):
    secret = rel.get("Secret", name)
    if "stringData" in secret:
        return secret["stringData"]
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


# --- secrets and settings -------------------------------------------------


def test_defaults_read_each_services_secrets_from_the_secret_made_from_its_env_file(default_release):
    assert _env_sources(default_release, "users") == [("secret", "users-secret"), ("configMap", "shop-users-env")]
    assert _env_sources(default_release, "products") == [("secret", "products-secret"), ("configMap", "shop-products-env")]
    assert not default_release.of_kind("Secret")


def test_existing_secrets_are_referenced_and_none_are_created(render_with):
    rel = render_with(load_value_set("existing-secrets"))
    assert ("secret", "gateway-secret") in _env_sources(rel, "gateway")
    assert _env_sources(rel, "users") == [("secret", "users-secret"), ("secret", "users-keys"), ("configMap", f"{RELEASE}-users-env")]
    assert not rel.of_kind("Secret")


def test_a_signing_key_secret_of_its_own_satisfies_users(render_with):
    rel = render_with({"users": {"existingSecret": "", "extraEnvFromSecrets": ["users-keys"], "secretEnv": {"DATABASE_URL": "postgres://u:p@db/users"}}})
    assert _env_sources(rel, "users") == [("secret", "users-keys"), ("secret", f"{RELEASE}-users"), ("configMap", f"{RELEASE}-users-env")]


def test_secret_env_from_values_becomes_a_chart_secret_injected_with_envfrom(render_with):
    values = load_value_set("secrets-from-values")
    rel = render_with(values)
    for component in SERVICES:
        assert _env_sources(rel, component) == [("secret", f"{RELEASE}-{component}"), ("configMap", f"{RELEASE}-{component}-env")]
        assert _secret_data(rel, f"{RELEASE}-{component}") == values[component]["secretEnv"]


def test_gateway_secret_env_becomes_a_chart_secret_too(render_with):
    rel = render_with({"gateway": {"secretEnv": {"UPSTREAM_TOKEN": "gateway-sentinel"}}})
    assert ("secret", f"{RELEASE}-gateway") in _env_sources(rel, "gateway")
    assert _secret_data(rel, f"{RELEASE}-gateway") == {"UPSTREAM_TOKEN": "gateway-sentinel"}
    assert "gateway-sentinel" not in repr(rel.get("ConfigMap", f"{RELEASE}-gateway-env"))


def test_a_multiline_pem_survives_into_the_secret_intact(render_with):
    values = load_value_set("secrets-from-values")
    key = _secret_data(render_with(values), f"{RELEASE}-users")["JWT_SIGNING_KEY"]
    assert key == values["users"]["secretEnv"]["JWT_SIGNING_KEY"]
    assert key.startswith("-----BEGIN PRIVATE KEY-----\n")


def test_chart_settings_come_after_secrets_so_they_override_local_env_file_values(release):
    for component in SERVICES:
        sources = _env_sources(release, component)
        assert sources[-1] == ("configMap", f"{RELEASE}-{component}-env")


def test_services_listen_on_their_port_and_share_issuer_and_audience(release):
    for component in SERVICES:
        env = release.config_env(component)
        assert env["LISTEN_ADDR"] == "0.0.0.0:8000"
        assert env["JWT_ISSUER"] == "shop-users"
        assert env["JWT_AUDIENCE"] == "shop"


def test_products_fetch_the_jwks_from_the_release_users_service(release):
    assert release.config_env("products")["JWKS_URL"] == f"http://{RELEASE}-users:8000/.well-known/jwks.json"


def test_users_believe_forwarding_headers_from_the_private_ranges_by_default(default_release):
    env = default_release.config_env("users")
    assert env["TRUSTED_PROXIES"] == "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
    assert "TRUSTED_PROXIES" not in default_release.config_env("products")


def test_users_trusted_proxies_are_set_by_their_value(render_with):
    env = render_with({"users": {"trustedProxies": ["10.244.0.0/16"]}}).config_env("users")
    assert env["TRUSTED_PROXIES"] == "10.244.0.0/16"


def test_extra_settings_land_in_the_services_configmap(render_with):
    env = render_with(load_value_set("existing-secrets")).config_env("users")
    assert env["ADMIN_EMAIL"] == "admin@example.com"
    assert env["ACCESS_TOKEN_TTL"] == "10m"


def test_a_boolean_setting_is_passed_as_the_string_the_service_parses(render_with):
    env = render_with({"products": {"config": {"SEED_DEMO_CATALOGUE": True}}}).config_env("products")
    assert env["SEED_DEMO_CATALOGUE"] == "true"


# --- database -----------------------------------------------------------------


def test_in_chart_postgresql_is_a_statefulset_of_postgres_15(render_with):
    rel = render_with(load_value_set("in-chart-postgresql"))
    sts = rel.get("StatefulSet", f"{RELEASE}-postgresql")
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    assert c["image"] == "postgres:15-bookworm"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert rel.get("Service", f"{RELEASE}-postgresql")["spec"]["type"] == "ClusterIP"


def test_in_chart_postgresql_creates_one_database_and_role_per_service(render_with):
    rel = render_with(load_value_set("in-chart-postgresql"))
    script = rel.get("ConfigMap", f"{RELEASE}-postgresql-init")["data"]["10-init-databases.sh"]
    assert 'create users "$USERS_DB_PASSWORD" users' in script
    assert 'create products "$PRODUCTS_DB_PASSWORD" products' in script
    passwords = _secret_data(rel, f"{RELEASE}-postgresql")
    assert set(passwords) == {"POSTGRES_PASSWORD", "USERS_DB_PASSWORD", "PRODUCTS_DB_PASSWORD"}
    assert passwords["USERS_DB_PASSWORD"] == "users-sentinel-password"
    assert len(passwords["PRODUCTS_DB_PASSWORD"]) == 32, "an empty password is generated"


def test_in_chart_postgresql_gives_each_service_its_own_database_url(render_with):
    rel = render_with(load_value_set("in-chart-postgresql"))
    passwords = _secret_data(rel, f"{RELEASE}-postgresql")
    for component in SERVICES:
        url = _secret_data(rel, f"{RELEASE}-{component}-database")["DATABASE_URL"]
        password = passwords[f"{component.upper()}_DB_PASSWORD"]
        assert url == f"postgres://{component}:{password}@{RELEASE}-postgresql:5432/{component}"
        assert ("secret", f"{RELEASE}-{component}-database") in _env_sources(rel, component)


def test_in_chart_database_url_overrides_one_from_an_env_file_secret(render_with):
    sources = _env_sources(render_with(load_value_set("in-chart-postgresql")), "users")
    assert sources.index(("secret", f"{RELEASE}-users-database")) > sources.index(("secret", "users-secret"))


def test_an_external_database_url_is_taken_by_reference_from_its_secret_key(render_with):
    rel = render_with(load_value_set("existing-secrets"))
    (c,) = rel.deployment("products")["spec"]["template"]["spec"]["containers"]
    assert c["env"] == [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "products-db-app", "key": "uri"}}}]


def test_an_external_database_url_wins_over_the_in_chart_database(render_with):
    rel = render_with({"postgresql": {"enabled": True}, "users": {"database": {"urlSecret": {"name": "users-db"}}}})
    (c,) = rel.deployment("users")["spec"]["template"]["spec"]["containers"]
    assert c["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "users-db", "key": "DATABASE_URL"}
    assert ("secret", f"{RELEASE}-users-database") not in _env_sources(rel, "users")
    assert ("secret", f"{RELEASE}-products-database") in _env_sources(rel, "products")


def test_the_guides_trial_install_needs_only_a_signing_key_secret(render_with):
    values = helm.parse_set_string(
        "postgresql.enabled=true,users.existingSecret=,users.extraEnvFromSecrets={users-keys},products.existingSecret="
    )
    rel = render_with(values)
    assert _env_sources(rel, "users") == [("secret", "users-keys"), ("secret", f"{RELEASE}-users-database"), ("configMap", f"{RELEASE}-users-env")]
    assert _env_sources(rel, "products") == [("secret", f"{RELEASE}-products-database"), ("configMap", f"{RELEASE}-products-env")]


def test_no_postgresql_is_rendered_unless_enabled(default_release):
    assert not default_release.of_kind("StatefulSet")


def test_a_service_without_any_database_is_refused_with_the_values_to_set(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"products needs a database: set products.existingSecret"):
        render_with({"products": {"existingSecret": ""}})


def test_users_without_a_signing_key_is_refused(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"users needs a signing key"):
        render_with({"users": {"existingSecret": "", "secretEnv": {"DATABASE_URL": "postgres://u:p@db/users"}}})


def test_a_secret_put_in_a_configmap_setting_is_refused(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"users.config.JWT_SIGNING_KEY is a secret"):
        render_with({"users": {"config": {"JWT_SIGNING_KEY": "pem"}}})


def test_the_drain_delay_defaults_to_5s_with_a_4s_readiness_and_a_longer_termination_grace(default_release):
    for component in ("users", "products"):
        assert default_release.config_env(component)["SHUTDOWN_DRAIN_DELAY"] == "5s"
        spec = default_release.deployment(component)["spec"]["template"]["spec"]
        probe = spec["containers"][0]["readinessProbe"]
        assert (probe["periodSeconds"], probe["failureThreshold"]) == (2, 2)
        # preStop 10 + drain 5 + grace 20 + margin 10.
        assert spec["terminationGracePeriodSeconds"] == 45


def test_a_readiness_probe_slower_than_the_drain_is_refused(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"products.readinessProbe: periodSeconds x failureThreshold \(10s\) must stay below common.shutdownDrainDelaySeconds \(5s\)"):
        render_with({"products": {"readinessProbe": {"periodSeconds": 5, "failureThreshold": 2}}})
    with pytest.raises(helm.HelmRenderError, match=r"users.readinessProbe: .* \(4s\) must stay below common.shutdownDrainDelaySeconds \(3s\)"):
        render_with({"common": {"shutdownDrainDelaySeconds": 3}})


def test_a_longer_drain_or_none_at_all_renders(render_with):
    rel = render_with({"common": {"shutdownDrainDelaySeconds": 12}, "users": {"readinessProbe": {"periodSeconds": 5, "failureThreshold": 2}}})
    assert rel.config_env("users")["SHUTDOWN_DRAIN_DELAY"] == "12s"
    assert rel.deployment("users")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 52
    off = render_with({"common": {"shutdownDrainDelaySeconds": 0}, "users": {"readinessProbe": {"periodSeconds": 10, "failureThreshold": 3}}})
    assert off.config_env("users")["SHUTDOWN_DRAIN_DELAY"] == "0s"


def test_the_drain_delay_is_a_chart_setting_not_a_config_entry(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"users.config.SHUTDOWN_DRAIN_DELAY is set by the chart"):
        render_with({"users": {"config": {"SHUTDOWN_DRAIN_DELAY": "1s"}}})


def test_a_setting_the_chart_owns_is_refused_in_config(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"users.config.LISTEN_ADDR is set by the chart"):
        render_with({"users": {"config": {"LISTEN_ADDR": "0.0.0.0:1"}}})


# --- rolling on change -------------------------------------------------------------


def _checksums(rel, component):
    annotations = rel.deployment(component)["spec"]["template"]["metadata"]["annotations"]
    return {k: v for k, v in annotations.items() if k.startswith("checksum/")}


def test_a_changed_setting_rolls_only_that_services_pods(render_with, default_release):
    changed = render_with({"users": {"config": {"ACCESS_TOKEN_TTL": "5m"}}})
    assert _checksums(changed, "users")["checksum/config"] != _checksums(default_release, "users")["checksum/config"]
    assert _checksums(changed, "products") == _checksums(default_release, "products")


def test_a_changed_secret_value_rolls_the_pods(render_with):
    values = load_value_set("secrets-from-values")
    before = render_with(values)
    values["products"]["secretEnv"]["DATABASE_URL"] = "postgres://products:rotated@db.example.com/products"
    after = render_with(values)
    assert _checksums(after, "products")["checksum/secret"] != _checksums(before, "products")["checksum/secret"]


def test_rendering_twice_gives_identical_pod_templates(render_with):
    values = load_value_set("in-chart-postgresql")
    first, second = render_with(values), render_with(values)
    for component in ("gateway", *SERVICES):
        assert first.deployment(component)["spec"]["template"] == second.deployment(component)["spec"]["template"]


# --- optional resources ---------------------------------------------------------------


def test_ingress_and_hpa_are_off_by_default(default_release):
    for kind in ("Ingress", "HorizontalPodAutoscaler"):
        assert not default_release.of_kind(kind), kind


def test_networkpolicies_are_on_by_default_so_only_the_gateway_reaches_users(default_release):
    assert default_release.merged_values["users"]["trustedProxies"], "users trusts forwarding headers"
    users = default_release.get("NetworkPolicy", f"{RELEASE}-users")
    peers = [p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for r in users["spec"]["ingress"] for p in r["from"]]
    assert sorted(peers) == ["gateway", "products"]


def test_the_gateway_admin_port_is_closed_to_other_pods_by_default(default_release):
    """The admin listener binds the pod address (for the kubelet's probes),
    so the default NetworkPolicy admits nobody else to it."""
    assert default_release.config_env("gateway")["GATEWAY_ADMIN_LISTEN"] == "0.0.0.0:9000"
    rules = default_release.get("NetworkPolicy", f"{RELEASE}-gateway")["spec"]["ingress"]
    assert [r["ports"] for r in rules] == [[{"port": "http", "protocol": "TCP"}]]


def test_ingress_without_trusted_proxies_is_refused(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"ingress.enabled needs gateway.trustedProxies"):
        render_with({"ingress": {"enabled": True}})


def test_ingress_with_trusted_proxies_from_the_values_or_the_route_table_renders(render_with):
    rel = render_with({"ingress": {"enabled": True}, "gateway": {"trustedProxies": ["10.42.0.0/16"]}})
    assert rel.config_env("gateway")["GATEWAY_TRUSTED_PROXIES"] == "10.42.0.0/16"
    table = 'trusted_proxies = ["10.42.0.0/16"]\n[upstreams.users]\nendpoints = ["http://u:8000"]\n[[routes]]\nprefix = "/users/"\nupstream = "users"\n'
    assert render_with({"ingress": {"enabled": True}, "gateway": {"routeTable": table}}).of_kind("Ingress")
    empty_list = table.replace('["10.42.0.0/16"]', "[]")
    with pytest.raises(helm.HelmRenderError, match=r"ingress.enabled needs gateway.trustedProxies"):
        render_with({"ingress": {"enabled": True}, "gateway": {"routeTable": empty_list}})


def test_users_trusting_proxies_without_networkpolicies_is_refused(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"networkPolicy.enabled=false with users.trustedProxies \[10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7\]"):
        render_with({"networkPolicy": {"enabled": False}})


def test_without_networkpolicies_users_trusts_no_proxy_or_the_operator_says_why(render_with):
    narrowed = render_with({"networkPolicy": {"enabled": False}, "users": {"trustedProxies": []}})
    assert narrowed.config_env("users")["TRUSTED_PROXIES"] == ""
    assert not narrowed.of_kind("NetworkPolicy")
    acknowledged = render_with({"networkPolicy": {"enabled": False}, "users": {"trustProxiesWithoutNetworkPolicy": True}})
    assert acknowledged.config_env("users")["TRUSTED_PROXIES"].startswith("10.0.0.0/8,")


def test_ingress_sends_its_host_to_the_gateway_with_tls(render_with):
    rel = render_with(load_value_set("ingress-hpa-pdb-networkpolicy"))
    (ing,) = rel.of_kind("Ingress")
    assert ing["spec"]["ingressClassName"] == "traefik"
    assert ing["spec"]["rules"][0]["host"] == "shop.example.com"
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"] == {"name": f"{RELEASE}-gateway", "port": {"name": "http"}}
    assert ing["spec"]["tls"] == [{"secretName": "shop-example-com-tls", "hosts": ["shop.example.com"]}]


def test_autoscaled_deployments_leave_replicas_to_their_hpa(render_with):
    rel = render_with(load_value_set("ingress-hpa-pdb-networkpolicy"))
    for component in ("gateway", *SERVICES):
        assert "replicas" not in rel.deployment(component)["spec"]
        hpa = rel.get("HorizontalPodAutoscaler", f"{RELEASE}-{component}")
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{RELEASE}-{component}"}
    gateway_metrics = rel.get("HorizontalPodAutoscaler", f"{RELEASE}-gateway")["spec"]["metrics"]
    assert [m["resource"]["name"] for m in gateway_metrics] == ["cpu", "memory"]


def test_an_hpa_with_min_above_max_is_refused(render_with):
    with pytest.raises(helm.HelmRenderError, match=r"gateway.autoscaling.minReplicas \(5\) must not exceed maxReplicas \(3\)"):
        render_with({"gateway": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}})


def test_disruption_budgets_select_their_components_pods(render_with):
    rel = render_with(load_value_set("ingress-hpa-pdb-networkpolicy"))
    for component in ("gateway", *SERVICES):
        pdb = rel.get("PodDisruptionBudget", f"{RELEASE}-{component}")
        labels = rel.deployment(component)["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert rel.get("PodDisruptionBudget", f"{RELEASE}-products")["spec"]["minAvailable"] == "50%"


def _policy(rel, component):
    return rel.get("NetworkPolicy", f"{RELEASE}-{component}")


def _allowed_components(policy):
    return sorted(
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for rule in policy["spec"]["ingress"]
        for peer in rule.get("from", [])
        if "podSelector" in peer
    )


def test_network_policy_lets_outside_traffic_reach_only_the_gateway(render_with):
    rel = render_with(load_value_set("ingress-hpa-pdb-networkpolicy"))
    gateway = _policy(rel, "gateway")
    assert gateway["spec"]["policyTypes"] == ["Ingress"]
    public, metrics = gateway["spec"]["ingress"]
    assert public["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert public["from"][0] == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}}
    # ... and the `helm test` pod.
    assert public["from"][1]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "helm-test"
    assert metrics["ports"] == [{"port": "admin", "protocol": "TCP"}]


def test_network_policy_admits_services_only_from_the_gateway_and_users_also_from_products(render_with):
    rel = render_with(load_value_set("ingress-hpa-pdb-networkpolicy"))
    assert _allowed_components(_policy(rel, "users")) == ["gateway", "products"]
    assert _allowed_components(_policy(rel, "products")) == ["gateway"]


def test_network_policy_admits_the_database_only_from_the_services(render_with):
    rel = render_with(load_value_set("ingress-hpa-pdb-networkpolicy"))
    policy = _policy(rel, "postgresql")
    assert _allowed_components(policy) == ["products", "users"]
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": "postgresql", "protocol": "TCP"}]


def test_every_app_workload_is_covered_by_a_network_policy(render_with):
    rel = render_with(load_value_set("ingress-hpa-pdb-networkpolicy"))
    selected = [p["spec"]["podSelector"]["matchLabels"] for p in rel.of_kind("NetworkPolicy")]
    for workload in rel.workloads():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(s.items() <= labels.items() for s in selected), workload["metadata"]["name"]


# --- images, service types, notes ------------------------------------------------------


def test_images_come_from_the_registry_with_the_pinned_tag(render_with):
    rel = render_with(load_value_set("existing-secrets"))
    (c,) = rel.deployment("users")["spec"]["template"]["spec"]["containers"]
    assert c["image"] == "registry.example.com/shop/shop-users:0.1.0"
    assert rel.deployment("users")["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "registry-credentials"}]


def test_a_component_tag_overrides_the_common_tag(render_with):
    rel = render_with({"image": {"tag": "1.2.3"}, "products": {"image": {"tag": "1.2.4"}}})
    images = {component: rel.deployment(component)["spec"]["template"]["spec"]["containers"][0]["image"] for component in ("gateway", *SERVICES)}
    assert images == {"gateway": "shop-gateway:1.2.3", "users": "shop-users:1.2.3", "products": "shop-products:1.2.4"}


def test_the_gateway_service_type_is_configurable(render_with):
    rel = render_with(load_value_set("existing-secrets"))
    svc = rel.get("Service", f"{RELEASE}-gateway")
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["spec"]["externalTrafficPolicy"] == "Local"
    assert svc["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]


def test_a_node_port_gateway_keeps_its_fixed_port(render_with):
    svc = render_with(load_value_set("secrets-from-values")).get("Service", f"{RELEASE}-gateway")
    assert svc["spec"]["type"] == "NodePort"
    assert svc["spec"]["ports"][0]["nodePort"] == 30080


def test_notes_tell_how_to_reach_the_gateway(default_release, render_with):
    assert "kubectl port-forward --namespace shop service/shop-gateway 8080:80" in default_release.notes
    assert "kubectl create secret generic users-secret --namespace shop --from-env-file=users/.env" in default_release.notes
    with_ingress = render_with(load_value_set("ingress-hpa-pdb-networkpolicy")).notes
    assert "https://shop.example.com/users/docs" in with_ingress
    assert "kubectl get service shop-gateway" in render_with(load_value_set("existing-secrets")).notes
    assert "NODE_PORT=$(kubectl get service shop-gateway" in render_with(load_value_set("secrets-from-values")).notes


def test_a_long_release_name_keeps_every_name_a_valid_dns_label(render_with):
    values = load_value_set("ingress-hpa-pdb-networkpolicy") | {"fullnameOverride": "a" * 63}
    rel = render_with(values)
    for obj in rel.objects:
        name = obj["metadata"]["name"]
        assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), f"{obj['kind']}/{name}"
