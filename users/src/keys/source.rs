//! Where the signing key and the extra published keys come from.

use std::path::Path;

use common::service::AppEnv;
use jsonwebtoken::jwk::JwkSet;

use super::ed25519::{PublicKey, SigningKey};
use super::pem;
use crate::config::Config;

/// File in `DATA_DIR` holding the key generated in development.
pub const GENERATED_KEY_FILE: &str = "users-jwt-signing-key.pem";

/// A key setting that stops start-up, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {message}")]
pub struct KeyError {
    /// The environment variable to fix.
    pub variable: &'static str,
    /// What is wrong.
    pub message: String,
}

fn key_error(variable: &'static str, message: impl Into<String>) -> KeyError {
    KeyError {
        variable,
        message: message.into(),
    }
}

/// The key that signs and every key the JWKS publishes.
#[derive(Debug, Clone)]
pub struct KeyRing {
    /// Signs new access tokens.
    pub signing: SigningKey,
    /// Keys still accepted (rotation): published, never used to sign.
    pub retired: Vec<PublicKey>,
}

impl KeyRing {
    /// The JWKS: the signing key first, then the retired keys, no duplicates.
    pub fn jwks(&self) -> JwkSet {
        let mut keys = vec![self.signing.public_key().to_jwk()];
        for key in &self.retired {
            if key.kid() != self.signing.public_key().kid()
                && !keys
                    .iter()
                    .any(|k| k.common.key_id.as_deref() == Some(key.kid()))
            {
                keys.push(key.to_jwk());
            }
        }
        JwkSet { keys }
    }
}

/// Load the keys `config` names; in development, generate and keep a
/// signing key under `DATA_DIR` when none is configured.
pub fn load_key_ring(config: &Config) -> Result<KeyRing, KeyError> {
    let signing = signing_key(config)?;
    let retired = published_keys(config)?;
    Ok(KeyRing { signing, retired })
}

fn signing_key(config: &Config) -> Result<SigningKey, KeyError> {
    if let Some(pem_text) = &config.jwt_signing_key {
        return parse_signing_key(pem_text.expose()).map_err(|m| key_error("JWT_SIGNING_KEY", m));
    }
    if let Some(path) = &config.jwt_signing_key_file {
        let text = read(path).map_err(|m| key_error("JWT_SIGNING_KEY_FILE", m))?;
        return parse_signing_key(&text).map_err(|m| key_error("JWT_SIGNING_KEY_FILE", m));
    }
    match config.base.app_env {
        AppEnv::Production => Err(key_error(
            "JWT_SIGNING_KEY",
            "is required when APP_ENV=production (an Ed25519 PKCS#8 PEM; or set JWT_SIGNING_KEY_FILE)",
        )),
        AppEnv::Development => generated_key(&config.base.data_dir.join(GENERATED_KEY_FILE)),
    }
}

fn parse_signing_key(text: &str) -> Result<SigningKey, String> {
    let blocks = pem::parse_all(text)?;
    match blocks.as_slice() {
        [block] if block.label == "PRIVATE KEY" => SigningKey::from_pkcs8(&block.der),
        [block] => Err(format!(
            "expected a `PRIVATE KEY` PEM block (PKCS#8), found `{}`",
            block.label
        )),
        [] => Err("expected a `PRIVATE KEY` PEM block, found none".to_string()),
        _ => Err("expected exactly one `PRIVATE KEY` PEM block".to_string()),
    }
}

fn published_keys(config: &Config) -> Result<Vec<PublicKey>, KeyError> {
    let mut keys = Vec::new();
    if let Some(text) = &config.jwt_published_keys {
        keys.extend(
            parse_published(text.expose()).map_err(|m| key_error("JWT_PUBLISHED_KEYS", m))?,
        );
    }
    if let Some(path) = &config.jwt_published_keys_file {
        let text = read(path).map_err(|m| key_error("JWT_PUBLISHED_KEYS_FILE", m))?;
        keys.extend(parse_published(&text).map_err(|m| key_error("JWT_PUBLISHED_KEYS_FILE", m))?);
    }
    Ok(keys)
}

/// `PUBLIC KEY` blocks, or retired `PRIVATE KEY` blocks (their public half).
fn parse_published(text: &str) -> Result<Vec<PublicKey>, String> {
    pem::parse_all(text)?
        .into_iter()
        .enumerate()
        .map(|(i, block)| {
            match block.label.as_str() {
                "PUBLIC KEY" => PublicKey::from_spki(&block.der),
                "PRIVATE KEY" => SigningKey::from_pkcs8(&block.der).map(|k| k.public_key().clone()),
                other => Err(format!("unexpected PEM block `{other}`")),
            }
            .map_err(|m| format!("key {}: {m}", i + 1))
        })
        .collect()
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The development key: read it if it exists, else create it (mode 0600).
fn generated_key(path: &Path) -> Result<SigningKey, KeyError> {
    const VAR: &str = "DATA_DIR";
    if path.exists() {
        let text = read(path).map_err(|m| key_error(VAR, m))?;
        return parse_signing_key(&text)
            .map_err(|m| key_error(VAR, format!("{}: {m}", path.display())));
    }
    let key = SigningKey::generate().map_err(|m| key_error(VAR, m))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| key_error(VAR, format!("cannot create {}: {e}", dir.display())))?;
    }
    write_private(path, &key.to_pem())
        .map_err(|e| key_error(VAR, format!("cannot write {}: {e}", path.display())))?;
    tracing::warn!(
        path = %path.display(),
        kid = key.public_key().kid(),
        "no JWT_SIGNING_KEY configured: generated a development signing key"
    );
    Ok(key)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_keys_accept_public_and_private_blocks() {
        let a = SigningKey::generate().expect("a");
        let b = SigningKey::generate().expect("b");
        let text = format!("{}{}", a.public_key().to_pem(), b.to_pem());
        let keys = parse_published(&text).expect("parses");
        assert_eq!(keys, vec![a.public_key().clone(), b.public_key().clone()]);
        assert!(
            parse_published("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }

    #[test]
    fn jwks_lists_the_signing_key_first_without_duplicates() {
        let signing = SigningKey::generate().expect("key");
        let old = SigningKey::generate().expect("old");
        let ring = KeyRing {
            retired: vec![
                old.public_key().clone(),
                signing.public_key().clone(),
                old.public_key().clone(),
            ],
            signing,
        };
        let jwks = ring.jwks();
        assert_eq!(jwks.keys.len(), 2);
        assert_eq!(
            jwks.keys[0].common.key_id.as_deref(),
            Some(ring.signing.public_key().kid())
        );
    }

    #[test]
    fn generated_key_is_kept_and_reused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("k.pem");
        let first = generated_key(&path).expect("generated");
        let second = generated_key(&path).expect("read back");
        assert_eq!(first.public_key(), second.public_key());
    }
}
