"""The gateway's route table: a ConfigMap mounted as a directory (so edits
hot-reload), upstream addresses by environment, and a table that the gateway
binary itself accepts (`gateway check`)."""

import os
import shutil
import subprocess
import tomllib

import pytest

from conftest import REPO_ROOT, RELEASE, gateway_bin, load_value_set


def _gateway_check(table: str, env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    binary = gateway_bin()
    if not binary.exists():
        pytest.skip(f"gateway binary not found at {binary} (set GATEWAY_BIN or build it: cargo build -p gateway)")
    path = tmp_path / "gateway.toml"
    path.write_text(table)
    # The pod's environment: its ConfigMap (upstreams, listeners, logging).
    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    # The image's /srv/storefront is the repository's storefront/ (gateway/Dockerfile).
    run_env.setdefault("STOREFRONT_ROOT", str(REPO_ROOT / "storefront"))
    if "GATEWAY_TLS_CERT" in env:
        # The pod reads the Secret's pair from its mount: give it one there.
        secret_dir = _tls_secret(tmp_path / "gateway-tls")
        for var in ("GATEWAY_TLS_CERT", "GATEWAY_TLS_KEY"):
            run_env[var] = env[var].replace(TLS_MOUNT, str(secret_dir))
    return subprocess.run(
        [str(binary), "check", str(path)],
        env=run_env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )


TLS_MOUNT = "/etc/gateway-tls"


def _tls_secret(directory):
    """A kubernetes.io/tls Secret's files (tls.crt, tls.key) for shop.example.com, made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the certificate `gateway check` reads")
    directory.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=shop.example.com", "-addext", "subjectAltName=DNS:shop.example.com",
         "-keyout", str(directory / "tls.key"), "-out", str(directory / "tls.crt")],
        check=True, capture_output=True, timeout=30,
    )
    return directory


def _seconds(duration) -> float:
    """A gateway duration: whole seconds or a number with ms, s, m or h."""
    if isinstance(duration, int):
        return duration
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if duration.endswith(unit) and duration[: -len(unit)].strip().isdigit():
            return int(duration[: -len(unit)]) * units[unit]
    return int(duration)


def test_route_table_passes_gateway_check(release, tmp_path):
    result = _gateway_check(release.route_table(), release.config_env("gateway"), tmp_path)
    assert result.returncode == 0, f"gateway check refused the ConfigMap's table:\n{result.stdout}{result.stderr}"


def test_gateway_check_refuses_a_broken_table(tmp_path):
    """Guards the check above: the binary really validates (an unknown upstream)."""
    broken = '[upstreams.users]\nendpoints = ["http://users:8000"]\n[[routes]]\nprefix = "/users/"\nupstream = "userz"\n'
    result = _gateway_check(broken, {}, tmp_path)
    assert result.returncode != 0
    assert "userz" in result.stdout + result.stderr


def _proxied(table):
    return {r["prefix"]: r["upstream"] for r in table["routes"] if "upstream" in r}


def _files_routes(table):
    return [r for r in table["routes"] if "files" in r]


def test_route_table_is_valid_toml_with_routes(release):
    table = tomllib.loads(release.route_table())
    assert table["routes"], "no [[routes]]"
    for route in table["routes"]:
        if "files" in route:
            continue
        assert route["upstream"] in table["upstreams"]


def test_default_routes_send_users_and_products_prefixes_to_their_upstreams(default_release):
    table = tomllib.loads(default_release.route_table())
    assert _proxied(table) == {"/users/": "users", "/products/": "products"}


def test_default_routes_match_the_repository_route_table(default_release):
    repo_table = REPO_ROOT / "gateway" / "gateway.toml"
    if not repo_table.exists():
        pytest.skip(f"{repo_table} does not exist yet")
    chart_table = tomllib.loads(default_release.route_table())
    assert _proxied(chart_table) == _proxied(tomllib.loads(repo_table.read_text()))


def test_default_routes_serve_the_storefront_as_the_repository_shop_table_does(default_release):
    """The storefront's two routes (assets, then the page at /) with their
    cache and CSP headers are gateway/shop.toml's, root included."""
    shop_table = tomllib.loads((REPO_ROOT / "gateway" / "shop.toml").read_text())
    chart_table = tomllib.loads(default_release.route_table())
    ours = _files_routes(chart_table)
    assert [r["location"] for r in ours] == ["^~ /v-", "/"]
    assert ours == _files_routes(shop_table)
    assert all(r["files"]["root"] == "${STOREFRONT_ROOT:-/srv/storefront}" for r in ours)
    assert "frame-ancestors 'none'" in ours[1]["headers"]["response_set"]["Content-Security-Policy"]


def test_the_storefront_can_be_turned_off(render_with, tmp_path):
    rel = render_with({"gateway": {"storefront": {"enabled": False}}})
    table = tomllib.loads(rel.route_table())
    assert _files_routes(table) == []
    assert _proxied(table) == {"/users/": "users", "/products/": "products"}
    result = _gateway_check(rel.route_table(), rel.config_env("gateway"), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gateway_check_refuses_the_storefront_without_its_directory(default_release, tmp_path):
    """Guards the STOREFRONT_ROOT stand-in above: a root that does not exist is refused."""
    env = {**default_release.config_env("gateway"), "STOREFRONT_ROOT": str(tmp_path / "missing")}
    result = _gateway_check(default_release.route_table(), env, tmp_path)
    assert result.returncode != 0
    assert "missing" in result.stdout + result.stderr


def test_the_repository_route_table_can_be_given_with_set_file(render_with, tmp_path):
    """`--set-file gateway.routeTable=gateway/gateway.toml`: the environment overrides its local addresses."""
    repo_table = REPO_ROOT / "gateway" / "gateway.toml"
    if not repo_table.exists():
        pytest.skip(f"{repo_table} does not exist yet")
    rel = render_with({"gateway": {"routeTable": repo_table.read_text()}})
    assert rel.route_table().strip() == repo_table.read_text().strip()
    result = _gateway_check(rel.route_table(), rel.config_env("gateway"), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_custom_route_table_is_used_verbatim(render_with):
    values = load_value_set("custom-route-table")
    rel = render_with(values)
    assert rel.route_table().strip() == values["gateway"]["routeTable"].strip()


def test_route_table_shutdown_grace_fits_in_the_termination_grace_period(release):
    table = tomllib.loads(release.route_table())
    grace = _seconds(table.get("timeouts", {}).get("shutdown_grace", 20))
    spec = release.deployment("gateway")["spec"]["template"]["spec"]
    prestop = int(spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
    assert prestop + grace < spec["terminationGracePeriodSeconds"]


def test_route_table_is_mounted_as_a_directory_so_edits_reach_the_gateway(release):
    spec = release.deployment("gateway")["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    (mount,) = [m for m in c["volumeMounts"] if m["name"] == "routes"]
    assert mount["mountPath"] == "/etc/gateway"
    assert "subPath" not in mount and "subPathExpr" not in mount
    (volume,) = [v for v in spec["volumes"] if v["name"] == "routes"]
    assert volume["configMap"]["name"] == f"{RELEASE}-gateway-routes"
    assert c["args"] == ["run", "--config", "/etc/gateway/gateway.toml"]


def test_changing_the_route_table_does_not_roll_the_gateway_pods(render_with, default_release):
    table = load_value_set("custom-route-table")["gateway"]["routeTable"]
    changed = render_with({"gateway": {"routeTable": table}})
    assert changed.route_table() != default_release.route_table()
    assert changed.deployment("gateway")["spec"]["template"] == default_release.deployment("gateway")["spec"]["template"]


def test_upstreams_point_at_the_release_services(release):
    env = release.config_env("gateway")
    suffix = "-headless" if release.merged_values["gateway"]["upstreamDiscovery"] == "headless" else ""
    for component in ("users", "products"):
        service = f"{RELEASE}-{component}{suffix}"
        assert env[f"{component.upper()}_UPSTREAM"] == f"http://{service}:8000"
        assert release.has("Service", service)


def test_headless_upstream_services_publish_only_ready_pods(default_release):
    for component in ("users", "products"):
        svc = default_release.get("Service", f"{RELEASE}-{component}-headless")
        assert svc["spec"]["clusterIP"] == "None"
        assert svc["spec"]["publishNotReadyAddresses"] is False


def test_extra_upstreams_get_their_environment_variable(render_with):
    env = render_with(load_value_set("custom-route-table")).config_env("gateway")
    assert env["REVIEWS_UPSTREAM"] == "http://reviews.reviews.svc.cluster.local:8000"


def test_trusted_proxies_are_passed_by_environment(render_with):
    env = render_with({"gateway": {"trustedProxies": ["10.0.0.0/8", "fd00::/8"]}}).config_env("gateway")
    assert env["GATEWAY_TRUSTED_PROXIES"] == "10.0.0.0/8,fd00::/8"


def test_gateway_check_reads_the_certificate_where_the_secret_is_mounted(render_with, tmp_path):
    rel = render_with(load_value_set("https-existing-secret"))
    result = _gateway_check(rel.route_table(), rel.config_env("gateway"), tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"certificate {tmp_path}/gateway-tls/tls.crt: shop.example.com" in output
