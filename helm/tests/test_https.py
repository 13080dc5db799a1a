"""HTTPS at the gateway (gateway.tls, gateway.acme, helmTest.tls): the
listener on 443 and the Service port, the certificate Secret mounted as a
directory, the ACME claim and where the pods may then run, the NetworkPolicy,
the `helm test` over HTTPS and the redirect, and every refusal."""

import helm_python as helm
import pytest

from conftest import RELEASE, load_value_set

TLS_ENV = {
    "GATEWAY_TLS_LISTEN", "GATEWAY_TLS_CERT", "GATEWAY_TLS_KEY", "GATEWAY_REDIRECT_HTTPS",
    "GATEWAY_HSTS_MAX_AGE", "GATEWAY_ACME_DOMAINS", "GATEWAY_ACME_CONTACT",
    "GATEWAY_ACME_DIRECTORY", "GATEWAY_ACME_STORAGE",
}
SERVICE_DNS = f"{RELEASE}-gateway.shop.svc"


@pytest.fixture(scope="module")
def files_release(render_with):
    return render_with(load_value_set("https-existing-secret"))


@pytest.fixture(scope="module")
def acme_release(render_with):
    return render_with(load_value_set("https-acme"))


def _pod(rel):
    return rel.deployment("gateway")["spec"]["template"]["spec"]


def _container(rel):
    (c,) = _pod(rel)["containers"]
    return c


def _tls_env(rel):
    """The HTTPS variables of the gateway's ConfigMap."""
    env = rel.config_env("gateway")
    return {k: env[k] for k in TLS_ENV & set(env)}


def _test_pod(rel):
    (pod,) = rel.of_kind("Pod")
    return pod


# --- off by default -------------------------------------------------------------


def test_https_is_off_by_default(default_release):
    assert not TLS_ENV & set(default_release.config_env("gateway"))
    assert "https" not in [p["name"] for p in _container(default_release)["ports"]]
    assert "sysctls" not in _pod(default_release)["securityContext"]
    assert not default_release.of_kind("PersistentVolumeClaim")
    assert _container(default_release)["image"].startswith("shop-gateway:")
    assert _test_pod(default_release)["spec"]["containers"][0]["image"] == "busybox:1.36.1"


# --- certificate from a Secret ------------------------------------------------------


def test_tls_from_a_secret_sets_the_listener_files_redirect_and_hsts(files_release):
    assert _tls_env(files_release) == {
        "GATEWAY_TLS_LISTEN": "0.0.0.0:443",
        "GATEWAY_TLS_CERT": "/etc/gateway-tls/tls.crt",
        "GATEWAY_TLS_KEY": "/etc/gateway-tls/tls.key",
        "GATEWAY_REDIRECT_HTTPS": "true",
        "GATEWAY_HSTS_MAX_AGE": "8760h",
    }


def test_the_secret_is_mounted_as_a_directory_never_subpath(files_release):
    c = _container(files_release)
    (mount,) = [m for m in c["volumeMounts"] if m["name"] == "tls"]
    assert mount == {"name": "tls", "mountPath": "/etc/gateway-tls", "readOnly": True}
    assert not [m for m in c["volumeMounts"] if "subPath" in m or "subPathExpr" in m]
    (volume,) = [v for v in _pod(files_release)["volumes"] if v["name"] == "tls"]
    assert volume == {"name": "tls", "secret": {"secretName": "shop-tls"}}
    # Not inside the read-only route-table mount at /etc/gateway.
    assert not mount["mountPath"].startswith("/etc/gateway/")


def test_the_non_root_gateway_binds_443_through_the_unprivileged_port_sysctl(files_release):
    assert {"name": "https", "containerPort": 443, "protocol": "TCP"} in _container(files_release)["ports"]
    sc = _pod(files_release)["securityContext"]
    assert sc["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "443"}]
    assert sc["runAsUser"] == 10001
    assert _container(files_release)["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_the_settings_roll_the_pods(files_release, default_release):
    def checksum(rel):
        return rel.deployment("gateway")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    assert checksum(files_release) != checksum(default_release)


def test_the_network_policy_admits_https_beside_http(files_release):
    policy = files_release.get("NetworkPolicy", f"{RELEASE}-gateway")
    assert policy["spec"]["ingress"][0]["ports"] == [
        {"port": "http", "protocol": "TCP"},
        {"port": "https", "protocol": "TCP"},
    ]


def test_without_tls_the_network_policy_admits_only_http(render_with):
    policy = render_with({"networkPolicy": {"enabled": True}}).get("NetworkPolicy", f"{RELEASE}-gateway")
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_a_secret_without_redirect_or_hsts_sets_neither(render_with):
    env = render_with({"gateway": {"tls": {"enabled": True, "existingSecret": "shop-tls"}}}).config_env("gateway")
    assert env["GATEWAY_REDIRECT_HTTPS"] == "false"
    assert "GATEWAY_HSTS_MAX_AGE" not in env
    assert not {k for k in env if k.startswith("GATEWAY_ACME_")}


# --- ACME ---------------------------------------------------------------------------


def test_acme_sets_domains_contact_directory_and_storage(acme_release):
    assert _tls_env(acme_release) == {
        "GATEWAY_TLS_LISTEN": "0.0.0.0:443",
        "GATEWAY_REDIRECT_HTTPS": "false",
        "GATEWAY_ACME_DOMAINS": "shop.example.com,www.shop.example.com",
        "GATEWAY_ACME_CONTACT": "ops@shop.example.com",
        "GATEWAY_ACME_DIRECTORY": "https://acme-staging-v02.api.letsencrypt.org/directory",
        "GATEWAY_ACME_STORAGE": "/var/lib/gateway/acme",
    }


def test_acme_without_contact_or_directory_leaves_them_to_the_gateway(render_with):
    rel = render_with({"gateway": {"tls": {"enabled": True}, "acme": {"enabled": True, "domains": ["shop.example.com"]}}})
    env = rel.config_env("gateway")
    assert "GATEWAY_ACME_CONTACT" not in env and "GATEWAY_ACME_DIRECTORY" not in env
    assert env["GATEWAY_ACME_DOMAINS"] == "shop.example.com"


def test_acme_state_lives_on_a_claim_kept_across_uninstalls(acme_release):
    pvc = acme_release.get("PersistentVolumeClaim", f"{RELEASE}-gateway-acme")
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert pvc["spec"] == {
        "accessModes": ["ReadWriteMany"],
        "storageClassName": "nfs-client",
        "resources": {"requests": {"storage": "128Mi"}},
    }
    (mount,) = [m for m in _container(acme_release)["volumeMounts"] if m["name"] == "acme"]
    assert mount == {"name": "acme", "mountPath": "/var/lib/gateway/acme"}
    (volume,) = [v for v in _pod(acme_release)["volumes"] if v["name"] == "acme"]
    assert volume["persistentVolumeClaim"] == {"claimName": f"{RELEASE}-gateway-acme"}
    # The non-root gateway writes there through the pod's fsGroup.
    assert _pod(acme_release)["securityContext"]["fsGroup"] == 10001


def test_the_default_claim_uses_the_default_storage_class(render_with):
    rel = render_with({"gateway": {"tls": {"enabled": True}, "acme": {"enabled": True, "domains": ["shop.example.com"]}}})
    spec = rel.get("PersistentVolumeClaim", f"{RELEASE}-gateway-acme")["spec"]
    assert "storageClassName" not in spec
    assert spec["accessModes"] == ["ReadWriteOnce"] and spec["resources"]["requests"]["storage"] == "64Mi"


def test_a_read_write_once_claim_keeps_every_gateway_pod_on_one_node(render_with):
    rel = render_with({"gateway": {"tls": {"enabled": True}, "acme": {"enabled": True, "domains": ["shop.example.com"]}}})
    affinity = _pod(rel)["affinity"]
    assert "podAntiAffinity" not in affinity
    (term,) = affinity["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == rel.deployment("gateway")["spec"]["selector"]["matchLabels"]
    # users and products keep the soft spread.
    assert "podAntiAffinity" in rel.deployment("users")["spec"]["template"]["spec"]["affinity"]


def test_a_read_write_many_claim_lets_the_gateway_pods_spread(acme_release):
    affinity = _pod(acme_release)["affinity"]
    assert "podAffinity" not in affinity and "podAntiAffinity" in affinity


def test_the_gateways_own_affinity_wins_over_the_single_node_rule(render_with):
    own = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "edge", "operator": "Exists"}]}]}}}
    rel = render_with({"gateway": {"affinity": own, "tls": {"enabled": True}, "acme": {"enabled": True, "domains": ["shop.example.com"]}}})
    assert _pod(rel)["affinity"] == own


def test_acme_with_a_secret_mounts_both(render_with):
    rel = render_with({"gateway": {"tls": {"enabled": True, "existingSecret": "shop-tls"}, "acme": {"enabled": True, "domains": ["api.example.com"]}}})
    env = rel.config_env("gateway")
    assert env["GATEWAY_TLS_CERT"] == "/etc/gateway-tls/tls.crt" and env["GATEWAY_ACME_DOMAINS"] == "api.example.com"
    assert {"tls", "acme"} <= {m["name"] for m in _container(rel)["volumeMounts"]}


def test_a_load_balancer_gets_the_https_node_port(acme_release):
    ports = acme_release.get("Service", f"{RELEASE}-gateway")["spec"]["ports"]
    assert [(p["name"], p["port"], p.get("nodePort")) for p in ports] == [("http", 80, 30080), ("https", 443, 30443)]


# --- helm test ------------------------------------------------------------------------


def test_helm_test_checks_https_with_the_test_ca_and_the_redirect(files_release):
    pod = _test_pod(files_release)
    (c,) = pod["spec"]["containers"]
    assert c["image"] == "curlimages/curl:8.11.1"
    script = c["args"][0]
    assert f'--cacert /ca/ca.crt --connect-to "shop.example.com:443:{SERVICE_DNS}:443" "https://shop.example.com$path"' in script
    for path in ("/users/health", "/products/health", "/products/"):
        assert path in script
    assert 'want="308 https://shop.example.com/users/health"' in script
    assert f'-H "Host: shop.example.com" "http://{SERVICE_DNS}:80/users/health"' in script
    assert c["volumeMounts"] == [{"name": "ca", "mountPath": "/ca", "readOnly": True}]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True


def test_helm_test_ca_from_values_goes_into_a_test_only_secret(files_release):
    secret = files_release.get("Secret", f"{RELEASE}-helm-test-ca")
    assert secret["metadata"]["annotations"]["helm.sh/hook"] == "test"
    ca = load_value_set("https-existing-secret")["helmTest"]["tls"]["caCert"]
    assert secret["stringData"]["ca.crt"].strip() == ca.strip()
    (volume,) = _test_pod(files_release)["spec"]["volumes"]
    assert volume["secret"]["secretName"] == f"{RELEASE}-helm-test-ca"


def test_helm_test_with_acme_asks_for_the_first_domain_and_trusts_an_existing_secret(acme_release):
    (c,) = _test_pod(acme_release)["spec"]["containers"]
    script = c["args"][0]
    assert f'--connect-to "shop.example.com:443:{SERVICE_DNS}:443"' in script
    assert "308" not in script, "no redirect: plain HTTP must answer 200"
    assert f'"http://{SERVICE_DNS}:80$path"' in script
    (volume,) = _test_pod(acme_release)["spec"]["volumes"]
    assert volume["secret"]["secretName"] == "staging-roots"
    assert not acme_release.has("Secret", f"{RELEASE}-helm-test-ca")


def test_helm_test_without_a_ca_trusts_public_roots_and_defaults_to_the_service_name(render_with):
    rel = render_with({"gateway": {"tls": {"enabled": True, "existingSecret": "shop-tls"}}})
    pod = _test_pod(rel)
    script = pod["spec"]["containers"][0]["args"][0]
    assert "--cacert" not in script
    assert f'--connect-to "{SERVICE_DNS}:443:{SERVICE_DNS}:443" "https://{SERVICE_DNS}$path"' in script
    assert "volumes" not in pod["spec"]


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gateway": {"tls": {"enabled": True}}}, "gateway.tls.enabled needs a certificate: set gateway.tls.existingSecret"),
        ({"gateway": {"acme": {"enabled": True, "domains": ["shop.example.com"]}}}, "gateway.acme.enabled needs gateway.tls.enabled=true"),
        ({"gateway": {"tls": {"existingSecret": "shop-tls"}}}, "gateway.tls.existingSecret is set but gateway.tls.enabled is false"),
        ({"gateway": {"tls": {"redirectHttps": True}}}, "gateway.tls.redirectHttps and gateway.tls.hstsMaxAge need gateway.tls.enabled=true"),
        ({"gateway": {"tls": {"hstsMaxAge": "1h"}}}, "gateway.tls.redirectHttps and gateway.tls.hstsMaxAge need gateway.tls.enabled=true"),
        ({"gateway": {"config": {"GATEWAY_TLS_LISTEN": "0.0.0.0:8443"}}}, "gateway.config.GATEWAY_TLS_LISTEN is set by the chart"),
        ({"gateway": {"config": {"GATEWAY_ACME_STORAGE": "/tmp"}}}, "gateway.config.GATEWAY_ACME_STORAGE is set by the chart"),
        ({"gateway": {"secretEnv": {"GATEWAY_TLS_KEY": "/k"}}}, "gateway.secretEnv.GATEWAY_TLS_KEY is set by the chart"),
    ],
)
def test_settings_that_do_not_fit_together_are_refused(render_with, values, message):
    with pytest.raises(helm.HelmRenderError, match=message.replace(".", r"\.")):
        render_with(values)


def _refusal(chart, values):
    with pytest.raises(helm.HelmValuesError) as refused:
        chart.validate_schema(values)
    return str(refused.value)


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"gateway": {"tls": {"enabled": "yes"}}}, "/gateway/tls/enabled"),
        ({"gateway": {"tls": {"existingSecret": "Shop_TLS"}}}, "/gateway/tls/existingSecret"),
        ({"gateway": {"tls": {"redirectHttps": "true"}}}, "/gateway/tls/redirectHttps"),
        ({"gateway": {"tls": {"hstsMaxAge": "1 year"}}}, "/gateway/tls/hstsMaxAge"),
        ({"gateway": {"tls": {"certificate": "x"}}}, "/gateway/tls"),
        ({"gateway": {"acme": {"enabled": True}}}, "/gateway/acme/domains"),
        ({"gateway": {"acme": {"domains": ["*.example.com"]}}}, "/gateway/acme/domains/0"),
        ({"gateway": {"acme": {"domains": ["Shop.Example.com"]}}}, "/gateway/acme/domains/0"),
        ({"gateway": {"acme": {"domains": ["a.example.com", "a.example.com"]}}}, "/gateway/acme/domains"),
        ({"gateway": {"acme": {"contact": ["ops"]}}}, "/gateway/acme/contact/0"),
        ({"gateway": {"acme": {"directory": "http://acme.example.com/dir"}}}, "/gateway/acme/directory"),
        ({"gateway": {"acme": {"storage": {"size": "lots"}}}}, "/gateway/acme/storage/size"),
        ({"gateway": {"acme": {"storage": {"accessModes": []}}}}, "/gateway/acme/storage/accessModes"),
        ({"gateway": {"acme": {"storage": {"accessModes": ["ReadWriteOncePod"]}}}}, "/gateway/acme/storage/accessModes/0"),
        ({"gateway": {"acme": {"storage": {"storageClass": "fast"}}}}, "/gateway/acme/storage"),
        ({"gateway": {"acme": {"storage": {"storageClassName": 5}}}}, "/gateway/acme/storage/storageClassName"),
        ({"gateway": {"acme": {"contact": "ops@example.com"}}}, "/gateway/acme/contact"),
        ({"helmTest": {"tls": {"image": {"pullPolicy": "Sometimes"}}}}, "/helmTest/tls/image/pullPolicy"),
        ({"gateway": {"service": {"httpsNodePort": 0}}}, "/gateway/service/httpsNodePort"),
        ({"helmTest": {"tls": {"image": {"tag": "latest"}}}}, "/helmTest/tls/image/tag"),
        ({"helmTest": {"tls": {"serverName": "https://shop.example.com"}}}, "/helmTest/tls/serverName"),
        ({"helmTest": {"tls": {"caSecret": "CA!"}}}, "/helmTest/tls/caSecret"),
        ({"helmTest": {"tls": {"caCert": "not a certificate"}}}, "/helmTest/tls/caCert"),
    ],
)
def test_bad_https_values_are_refused_naming_the_key(chart, values, where):
    assert f"at '{where}'" in _refusal(chart, values)


def test_the_https_value_sets_are_accepted(chart):
    for name in ("https-existing-secret", "https-acme"):
        chart.validate_schema(load_value_set(name))


# --- NOTES ------------------------------------------------------------------------------


def test_notes_tell_where_the_certificate_comes_from_and_how_to_try_https(files_release, acme_release, default_release):
    assert "kubectl create secret tls shop-tls --namespace shop" in files_release.notes
    assert "plain HTTP\nanswers 308" in files_release.notes
    assert "curl --connect-to shop.example.com:443:localhost:8443 https://shop.example.com/users/health" in files_release.notes
    assert "ordered from https://acme-staging-v02.api.letsencrypt.org/directory" in acme_release.notes
    assert "for shop.example.com, www.shop.example.com" in acme_release.notes
    assert "claim shop-gateway-acme, kept on uninstall" in acme_release.notes
    assert "HTTPS" not in default_release.notes


def test_notes_say_a_read_write_once_claim_pins_the_gateway_to_one_node(render_with):
    rel = render_with({"gateway": {"tls": {"enabled": True}, "acme": {"enabled": True, "domains": ["a.example.com"]}}})
    assert "ordered from Let's Encrypt production" in rel.notes
    assert "every gateway pod runs on one node" in rel.notes
