//! `[tls]` and `[acme]`.

use std::path::PathBuf;
use std::time::Duration;

use super::*;

const PAIR: &str = "[[tls.certificates]]\ncert = \"/c.pem\"\nkey = \"/k.pem\"\n";

#[test]
fn without_a_listener_there_is_no_tls() {
    let config = accepted(GOOD);
    assert!(config.tls.is_none());
    assert!(config.acme.is_none());
}

#[test]
fn the_listener_with_a_pair_and_its_defaults() {
    let config = accepted(&format!("[tls]\nlisten = \"0.0.0.0:443\"\n{PAIR}{GOOD}"));
    let tls = config.tls.expect("tls");
    assert_eq!(tls.listen.port(), 443);
    assert_eq!(tls.certificates[0].cert, PathBuf::from("/c.pem"));
    assert!(!tls.redirect_https);
    assert_eq!(tls.hsts_max_age, None);
    assert_eq!(tls.handshake_timeout, Duration::from_secs(10));
    assert_eq!(tls.max_handshakes, 1024);
    assert_eq!(tls.unknown_sni, crate::config::UnknownSni::Default);
}

#[test]
fn unknown_sni_is_default_or_refuse() {
    for (value, want) in [
        ("default", crate::config::UnknownSni::Default),
        ("refuse", crate::config::UnknownSni::Refuse),
    ] {
        let config = accepted(&format!(
            "[tls]\nlisten = \"0.0.0.0:443\"\nunknown_sni = \"{value}\"\n{PAIR}{GOOD}"
        ));
        assert_eq!(config.tls.expect("tls").unknown_sni, want);
    }
    assert_refused(
        &format!("[tls]\nlisten = \"0.0.0.0:443\"\nunknown_sni = \"drop\"\n{PAIR}{GOOD}"),
        "tls.unknown_sni: `drop` is not `default` or `refuse`",
    );
}

#[test]
fn every_tls_setting_is_read_from_the_file() {
    let config = accepted(&format!(
        "[tls]\nlisten = \"127.0.0.1:8443\"\nredirect_https = true\nhsts_max_age = \"24h\"\nhandshake_timeout = \"3s\"\nmax_handshakes = 7\n{PAIR}names = [\"Shop.Test\"]\n{GOOD}"
    ));
    let tls = config.tls.expect("tls");
    assert!(tls.redirect_https);
    assert_eq!(tls.hsts_max_age, Some(Duration::from_secs(86_400)));
    assert_eq!(tls.handshake_timeout, Duration::from_secs(3));
    assert_eq!(tls.max_handshakes, 7);
    assert_eq!(tls.certificates[0].names, ["shop.test"]);
}

#[test]
fn the_environment_sets_listener_default_pair_redirect_and_hsts() {
    let config = parse_with_env(
        &format!("[tls]\nlisten = \"0.0.0.0:443\"\n{PAIR}{PAIR}{GOOD}"),
        &[
            ("GATEWAY_TLS_LISTEN", "127.0.0.1:9443"),
            ("GATEWAY_TLS_CERT", "/env/tls.crt"),
            ("GATEWAY_TLS_KEY", "/env/tls.key"),
            ("GATEWAY_REDIRECT_HTTPS", "TRUE"),
            ("GATEWAY_HSTS_MAX_AGE", "1h"),
        ],
    )
    .expect("valid");
    let tls = config.tls.expect("tls");
    assert_eq!(tls.listen.port(), 9443);
    assert_eq!(tls.certificates.len(), 2);
    assert_eq!(tls.certificates[0].cert, PathBuf::from("/env/tls.crt"));
    assert_eq!(tls.certificates[0].key, PathBuf::from("/env/tls.key"));
    assert!(tls.redirect_https);
    assert_eq!(tls.hsts_max_age, Some(Duration::from_secs(3600)));
    // The environment alone is enough.
    let config = parse_with_env(
        GOOD,
        &[
            ("GATEWAY_TLS_LISTEN", "0.0.0.0:443"),
            ("GATEWAY_TLS_CERT", "/c"),
            ("GATEWAY_TLS_KEY", "/k"),
        ],
    )
    .expect("valid");
    assert_eq!(config.tls.expect("tls").certificates.len(), 1);
}

#[test]
fn tls_refusals_name_the_key_or_variable() {
    for (text, want) in [
        (
            "[tls]\nlisten = \"443\"\n",
            "FILE: tls.listen: `443` is not an address",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n",
            "FILE: tls.certificates: the HTTPS listener needs a certificate",
        ),
        (
            "[tls]\nredirect_https = true\n",
            "FILE: tls.redirect_https: needs the HTTPS listener",
        ),
        (
            PAIR,
            "FILE: tls.certificates: certificates are set but the HTTPS listener is not",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n[[tls.certificates]]\ncert = \" \"\nkey = \"/k\"\n",
            "FILE: tls.certificates[0].cert: must not be empty",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n[[tls.certificates]]\ncert = \"/c\"\nkey = \"\"\n",
            "FILE: tls.certificates[0].key: must not be empty",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n[[tls.certificates]]\ncert = \"/c\"\nkey = \"/k\"\nnames = [\"a b\"]\n",
            "FILE: tls.certificates[0].names: `a b` is not a DNS name",
        ),
        (
            "[tls]\nhandshake_timeout = \"0s\"\n",
            "FILE: tls.handshake_timeout: must be greater than zero",
        ),
        (
            "[tls]\nhsts_max_age = \"1y\"\n",
            "FILE: tls.hsts_max_age: unknown duration unit `y`",
        ),
        (
            "[tls]\nmax_handshakes = 0\n",
            "FILE: tls.max_handshakes: must be between 1 and 1000000",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:80\"\n[[tls.certificates]]\ncert = \"/c\"\nkey = \"/k\"\n",
            "FILE: tls.listen: the HTTPS listener must differ from the others (0.0.0.0:80)",
        ),
        ("[tls]\nport = 443\n", "unknown field `port`"),
    ] {
        assert_refused(&format!("{text}{GOOD}"), want);
    }
    for (vars, want) in [
        (
            &[("GATEWAY_TLS_LISTEN", "x")][..],
            "environment: GATEWAY_TLS_LISTEN: `x` is not an address",
        ),
        (
            &[("GATEWAY_TLS_CERT", "/c")][..],
            "environment: GATEWAY_TLS_KEY: must be set together with GATEWAY_TLS_CERT",
        ),
        (
            &[("GATEWAY_TLS_KEY", "/k")][..],
            "environment: GATEWAY_TLS_CERT: must be set together with GATEWAY_TLS_KEY",
        ),
        (
            &[("GATEWAY_REDIRECT_HTTPS", "sure")][..],
            "environment: GATEWAY_REDIRECT_HTTPS: `sure` is not `true` or `false`",
        ),
        (
            &[("GATEWAY_HSTS_MAX_AGE", "long")][..],
            "environment: GATEWAY_HSTS_MAX_AGE: `long` is not a duration",
        ),
    ] {
        assert_refused_as(parse_with_env(GOOD, vars), want);
    }
}

const ACME: &str = "[tls]\nlisten = \"0.0.0.0:443\"\n[acme]\ndomains = [\"Shop.Test\", \"shop.test\", \"www.shop.test\"]\nstorage = \"/var/lib/acme\"\n";

#[test]
fn acme_with_its_defaults_needs_no_certificate_file() {
    let config = accepted(&format!("{ACME}{GOOD}"));
    let acme = config.acme.expect("acme");
    assert_eq!(acme.domains, ["shop.test", "www.shop.test"]);
    assert_eq!(
        acme.directory,
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    assert!(acme.contact.is_empty());
    assert_eq!(acme.storage, PathBuf::from("/var/lib/acme"));
    assert_eq!(acme.ca_file, None);
    assert_eq!(acme.retry_initial, Duration::from_secs(60));
    assert!(config.tls.expect("tls").certificates.is_empty());
}

#[test]
fn every_acme_setting_is_read_from_the_file_and_the_environment() {
    let config = accepted(&format!(
        "{ACME}directory = \"https://acme-staging-v02.api.letsencrypt.org/directory\"\ncontact = [\"ops@shop.test\"]\nca_file = \"/ca.pem\"\nretry_initial = \"5s\"\n{GOOD}"
    ));
    let acme = config.acme.expect("acme");
    assert!(acme.directory.contains("staging"));
    assert_eq!(acme.contact, ["mailto:ops@shop.test"]);
    assert_eq!(acme.ca_file, Some(PathBuf::from("/ca.pem")));
    assert_eq!(acme.retry_initial, Duration::from_secs(5));
    let config = parse_with_env(
        GOOD,
        &[
            ("GATEWAY_TLS_LISTEN", "0.0.0.0:443"),
            ("GATEWAY_ACME_DOMAINS", "a.test, b.test,"),
            ("GATEWAY_ACME_CONTACT", "mailto:a@x.test,b@x.test"),
            ("GATEWAY_ACME_DIRECTORY", "https://localhost:14000/dir"),
            ("GATEWAY_ACME_STORAGE", "/data/acme"),
            ("GATEWAY_ACME_CA_FILE", "/pebble.pem"),
        ],
    )
    .expect("valid");
    let acme = config.acme.expect("acme");
    assert_eq!(acme.domains, ["a.test", "b.test"]);
    assert_eq!(acme.contact, ["mailto:a@x.test", "mailto:b@x.test"]);
    assert_eq!(acme.directory, "https://localhost:14000/dir");
    assert_eq!(acme.storage, PathBuf::from("/data/acme"));
    assert_eq!(acme.ca_file, Some(PathBuf::from("/pebble.pem")));
}

#[test]
fn acme_refusals_name_the_key_or_variable() {
    for (text, want) in [
        (
            "[acme]\ndomains = [\"a.test\"]\nstorage = \"/s\"\n",
            "FILE: acme.domains: certificates need the HTTPS listener",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n[acme]\ndomains = [\"a.test\"]\n",
            "FILE: acme.storage: a storage directory is required",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n[acme]\ndomains = [\"*.a.test\"]\nstorage = \"/s\"\n",
            "FILE: acme.domains[0]: `*.a.test` is not a DNS name (wildcards need DNS-01",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n[acme]\ndomains = [\"a.test\"]\nstorage = \"/s\"\ndirectory = \"http://x/dir\"\n",
            "FILE: acme.directory: `http://x/dir` is not an https:// URL",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n[acme]\ndomains = [\"a.test\"]\nstorage = \"/s\"\ncontact = [\"nobody\"]\n",
            "FILE: acme.contact: each contact must be an e-mail address",
        ),
        (
            "[tls]\nlisten = \"0.0.0.0:443\"\n[acme]\ndomains = [\"a.test\"]\nstorage = \"/s\"\nretry_initial = 0\n",
            "FILE: acme.retry_initial: must be greater than zero",
        ),
        ("[acme]\nemail = \"x\"\n", "unknown field `email`"),
    ] {
        assert_refused(&format!("{text}{GOOD}"), want);
    }
    let tls = [
        ("GATEWAY_TLS_LISTEN", "0.0.0.0:443"),
        ("GATEWAY_ACME_STORAGE", "/s"),
    ];
    for (var, value, want) in [
        (
            "GATEWAY_ACME_DOMAINS",
            "a.test,bad name",
            "environment: GATEWAY_ACME_DOMAINS: `bad name` is not a DNS name",
        ),
        (
            "GATEWAY_ACME_DIRECTORY",
            "ftp://x",
            "environment: GATEWAY_ACME_DIRECTORY: `ftp://x` is not an https:// URL",
        ),
        (
            "GATEWAY_ACME_CONTACT",
            "ops",
            "environment: GATEWAY_ACME_CONTACT: each contact must be an e-mail address",
        ),
    ] {
        let mut vars = tls.to_vec();
        vars.push((var, value));
        if var != "GATEWAY_ACME_DOMAINS" {
            vars.push(("GATEWAY_ACME_DOMAINS", "a.test"));
        }
        assert_refused_as(parse_with_env(GOOD, &vars), want);
    }
}

#[test]
fn the_launchers_tls_override_wins_over_file_and_environment() {
    use super::super::overlay::TlsOverride;
    let overrides = Overrides {
        tls: Some(TlsOverride {
            listen: "127.0.0.1:8443".parse().expect("addr"),
            cert: PathBuf::from("/data/tls/localhost.pem"),
            key: PathBuf::from("/data/tls/localhost-key.pem"),
        }),
        ..Overrides::default()
    };
    let config = Config::parse_in(
        std::path::Path::new("FILE"),
        &format!("[tls]\nlisten = \"0.0.0.0:443\"\n{PAIR}{GOOD}"),
        &overrides,
        Env::Fixed(&[("GATEWAY_TLS_LISTEN", "0.0.0.0:9443")]),
    )
    .expect("valid");
    let tls = config.tls.expect("tls");
    assert_eq!(tls.listen.port(), 8443);
    assert_eq!(tls.certificates.len(), 1);
    assert_eq!(
        tls.certificates[0].key,
        PathBuf::from("/data/tls/localhost-key.pem")
    );
}
