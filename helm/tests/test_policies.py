"""The operational policies every rendering of the chart keeps, whatever the
value set: probes, resources, locked-down containers, pinned images, secrets
only by reference, only the gateway exposed, rolling updates that drain."""

import re

from conftest import RELEASE, containers, pod_specs

APP_COMPONENTS = ("gateway", "users", "products")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|DATABASE_URL|CREDENTIAL", re.I)
SECRET_SETTINGS = {
    "DATABASE_URL", "JWT_SIGNING_KEY", "JWT_PUBLISHED_KEYS", "ADMIN_PASSWORD",
    "POSTGRES_PASSWORD", "USERS_DB_PASSWORD", "PRODUCTS_DB_PASSWORD",
}


def test_every_container_has_liveness_readiness_and_startup_probes(release):
    for name, c in containers(release):
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert probe in c, f"{name} has no {probe}"


def test_services_probe_health_for_liveness_and_ready_for_readiness(release):
    for component in ("users", "products"):
        (c,) = release.deployment(component)["spec"]["template"]["spec"]["containers"]
        assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
        assert c["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in c["ports"]


def test_gateway_probes_use_the_admin_listener(release):
    (c,) = release.deployment("gateway")["spec"]["template"]["spec"]["containers"]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
    assert {"name": "admin", "containerPort": 9000, "protocol": "TCP"} in c["ports"]


def test_every_container_has_cpu_and_memory_requests_and_limits(release):
    for name, c in containers(release):
        for kind in ("requests", "limits"):
            assert set(c.get("resources", {}).get(kind, {})) >= {"cpu", "memory"}, f"{name} {kind}"


def test_every_pod_runs_as_non_root_uid_with_runtime_default_seccomp(release):
    for name, spec in pod_specs(release):
        sc = spec["securityContext"]
        assert sc["runAsNonRoot"] is True, name
        assert sc["runAsUser"] != 0, name
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name


def test_app_pods_run_as_the_images_user_10001(release):
    for component in APP_COMPONENTS:
        spec = release.deployment(component)["spec"]["template"]["spec"]
        assert (spec["securityContext"]["runAsUser"], spec["securityContext"]["runAsGroup"]) == (10001, 10001)


def test_every_container_is_read_only_unprivileged_and_drops_all_capabilities(release):
    for name, c in containers(release):
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc.get("privileged", False) is False, name
        assert sc["capabilities"]["drop"] == ["ALL"], name
        assert "add" not in sc["capabilities"], name
        assert sc["runAsNonRoot"] is True, name


def test_writable_paths_are_emptydirs_for_tmp_and_the_data_dir(release):
    for component in ("users", "products"):
        spec = release.deployment(component)["spec"]["template"]["spec"]
        mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]
        data_dir = release.config_env(component)["DATA_DIR"]
        assert "emptyDir" in volumes[mounts[data_dir]]


def test_no_image_is_untagged_or_latest(release):
    for name, c in containers(release):
        image = c["image"]
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image}"


def test_app_images_default_to_the_chart_app_version(default_release, chart):
    app_version = chart.metadata["appVersion"]
    for component in APP_COMPONENTS:
        (c,) = default_release.deployment(component)["spec"]["template"]["spec"]["containers"]
        assert c["image"] == f"shop-{component}:{app_version}"


# The one literal the chart writes itself: the in-chart database's URL, its
# password a reference the kubelet expands.
COMPOSED_URL = re.compile(r"^postgres://(users|products):\$\(SHOP_DATABASE_PASSWORD\)@[-a-z0-9]+:5432/(users|products)$")


def test_deployments_set_environment_only_by_reference(release):
    for component in APP_COMPONENTS:
        (c,) = release.deployment(component)["spec"]["template"]["spec"]["containers"]
        assert c["envFrom"], component
        extra = {v["name"] for v in release.merged_values[component]["extraEnv"]}
        for var in c.get("env", []):
            if var["name"] in extra:
                continue
            if var["name"] == "DATABASE_URL" and "value" in var:
                assert COMPOSED_URL.match(var["value"]), f"{component}: {var['value']}"
                continue
            assert set(var) == {"name", "valueFrom"}, f"{component}: {var['name']} is inlined"
            assert set(var["valueFrom"]) == {"secretKeyRef"}, f"{component}: {var['name']}"


def test_no_literal_env_value_looks_like_a_secret(release):
    # Literals the user asked for (extraEnv, e.g. JWT_SIGNING_KEY_FILE) aside.
    extra = {v["name"] for c in (*APP_COMPONENTS, "postgresql") for v in release.merged_values[c]["extraEnv"]}
    for name, c in containers(release):
        for var in c.get("env", []):
            if var["name"] in extra:
                continue
            if "value" in var and not COMPOSED_URL.match(var["value"]):
                assert not SECRET_NAME.search(var["name"]), f"{name}: {var['name']} inlined"


def test_secret_values_appear_only_in_secrets(release):
    secrets = [
        str(v)
        for component in APP_COMPONENTS
        for v in release.values.get(component, {}).get("secretEnv", {}).values()
    ] + [p for k, p in release.values.get("postgresql", {}).get("auth", {}).items() if p and k != "existingSecret"]
    for obj in release.objects:
        if obj["kind"] == "Secret":
            continue
        text = repr(obj)
        for secret in secrets:
            for line in secret.strip().splitlines():
                assert line not in text, f"{obj['kind']}/{obj['metadata']['name']} contains a secret value"


def test_configmaps_carry_no_secret_settings(release):
    for cm in release.of_kind("ConfigMap"):
        leaked = SECRET_SETTINGS & set(cm.get("data", {}))
        assert not leaked, f"{cm['metadata']['name']}: {leaked}"


def test_every_env_source_exists_in_the_release_or_is_a_named_existing_secret(release):
    existing = {release.merged_values[c]["existingSecret"] for c in APP_COMPONENTS} - {""}
    existing |= {s for c in APP_COMPONENTS for s in release.merged_values[c]["extraEnvFromSecrets"]}
    existing |= {release.merged_values[c]["database"]["urlSecret"]["name"] for c in ("users", "products")} - {""}
    existing |= {release.merged_values["postgresql"]["auth"]["existingSecret"]} - {""}
    for name, c in containers(release):
        for var in c.get("env", []):
            if "valueFrom" in var:
                ref = var["valueFrom"]["secretKeyRef"]["name"]
                assert release.has("Secret", ref) or ref in existing, f"{name}: {ref}"
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                assert release.has("ConfigMap", source["configMapRef"]["name"]), name
            else:
                ref = source["secretRef"]["name"]
                assert release.has("Secret", ref) or ref in existing, f"{name}: {ref}"


def test_only_the_gateway_service_can_be_reached_from_outside(release):
    gateway_type = release.merged_values["gateway"]["service"]["type"]
    for svc in release.of_kind("Service"):
        name = svc["metadata"]["name"]
        if name == f"{RELEASE}-gateway":
            assert svc["spec"]["type"] == gateway_type
        else:
            assert svc["spec"]["type"] == "ClusterIP", name
            assert "externalIPs" not in svc["spec"], name


def test_the_gateway_service_exposes_port_80_and_with_tls_only_443(release):
    svc = release.get("Service", f"{RELEASE}-gateway")
    expected = [("http", 80, "http")]
    if release.merged_values["gateway"]["tls"]["enabled"]:
        expected.append(("https", 443, "https"))
    assert [(p["name"], p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == expected
    (c,) = release.deployment("gateway")["spec"]["template"]["spec"]["containers"]
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in c["ports"]
    assert release.config_env("gateway")["GATEWAY_LISTEN"] == "0.0.0.0:8080"
    assert release.config_env("gateway")["GATEWAY_ADMIN_LISTEN"] == "0.0.0.0:9000"


def test_ingresses_route_only_to_the_gateway(release):
    for ing in release.of_kind("Ingress"):
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] == f"{RELEASE}-gateway"


def test_rolling_updates_never_take_a_ready_pod_away_first(release):
    for component in APP_COMPONENTS:
        strategy = release.deployment(component)["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0
        assert strategy["rollingUpdate"]["maxSurge"] >= 1


def test_pods_wait_in_prestop_then_get_more_than_the_shutdown_grace(release):
    common = release.merged_values["common"]
    for component in APP_COMPONENTS:
        spec = release.deployment(component)["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        sleep = c["lifecycle"]["preStop"]["exec"]["command"]
        assert sleep == ["sleep", str(common["preStopSleepSeconds"])]
        assert spec["terminationGracePeriodSeconds"] > (
            common["preStopSleepSeconds"] + common["shutdownDrainDelaySeconds"] + common["shutdownGraceSeconds"]
        )


def test_services_drain_longer_than_their_readiness_takes_to_notice(release):
    """After SIGTERM a service serves on, not ready, for SHUTDOWN_DRAIN_DELAY:
    its readiness probe must mark it not ready within that time."""
    drain = release.merged_values["common"]["shutdownDrainDelaySeconds"]
    for component in ("users", "products"):
        assert release.config_env(component)["SHUTDOWN_DRAIN_DELAY"] == f"{drain}s"
        (c,) = release.deployment(component)["spec"]["template"]["spec"]["containers"]
        probe = c["readinessProbe"]
        assert probe["periodSeconds"] * probe["failureThreshold"] < drain, component


def test_services_get_the_shutdown_grace_by_environment(release):
    grace = release.merged_values["common"]["shutdownGraceSeconds"]
    for component in ("users", "products"):
        assert release.config_env(component)["SHUTDOWN_GRACE"] == f"{grace}s"


def test_production_settings_are_set_for_every_component(release):
    for component in APP_COMPONENTS:
        env = release.config_env(component)
        assert env["APP_ENV"] == "production"
        assert env["LOG_FORMAT"] == "json"
        assert env["RUST_LOG"]
