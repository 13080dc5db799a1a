//! The ACME storage directory, shared by replicas that mount the same volume:
//!
//! ```text
//! <storage>/accounts/<server>.json                   account key and URL (per ACME server)
//! <storage>/certificates/<server>/<domain>/cert.pem  chain, leaf first
//! <storage>/certificates/<server>/<domain>/key.pem   its key (0600)
//! <storage>/http-01/<token>                          challenge answers being validated
//! <storage>/<server>.lock                            held by the replica ordering now
//! ```
//!
//! `<server>` is the directory URL made file-safe, so switching from
//! staging to production starts afresh; `<domain>` is the first domain.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use instant_acme::AccountCredentials;

use crate::config::AcmeConfig;
use crate::local_ca::write_private;

/// A lock older than this is taken to be left by a replica that died.
const STALE_LOCK: Duration = Duration::from_secs(600);

/// The storage of one ACME configuration.
#[derive(Debug, Clone)]
pub(crate) struct Storage {
    dir: PathBuf,
    server: String,
    domain: String,
}

impl Storage {
    /// The storage for `config` (nothing is touched yet).
    pub(crate) fn new(config: &AcmeConfig) -> Storage {
        let server: String = config
            .directory
            .trim_start_matches("https://")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Storage {
            dir: config.storage.clone(),
            server,
            domain: config.domains.first().cloned().unwrap_or_default(),
        }
    }

    /// Create the directory (and check it can be written).
    pub(crate) fn prepare(&self) -> io::Result<()> {
        std::fs::create_dir_all(self.http01_dir())?;
        let probe = self.dir.join(".write-test");
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(probe)
    }

    /// Where challenge answers are shared.
    pub(crate) fn http01_dir(&self) -> PathBuf {
        self.dir.join("http-01")
    }

    fn account_file(&self) -> PathBuf {
        self.dir
            .join("accounts")
            .join(format!("{}.json", self.server))
    }

    fn certificate_dir(&self) -> PathBuf {
        self.dir
            .join("certificates")
            .join(&self.server)
            .join(&self.domain)
    }

    /// The stored account, if any.
    pub(crate) fn load_account(&self) -> io::Result<Option<AccountCredentials>> {
        match std::fs::read(self.account_file()) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Keep the account for next time.
    pub(crate) fn save_account(&self, credentials: &AccountCredentials) -> io::Result<()> {
        let text = serde_json::to_string(credentials).map_err(io::Error::other)?;
        let file = self.account_file();
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        replace_private(&file, &text)
    }

    /// The stored certificate chain and key (PEM), if any.
    pub(crate) fn load_certificate(&self) -> Option<(String, String)> {
        let dir = self.certificate_dir();
        let cert = std::fs::read_to_string(dir.join("cert.pem")).ok()?;
        let key = std::fs::read_to_string(dir.join("key.pem")).ok()?;
        Some((cert, key))
    }

    /// Keep a new certificate: the key first, each file replaced whole.
    pub(crate) fn save_certificate(&self, cert_pem: &str, key_pem: &str) -> io::Result<()> {
        let dir = self.certificate_dir();
        std::fs::create_dir_all(&dir)?;
        replace_private(&dir.join("key.pem"), key_pem)?;
        replace_private(&dir.join("cert.pem"), cert_pem)
    }

    /// Take the ordering lock, or `None` while another replica holds it.
    pub(crate) fn try_lock(&self) -> io::Result<Option<OrderLock>> {
        let path = self.dir.join(format!("{}.lock", self.server));
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let _ = io::Write::write_all(
                        &mut file,
                        format!("pid {}\n", std::process::id()).as_bytes(),
                    );
                    return Ok(Some(OrderLock { path }));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !is_stale(&path) {
                        return Ok(None);
                    }
                    tracing::warn!(lock = %path.display(), "removing a stale ACME lock");
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}

/// The ordering lock; released when dropped.
#[derive(Debug)]
pub(crate) struct OrderLock {
    path: PathBuf,
}

impl Drop for OrderLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn is_stale(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > STALE_LOCK)
}

/// Write `text` beside `path`, then rename it over: readers never see half a file.
fn replace_private(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    write_private(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(dir: &Path) -> Storage {
        Storage::new(&AcmeConfig {
            directory: "https://acme.test:14000/dir".into(),
            domains: vec!["shop.test".into()],
            contact: vec![],
            storage: dir.to_path_buf(),
            ca_file: None,
            retry_initial: Duration::from_secs(1),
        })
    }

    #[test]
    fn certificates_are_kept_per_server_and_the_lock_is_exclusive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = storage(dir.path());
        s.prepare().expect("writable");
        assert!(s.load_certificate().is_none());
        s.save_certificate("CERT", "KEY").expect("saved");
        assert_eq!(s.load_certificate(), Some(("CERT".into(), "KEY".into())));
        assert!(
            dir.path()
                .join("certificates/acme.test_14000_dir/shop.test/cert.pem")
                .exists()
        );
        let held = s.try_lock().expect("io").expect("free");
        assert!(s.try_lock().expect("io").is_none());
        drop(held);
        assert!(s.try_lock().expect("io").is_some());
        assert!(s.load_account().expect("io").is_none());
    }
}
