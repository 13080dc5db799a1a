//! Where the signing key and the extra published keys come from.

use std::path::Path;

use common::service::AppEnv;
use jsonwebtoken::jwk::JwkSet;

use super::ed25519::{PublicKey, SigningKey};
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

/// Every PEM block in `text`, in order; text outside blocks is ignored.
///
/// A literal `\n` counts as a line break: env files (Compose `env_file`,
/// `kubectl --from-env-file`) cannot hold multi-line values, so a PEM is
/// written on one line there.
fn parse_pem(text: &str) -> Result<Vec<pem::Pem>, String> {
    let text = text.replace("\\n", "\n");
    let blocks = pem::parse_many(&text).map_err(|e| format!("invalid PEM: {e}"))?;
    // `parse_many` stops quietly at a block without an END line; a key
    // setting cut short must not lose its last key silently.
    if text.matches("-----BEGIN ").count() != blocks.len() {
        return Err("a PEM block has no END line".to_string());
    }
    Ok(blocks)
}

fn parse_signing_key(text: &str) -> Result<SigningKey, String> {
    let blocks = parse_pem(text)?;
    match blocks.as_slice() {
        [block] if block.tag() == "PRIVATE KEY" => SigningKey::from_pkcs8(block.contents()),
        [block] => Err(format!(
            "expected a `PRIVATE KEY` PEM block (PKCS#8), found `{}`",
            block.tag()
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
    parse_pem(text)?
        .into_iter()
        .enumerate()
        .map(|(i, block)| {
            match block.tag() {
                "PUBLIC KEY" => PublicKey::from_spki(block.contents()),
                "PRIVATE KEY" => {
                    SigningKey::from_pkcs8(block.contents()).map(|k| k.public_key().clone())
                }
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
    fn several_blocks_are_read_in_order() {
        let a = SigningKey::generate().expect("a");
        let text = format!("comment\n{}{}", a.to_pem(), a.public_key().to_pem());
        let blocks = parse_pem(&text).expect("parses");
        let tags: Vec<&str> = blocks.iter().map(pem::Pem::tag).collect();
        assert_eq!(tags, ["PRIVATE KEY", "PUBLIC KEY"]);
        assert_eq!(blocks[0].contents(), a.pkcs8_der());
    }

    #[test]
    fn one_line_pem_with_escaped_newlines_is_accepted() {
        let key = SigningKey::generate().expect("key");
        let one_line = key.to_pem().replace('\n', "\\n");
        assert!(!one_line.contains('\n'));
        let parsed = parse_signing_key(&one_line).expect("parses");
        assert_eq!(parsed.public_key(), key.public_key());
    }

    #[test]
    fn unterminated_or_garbled_blocks_are_refused() {
        assert!(parse_pem("-----BEGIN X-----\nAAAA\n").is_err());
        assert!(parse_pem("-----BEGIN X-----\nA!A\n-----END X-----\n").is_err());
        let key = SigningKey::generate().expect("key").to_pem();
        let cut = key
            .rsplit_once("-----END")
            .map(|(head, _)| head)
            .expect("END");
        assert!(parse_published(&format!("{key}{cut}")).is_err());
    }

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
