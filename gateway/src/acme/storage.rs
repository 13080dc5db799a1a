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
//!
//! Every file is written whole under a name of its own and renamed into
//! place (never a shared `key.tmp`), private ones 0600 on every write, and
//! no symbolic link in the storage is followed, on write or on read
//! ([`crate::local_ca::write_private`], [`crate::local_ca::read_no_follow`]).
//! A key and a certificate are two files: a reader between the two renames
//! (or after two orders raced) may see a key with another order's
//! certificate; the loader checks that they pair (`tls::certs::from_pem`)
//! and orders again when they do not, and files-based replicas refuse the
//! pair and keep the previous one.
//!
//! The ordering lock holds a random owner token. It is taken with
//! `link(2)` of a complete file (atomic, and fails if a lock exists). Its
//! holder touches it every [`REFRESH`]; one left untouched for
//! [`STALE_LOCK`] belongs to a replica that died or hangs and may be taken
//! over: the taker first claims that owner's generation by linking the
//! lock to `<server>.lock.takeover.<token>` (only one taker can create that
//! name), checks the claimed file is still the stale one, then renames its
//! own lock over it. The holder releases the lock only while it still
//! holds its token.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use instant_acme::AccountCredentials;

use crate::config::AcmeConfig;
use crate::local_ca::{read_no_follow, write_private};

/// A lock not touched for this long is taken to be left by a replica that
/// died (or hangs).
const STALE_LOCK: Duration = Duration::from_secs(600);
/// How often the holder touches its lock: well within [`STALE_LOCK`].
const REFRESH: Duration = Duration::from_secs(60);

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
        match read_no_follow(&self.account_file()) {
            Ok(text) => serde_json::from_str(&text)
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
        write_private(&file, &text)
    }

    /// The stored certificate chain and key (PEM), if any.
    pub(crate) fn load_certificate(&self) -> Option<(String, String)> {
        let dir = self.certificate_dir();
        let read = |name: &str| match read_no_follow(&dir.join(name)) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!(error = %e, "the stored ACME certificate is not read");
                None
            }
        };
        Some((read("cert.pem")?, read("key.pem")?))
    }

    /// Keep a new certificate: the key first, each file replaced whole
    /// (0600: the chain is public, but operators point
    /// `GATEWAY_TLS_CERT` of other replicas at it, as readable as the key).
    pub(crate) fn save_certificate(&self, cert_pem: &str, key_pem: &str) -> io::Result<()> {
        let dir = self.certificate_dir();
        std::fs::create_dir_all(&dir)?;
        write_private(&dir.join("key.pem"), key_pem)?;
        write_private(&dir.join("cert.pem"), cert_pem)
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.server))
    }

    /// Take the ordering lock, or `None` while another replica holds it.
    /// Inside a tokio runtime the lock is touched every [`REFRESH`] while
    /// held.
    pub(crate) fn try_lock(&self) -> io::Result<Option<OrderLock>> {
        self.try_lock_touching_every(REFRESH)
    }

    /// [`Storage::try_lock`], touching the lock every `every`.
    fn try_lock_touching_every(&self, every: Duration) -> io::Result<Option<OrderLock>> {
        let lock = self.try_lock_untouched()?;
        Ok(lock.map(|mut lock| {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let (path, token) = (lock.path.clone(), lock.token.clone());
                lock.refresher = Some(runtime.spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        if let Err(e) = touch(&path, &token) {
                            tracing::error!(lock = %path.display(), error = %e, "the ACME lock is no longer ours");
                            return;
                        }
                    }
                }));
            }
            lock
        }))
    }

    /// [`Storage::try_lock`] without the refreshing task.
    fn try_lock_untouched(&self) -> io::Result<Option<OrderLock>> {
        let path = self.lock_path();
        let token = format!(
            "{} pid {}",
            uuid::Uuid::new_v4().simple(),
            std::process::id()
        );
        // A complete file first, so that the lock never exists empty.
        let mine = self.dir.join(format!(
            ".{}.lock.{}",
            self.server,
            uuid::Uuid::new_v4().simple()
        ));
        write_private(&mine, &token)?;
        let taken = take(&path, &mine);
        let _ = std::fs::remove_file(&mine);
        Ok(taken?.then(|| OrderLock {
            path,
            token,
            refresher: None,
        }))
    }
}

/// Make `mine` (a complete lock file) the lock at `path`: create it, or
/// take over a stale one (see the module documentation). `false`: held by
/// another.
fn take(path: &Path, mine: &Path) -> io::Result<bool> {
    match std::fs::hard_link(mine, path) {
        Ok(()) => return Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let Ok(stale_token) = read_no_follow(path) else {
        // Gone (released) or not a lock file: try again next round.
        return Ok(false);
    };
    if !is_stale(path) {
        return Ok(false);
    }
    let claim = path.with_file_name(format!(
        "{}.takeover.{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("lock"),
        stale_token.split_whitespace().next().unwrap_or("-")
    ));
    match std::fs::hard_link(path, &claim) {
        Ok(()) => {}
        // Another replica is taking this generation over, or died doing
        // so: a claim untouched for as long as a stale lock is abandoned,
        // and removed for the next round.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if claim_abandoned(&claim) {
                tracing::warn!(claim = %claim.display(), "removing an abandoned ACME lock takeover");
                let _ = std::fs::remove_file(&claim);
            }
            return Ok(false);
        }
        Err(_) => return Ok(false),
    }
    // The claim is the file that was at `path` when linked: still the
    // stale one?
    let still_stale = read_no_follow(&claim).is_ok_and(|t| t == stale_token) && is_stale(&claim);
    if still_stale {
        tracing::warn!(lock = %path.display(), owner = %stale_token, "taking over a stale ACME lock");
        // Over the stale file: no other taker can hold this generation's
        // claim, and no new lock can be created while a file is there.
        let renamed = std::fs::rename(mine, path);
        let _ = std::fs::remove_file(&claim);
        renamed?;
        return Ok(true);
    }
    let _ = std::fs::remove_file(&claim);
    Ok(false)
}

/// Touch the lock at `path` if it still holds `token`.
fn touch(path: &Path, token: &str) -> io::Result<()> {
    if read_no_follow(path)? != token {
        return Err(io::Error::other("taken over by another replica"));
    }
    std::fs::File::open(path)?.set_modified(SystemTime::now())
}

/// The ordering lock; released when dropped (if it is still ours).
#[derive(Debug)]
pub(crate) struct OrderLock {
    path: PathBuf,
    /// What the lock file holds: ours, unlike any other replica's.
    token: String,
    /// Touches the lock while held.
    refresher: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for OrderLock {
    fn drop(&mut self) {
        if let Some(task) = self.refresher.take() {
            task.abort();
        }
        // A lock that was taken over belongs to its new holder.
        if read_no_follow(&self.path).is_ok_and(|t| t == self.token) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether the takeover claim at `claim` was made longer than
/// [`STALE_LOCK`] ago: its inode changed last (a link made) then. Where
/// that cannot be told, never.
fn claim_abandoned(claim: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        std::fs::symlink_metadata(claim).is_ok_and(|m| {
            u64::try_from(m.ctime()).is_ok_and(|c| now.saturating_sub(c) > STALE_LOCK.as_secs())
        })
    }
    #[cfg(not(unix))]
    {
        let _ = claim;
        false
    }
}

fn is_stale(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > STALE_LOCK)
}

#[cfg(test)]
mod tests;
