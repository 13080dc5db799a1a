//! A local certificate authority for HTTPS on a developer's machine (as
//! mkcert and Caddy do): a CA key and certificate kept in a directory,
//! and leaf certificates it issues for `localhost` and friends. The
//! launcher's opt-in HTTPS mode uses it; tests use it as their PKI.
//!
//! Keys are ECDSA P-256. Nothing here is meant for production: the CA key
//! sits next to its certificate.

use std::io;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A CA that issues leaf certificates.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa").finish_non_exhaustive()
    }
}

/// A certificate and its key, both PEM.
#[derive(Debug, Clone)]
pub struct IssuedPair {
    /// The leaf certificate followed by nothing else (the CA is the root).
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

/// File names inside the CA directory.
const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca-key.pem";

impl LocalCa {
    /// A new CA named `name` (its subject's common name).
    pub fn generate(name: &str) -> Result<LocalCa, rcgen::Error> {
        let key = KeyPair::generate()?;
        let params = ca_params(name)?;
        let cert_pem = params.self_signed(&key)?.pem();
        Ok(LocalCa {
            issuer: Issuer::new(params, key),
            cert_pem,
        })
    }

    /// The CA in `dir` (`ca.pem`, `ca-key.pem`), made (and the directory
    /// created) on first use.
    pub fn load_or_create(dir: &Path, name: &str) -> io::Result<LocalCa> {
        let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
        if cert_path.exists() && key_path.exists() {
            let cert_pem = std::fs::read_to_string(&cert_path)?;
            let key = KeyPair::from_pem(&std::fs::read_to_string(&key_path)?).map_err(other)?;
            // Issuing needs the CA's subject and key only: the same name
            // gives the same subject as the stored certificate's.
            let issuer = Issuer::new(ca_params(name).map_err(other)?, key);
            return Ok(LocalCa { issuer, cert_pem });
        }
        std::fs::create_dir_all(dir)?;
        let ca = LocalCa::generate(name).map_err(other)?;
        write_private(&key_path, &ca.issuer.key().serialize_pem())?;
        std::fs::write(&cert_path, &ca.cert_pem)?;
        Ok(ca)
    }

    /// The CA certificate (PEM), what clients are told to trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid
    /// from now for `days`.
    pub fn issue(&self, names: &[&str], days: u32) -> Result<IssuedPair, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_string()).collect::<Vec<_>>())?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = std::time::SystemTime::now();
        params.not_before = (now - std::time::Duration::from_secs(3600)).into();
        params.not_after = (now + std::time::Duration::from_secs(86_400 * u64::from(days))).into();
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The CA's certificate parameters: its subject is `name`.
fn ca_params(name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// Write `pem` to `path` readable by its owner only (where that means something).
pub fn write_private(path: &Path, pem: &str) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    io::Write::write_all(&mut options.open(path)?, pem.as_bytes())
}

/// The CA of `dir` and a `localhost` certificate from it (for `localhost`,
/// `127.0.0.1` and `::1`, 90 days), written as `localhost.pem` and
/// `localhost-key.pem`; returns (CA file, certificate file, key file).
pub fn localhost_certificate(dir: &Path) -> io::Result<(PathBuf, PathBuf, PathBuf)> {
    let ca = LocalCa::load_or_create(dir, "shop local development CA")?;
    let pair = ca
        .issue(&["localhost", "127.0.0.1", "::1"], 90)
        .map_err(other)?;
    let (cert, key) = (dir.join("localhost.pem"), dir.join("localhost-key.pem"));
    write_private(&key, &pair.key_pem)?;
    std::fs::write(&cert, &pair.cert_pem)?;
    Ok((dir.join(CA_CERT), cert, key))
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}
