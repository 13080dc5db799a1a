//! `[acme]`: automatic certificates (RFC 8555) for the HTTPS listener
//! (env `GATEWAY_ACME_DIRECTORY`, `GATEWAY_ACME_DOMAINS`,
//! `GATEWAY_ACME_CONTACT`, `GATEWAY_ACME_STORAGE`, `GATEWAY_ACME_CA_FILE`).
//! On when `domains` is not empty.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{Checker, ConfigError};
use super::overlay::Env;
use super::tls::is_dns_name;
use super::units::{DurationText, serialize_millis};

/// Let's Encrypt's production directory, the default.
pub(crate) const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// `[acme]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcmeSection {
    /// The ACME server's directory URL (default Let's Encrypt production).
    pub(crate) directory: Option<String>,
    /// Names the certificate is for (one certificate covering all).
    #[serde(default)]
    pub(crate) domains: Vec<String>,
    /// Contact addresses (`ops@example.com` or `mailto:ops@example.com`).
    #[serde(default)]
    pub(crate) contact: Vec<String>,
    /// Directory holding the account key and certificates.
    pub(crate) storage: Option<String>,
    /// An extra root (PEM) trusted for the ACME server's own HTTPS.
    pub(crate) ca_file: Option<String>,
    /// First wait after a failed order; doubled on each failure up to 6h (default 1m).
    pub(crate) retry_initial: Option<DurationText>,
}

/// The validated `[acme]` section: present only when domains are named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AcmeConfig {
    /// Directory URL.
    pub(crate) directory: String,
    /// Names, lower-cased.
    pub(crate) domains: Vec<String>,
    /// `mailto:` URLs.
    pub(crate) contact: Vec<String>,
    /// Storage directory.
    pub(crate) storage: PathBuf,
    /// Extra trusted root for the directory's HTTPS.
    pub(crate) ca_file: Option<PathBuf>,
    /// First retry wait.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) retry_initial: Duration,
}

/// Validate `[acme]` with its environment variables.
pub(super) fn validate(
    c: &Checker<'_>,
    section: &AcmeSection,
    env: Env<'_>,
) -> Result<Option<AcmeConfig>, ConfigError> {
    let mut domains: Vec<(String, String)> = section
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("acme.domains[{i}]"), d.clone()))
        .collect();
    if let Some(v) = env.get("GATEWAY_ACME_DOMAINS") {
        domains = list(&v)
            .map(|d| ("GATEWAY_ACME_DOMAINS".to_string(), d))
            .collect();
    }
    // A refusal names the variable when the value came from one.
    let refuse = |key: &str, problem: String| {
        if key.starts_with("GATEWAY_") {
            Checker::env_err(key, problem)
        } else {
            c.err(key, problem)
        }
    };
    let mut names = Vec::new();
    for (key, domain) in &domains {
        let domain = domain.trim().to_ascii_lowercase();
        // HTTP-01 cannot prove a wildcard.
        if domain.starts_with("*.") || !is_dns_name(&domain) {
            return Err(refuse(
                key,
                format!(
                    "`{domain}` is not a DNS name (wildcards need DNS-01, which is not supported)"
                ),
            ));
        }
        if !names.contains(&domain) {
            names.push(domain);
        }
    }
    let mut directory = section
        .directory
        .clone()
        .unwrap_or_else(|| LETS_ENCRYPT.to_string());
    let mut directory_key = "acme.directory";
    if let Some(v) = env.get("GATEWAY_ACME_DIRECTORY") {
        directory = v.trim().to_string();
        directory_key = "GATEWAY_ACME_DIRECTORY";
    }
    let mut contact: Vec<String> = section.contact.clone();
    let mut contact_key = "acme.contact";
    if let Some(v) = env.get("GATEWAY_ACME_CONTACT") {
        contact = list(&v).collect();
        contact_key = "GATEWAY_ACME_CONTACT";
    }
    let mut storage = section.storage.clone().map(PathBuf::from);
    if let Some(v) = env.get("GATEWAY_ACME_STORAGE") {
        storage = Some(PathBuf::from(v.trim()));
    }
    let mut ca_file = section.ca_file.clone().map(PathBuf::from);
    if let Some(v) = env.get("GATEWAY_ACME_CA_FILE") {
        ca_file = Some(PathBuf::from(v.trim()));
    }
    let retry_initial = c.duration(
        "acme.retry_initial",
        &section.retry_initial,
        Duration::from_secs(60),
    )?;
    if names.is_empty() {
        return Ok(None);
    }
    if !directory.starts_with("https://") {
        return Err(refuse(
            directory_key,
            format!("`{directory}` is not an https:// URL"),
        ));
    }
    let contact = contact
        .iter()
        .map(|a| mailto(a.trim()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            refuse(
                contact_key,
                "each contact must be an e-mail address".to_string(),
            )
        })?;
    let Some(storage) = storage.filter(|s| !s.as_os_str().is_empty()) else {
        return Err(c.err(
            "acme.storage",
            "a storage directory is required with acme.domains (GATEWAY_ACME_STORAGE)",
        ));
    };
    if retry_initial.is_zero() {
        return Err(c.err("acme.retry_initial", "must be greater than zero"));
    }
    Ok(Some(AcmeConfig {
        directory,
        domains: names,
        contact,
        storage,
        ca_file,
        retry_initial,
    }))
}

/// The comma-separated items of `value`, trimmed, empty ones skipped.
fn list(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// `ops@example.com` -> `mailto:ops@example.com`; `None` when not an address.
fn mailto(address: &str) -> Option<String> {
    let bare = address.strip_prefix("mailto:").unwrap_or(address);
    let (user, domain) = bare.split_once('@')?;
    let ok = !user.is_empty()
        && is_dns_name(domain)
        && !bare
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',');
    ok.then(|| format!("mailto:{bare}"))
}
