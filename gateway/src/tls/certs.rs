//! One certificate/key pair: loaded from PEM (files or ACME storage),
//! checked (the key matches the leaf, the leaf has not expired) and
//! described (names, expiry) for `/config`, `gateway check` and metrics.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;

/// A usable pair: what rustls serves and what operators are shown.
#[derive(Clone)]
pub(crate) struct Certificate {
    /// Chain and signing key.
    pub(crate) key: Arc<CertifiedKey>,
    /// Names and validity.
    pub(crate) info: CertInfo,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Certificate")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// What `/config` and `gateway check` show of a certificate (never the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CertInfo {
    /// Where it came from: the certificate file, or `acme`.
    pub(crate) source: String,
    /// The DNS names it is valid for (subject alternative names; the
    /// subject's common name when it has none).
    pub(crate) names: Vec<String>,
    /// Start of validity, seconds since the Unix epoch.
    pub(crate) not_before: i64,
    /// End of validity, seconds since the Unix epoch.
    pub(crate) not_after: i64,
}

impl CertInfo {
    /// The name metrics label it with: its first DNS name.
    pub(crate) fn label(&self) -> &str {
        self.names.first().map_or("-", String::as_str)
    }

    /// Whole days from `now` (Unix seconds) until expiry (negative once expired).
    pub(crate) fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }

    /// Whether `name` (lower-case) is covered by one of its names
    /// (`*.example.com` covers `a.example.com`, not `a.b.example.com`).
    pub(crate) fn covers(&self, name: &str) -> bool {
        self.names.iter().any(|n| {
            n == name
                || n.strip_prefix("*.").is_some_and(|suffix| {
                    name.split_once('.')
                        .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix)
                })
        })
    }
}

/// Why a pair cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CertError {
    /// A file cannot be read.
    #[error("cannot read {file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        message: String,
    },
    /// The PEM text holds no usable item.
    #[error("{what}: {message}")]
    Pem {
        /// Which file (or `certificate` / `key`).
        what: String,
        /// What is wrong.
        message: String,
    },
    /// The key is not one of the supported kinds, or does not match.
    #[error("{0}")]
    Key(String),
    /// The leaf's validity period is over.
    #[error("the certificate expired {days} day(s) ago")]
    Expired {
        /// Days since expiry.
        days: i64,
    },
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Load the pair in `cert` and `key` (PEM files).
pub(crate) fn load_pair(cert: &Path, key: &Path) -> Result<Certificate, CertError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| CertError::Read {
            file: path.display().to_string(),
            message: e.to_string(),
        })
    };
    let (cert_pem, key_pem) = (read(cert)?, read(key)?);
    from_pem(
        &cert_pem,
        &key_pem,
        &cert.display().to_string(),
        &key.display().to_string(),
    )
}

/// A pair from PEM text; `cert_name` and `key_name` name them in refusals,
/// and `cert_name` is the certificate's `source`.
pub(crate) fn from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
    cert_name: &str,
    key_name: &str,
) -> Result<Certificate, CertError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Pem {
            what: cert_name.to_string(),
            message: format!("not a PEM certificate chain ({e})"),
        })?;
    let Some(leaf) = chain.first() else {
        return Err(CertError::Pem {
            what: cert_name.to_string(),
            message: "no CERTIFICATE block".to_string(),
        });
    };
    let info = describe(leaf, cert_name)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| CertError::Pem {
        what: key_name.to_string(),
        message: format!("no private key found ({e})"),
    })?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| {
        CertError::Key(format!(
            "{key_name}: the key is not a supported RSA, ECDSA or Ed25519 key ({e})"
        ))
    })?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|_| {
        CertError::Key(format!(
            "{key_name}: the key does not match the certificate {cert_name}"
        ))
    })?;
    let now = unix_now();
    if info.not_after < now {
        return Err(CertError::Expired {
            days: (now - info.not_after) / 86_400,
        });
    }
    Ok(Certificate {
        key: Arc::new(certified),
        info,
    })
}

/// The names and validity of `leaf`.
fn describe(leaf: &CertificateDer<'_>, source: &str) -> Result<CertInfo, CertError> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).map_err(|e| CertError::Pem {
        what: source.to_string(),
        message: format!("the certificate cannot be parsed ({e})"),
    })?;
    let mut names: Vec<String> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                names.push(dns.to_ascii_lowercase());
            } else if let GeneralName::IPAddress(ip) = name {
                let ip: Option<std::net::IpAddr> = match ip.len() {
                    4 => <[u8; 4]>::try_from(*ip).ok().map(Into::into),
                    16 => <[u8; 16]>::try_from(*ip).ok().map(Into::into),
                    _ => None,
                };
                names.extend(ip.map(|ip| ip.to_string()));
            }
        }
    }
    if names.is_empty()
        && let Some(cn) = cert.subject().iter_common_name().next()
        && let Ok(cn) = cn.as_str()
    {
        names.push(cn.to_ascii_lowercase());
    }
    let validity = cert.validity();
    Ok(CertInfo {
        source: source.to_string(),
        names,
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(names: &[&str]) -> CertInfo {
        CertInfo {
            source: "t".into(),
            names: names.iter().map(|n| (*n).to_string()).collect(),
            not_before: 0,
            not_after: 86_400 * 10,
        }
    }

    #[test]
    fn a_wildcard_covers_exactly_one_label() {
        let c = info(&["*.example.com", "example.com"]);
        assert!(c.covers("a.example.com"));
        assert!(c.covers("example.com"));
        assert!(!c.covers("a.b.example.com"));
        assert!(!c.covers("example.org"));
        assert_eq!(c.days_left(86_400 * 3 + 5), 6);
    }

    #[test]
    fn a_pair_made_by_rcgen_loads_and_a_foreign_key_is_refused() {
        let a = rcgen::generate_simple_self_signed(vec!["a.test".to_string()]).expect("cert");
        let b = rcgen::generate_simple_self_signed(vec!["b.test".to_string()]).expect("cert");
        let cert = a.cert.pem();
        let loaded = from_pem(
            cert.as_bytes(),
            a.signing_key.serialize_pem().as_bytes(),
            "a",
            "k",
        )
        .expect("loads");
        assert_eq!(loaded.info.names, ["a.test"]);
        let refused = from_pem(
            cert.as_bytes(),
            b.signing_key.serialize_pem().as_bytes(),
            "a",
            "k",
        )
        .expect_err("foreign key");
        assert!(refused.to_string().contains("does not match"), "{refused}");
        let mut params =
            rcgen::CertificateParams::new(vec!["old.test".to_string()]).expect("params");
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        let key = rcgen::KeyPair::generate().expect("key");
        let old = params.self_signed(&key).expect("cert");
        let expired = from_pem(
            old.pem().as_bytes(),
            key.serialize_pem().as_bytes(),
            "o",
            "k",
        )
        .expect_err("expired");
        assert!(
            matches!(expired, CertError::Expired { days } if days > 9000),
            "{expired}"
        );
        let garbage = from_pem(b"nothing", b"nothing", "a.pem", "k").expect_err("garbage");
        assert!(
            garbage.to_string().contains("a.pem: no CERTIFICATE block"),
            "{garbage}"
        );
    }
}
