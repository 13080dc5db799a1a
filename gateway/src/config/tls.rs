//! `[tls]`: the HTTPS listener, its certificate files, the redirect from
//! the plain listener and HSTS (env `GATEWAY_TLS_LISTEN`,
//! `GATEWAY_TLS_CERT`, `GATEWAY_TLS_KEY`, `GATEWAY_REDIRECT_HTTPS`,
//! `GATEWAY_HSTS_MAX_AGE`).
//!
//! Only the settings are checked here; whether the files load (readable,
//! key matching, not expired) is checked by `gateway check` and at start
//! (`crate::tls::certs`), since a file may change after validation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{Checker, ConfigError};
use super::overlay::{Env, Overrides};
use super::units::{DurationText, serialize_millis};

/// `[tls]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsSection {
    /// The HTTPS listener (`0.0.0.0:443`); no TLS when absent.
    pub(crate) listen: Option<String>,
    /// `[[tls.certificates]]`: PEM pairs; the first is the default.
    #[serde(default)]
    pub(crate) certificates: Vec<CertSection>,
    /// The plain listener answers `308` to the https URL (except ACME challenges).
    pub(crate) redirect_https: Option<bool>,
    /// `Strict-Transport-Security: max-age=...` on HTTPS responses when set.
    pub(crate) hsts_max_age: Option<DurationText>,
    /// Time a client has to complete the TLS handshake (default 10s).
    pub(crate) handshake_timeout: Option<DurationText>,
    /// TLS handshakes in progress at once; more connections are closed (default 1024).
    pub(crate) max_handshakes: Option<usize>,
    /// A handshake whose SNI names no served certificate: `default` (the
    /// default certificate, the default) or `refuse`.
    pub(crate) unknown_sni: Option<String>,
}

/// `[[tls.certificates]]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CertSection {
    /// Certificate chain (PEM), leaf first.
    pub(crate) cert: String,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub(crate) key: String,
    /// Names this pair must cover (checked against its SANs by `gateway check`).
    #[serde(default)]
    pub(crate) names: Vec<String>,
}

/// The validated `[tls]` section: present only when the listener is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TlsConfig {
    /// The HTTPS listener.
    pub(crate) listen: SocketAddr,
    /// Certificate files; the first is served when SNI names no other.
    pub(crate) certificates: Vec<CertPaths>,
    /// Answer `308` to https on the plain listener.
    pub(crate) redirect_https: bool,
    /// HSTS max-age, when on.
    #[serde(serialize_with = "serialize_hsts")]
    pub(crate) hsts_max_age: Option<Duration>,
    /// TLS handshake deadline.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) handshake_timeout: Duration,
    /// Handshakes in progress at once.
    pub(crate) max_handshakes: usize,
    /// What a handshake gets whose SNI names no served certificate.
    pub(crate) unknown_sni: UnknownSni,
}

/// `tls.unknown_sni`: what a client gets whose SNI (or lack of one) names
/// no certificate being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum UnknownSni {
    /// The default certificate (the first file pair, else ACME's): clients
    /// without SNI (an IP address in the URL, old clients, probes) still
    /// connect.
    #[default]
    Default,
    /// The handshake fails (an alert, no certificate shown).
    Refuse,
}

/// One certificate/key pair's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CertPaths {
    /// Certificate chain (PEM).
    pub(crate) cert: PathBuf,
    /// Private key (PEM); its path is shown by `/config`, never its contents.
    pub(crate) key: PathBuf,
    /// Names the certificate must cover.
    pub(crate) names: Vec<String>,
}

/// Most TLS handshakes in progress a gateway may allow.
const MAX_HANDSHAKES: usize = 1_000_000;

/// Validate `[tls]` with its environment variables. `acme` says whether
/// ACME provides certificates (then no file pair is needed).
pub(super) fn validate(
    c: &Checker<'_>,
    section: &TlsSection,
    env: Env<'_>,
    overrides: &Overrides,
    acme: bool,
) -> Result<Option<TlsConfig>, ConfigError> {
    let mut listen = match &section.listen {
        None => None,
        Some(_) => Some(c.addr(
            "tls.listen",
            &section.listen,
            SocketAddr::from(([0; 4], 443)),
        )?),
    };
    if let Some(v) = env.get("GATEWAY_TLS_LISTEN") {
        listen = Some(v.trim().parse().map_err(|_| {
            Checker::env_err(
                "GATEWAY_TLS_LISTEN",
                format!("`{v}` is not an address (expected e.g. 0.0.0.0:443)"),
            )
        })?);
    }
    let mut certificates = section
        .certificates
        .iter()
        .enumerate()
        .map(|(i, pair)| cert_paths(c, i, pair))
        .collect::<Result<Vec<_>, _>>()?;
    match (env.get("GATEWAY_TLS_CERT"), env.get("GATEWAY_TLS_KEY")) {
        (Some(cert), Some(key)) => {
            set_default(
                &mut certificates,
                PathBuf::from(cert.trim()),
                PathBuf::from(key.trim()),
            );
        }
        (Some(_), None) => {
            return Err(Checker::env_err(
                "GATEWAY_TLS_KEY",
                "must be set together with GATEWAY_TLS_CERT",
            ));
        }
        (None, Some(_)) => {
            return Err(Checker::env_err(
                "GATEWAY_TLS_CERT",
                "must be set together with GATEWAY_TLS_KEY",
            ));
        }
        (None, None) => {}
    }
    if let Some(o) = &overrides.tls {
        listen = Some(o.listen);
        set_default(&mut certificates, o.cert.clone(), o.key.clone());
    }
    let mut redirect_https = section.redirect_https.unwrap_or(false);
    if let Some(v) = env.get("GATEWAY_REDIRECT_HTTPS") {
        redirect_https = env_bool("GATEWAY_REDIRECT_HTTPS", &v)?;
    }
    let mut hsts_max_age = match &section.hsts_max_age {
        None => None,
        Some(v) => Some(v.parse().map_err(|p| c.err("tls.hsts_max_age", p))?),
    };
    if let Some(v) = env.get("GATEWAY_HSTS_MAX_AGE") {
        hsts_max_age = Some(
            DurationText::Text(v.clone())
                .parse()
                .map_err(|p| Checker::env_err("GATEWAY_HSTS_MAX_AGE", p))?,
        );
    }
    let handshake_timeout = c.duration(
        "tls.handshake_timeout",
        &section.handshake_timeout,
        Duration::from_secs(10),
    )?;
    if handshake_timeout.is_zero() {
        return Err(c.err("tls.handshake_timeout", "must be greater than zero"));
    }
    let max_handshakes = section.max_handshakes.unwrap_or(1024);
    if max_handshakes == 0 || max_handshakes > MAX_HANDSHAKES {
        return Err(c.err(
            "tls.max_handshakes",
            format!("must be between 1 and {MAX_HANDSHAKES}"),
        ));
    }
    let unknown_sni = match section.unknown_sni.as_deref().map(str::trim) {
        None | Some("default") => UnknownSni::Default,
        Some("refuse") => UnknownSni::Refuse,
        Some(other) => {
            return Err(c.err(
                "tls.unknown_sni",
                format!("`{other}` is not `default` or `refuse`"),
            ));
        }
    };
    let Some(listen) = listen else {
        if redirect_https {
            return Err(c.err(
                "tls.redirect_https",
                "needs the HTTPS listener (tls.listen / GATEWAY_TLS_LISTEN)",
            ));
        }
        if !certificates.is_empty() {
            return Err(c.err(
                "tls.certificates",
                "certificates are set but the HTTPS listener is not (tls.listen / GATEWAY_TLS_LISTEN)",
            ));
        }
        return Ok(None);
    };
    if certificates.is_empty() && !acme {
        return Err(c.err(
            "tls.certificates",
            "the HTTPS listener needs a certificate: [[tls.certificates]], GATEWAY_TLS_CERT/GATEWAY_TLS_KEY, or [acme] domains",
        ));
    }
    Ok(Some(TlsConfig {
        listen,
        certificates,
        redirect_https,
        hsts_max_age,
        handshake_timeout,
        max_handshakes,
        unknown_sni,
    }))
}

/// Make `cert`/`key` the default (first) pair: an override of the file's.
fn set_default(certificates: &mut Vec<CertPaths>, cert: PathBuf, key: PathBuf) {
    let pair = CertPaths {
        cert,
        key,
        names: Vec::new(),
    };
    if certificates.is_empty() {
        certificates.push(pair);
    } else {
        certificates[0] = pair;
    }
}

fn cert_paths(c: &Checker<'_>, i: usize, pair: &CertSection) -> Result<CertPaths, ConfigError> {
    if pair.cert.trim().is_empty() {
        return Err(c.err(format!("tls.certificates[{i}].cert"), "must not be empty"));
    }
    if pair.key.trim().is_empty() {
        return Err(c.err(format!("tls.certificates[{i}].key"), "must not be empty"));
    }
    for name in &pair.names {
        if !is_dns_name(name) {
            return Err(c.err(
                format!("tls.certificates[{i}].names"),
                format!("`{name}` is not a DNS name"),
            ));
        }
    }
    Ok(CertPaths {
        cert: PathBuf::from(pair.cert.trim()),
        key: PathBuf::from(pair.key.trim()),
        names: pair.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
    })
}

/// A host name (letters, digits, `-`, dots; a leading `*.` allowed).
pub(super) fn is_dns_name(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty() && name.len() <= 253 && name.split('.').all(common::host::is_dns_label)
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, any case).
pub(super) fn env_bool(var: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Checker::env_err(
            var,
            format!("`{value}` is not `true` or `false`"),
        )),
    }
}

fn serialize_hsts<S: serde::Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}
