//! htpasswd files (`user:hash` per line, `#` comments): bcrypt
//! (`$2y$`, `$2b$`, `$2a$`, as `htpasswd -B` writes) and Argon2id
//! (`$argon2id$` PHC strings) are accepted; every weaker scheme NGINX would
//! take (`$apr1$` MD5, `{SHA}`, crypt DES, `$1$` MD5-crypt, `$5$`/`$6$`
//! SHA-crypt, plain text) is refused with its line and how to rehash.
//!
//! The file is re-read when it changes ([`Htpasswd::users`]: its size,
//! modification time and inode are compared at most once a second, so an
//! edit in place and a Kubernetes Secret's symlink swap are both seen); a
//! new version that does not parse is logged and the previous users keep
//! working.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use argon2::password_hash::phc::PasswordHash;

/// A stored password hash of an accepted scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredHash {
    /// bcrypt (`$2y$`, `$2b$`, `$2a$`).
    Bcrypt(String),
    /// Argon2id PHC string.
    Argon2id(String),
}

impl StoredHash {
    /// The hash as written.
    pub(crate) fn text(&self) -> &str {
        match self {
            StoredHash::Bcrypt(h) | StoredHash::Argon2id(h) => h,
        }
    }

    /// Whether `password` matches (constant time in the comparison; the
    /// work is the hash's own cost). Run it off the async threads.
    pub(crate) fn verify(&self, password: &[u8]) -> bool {
        match self {
            StoredHash::Bcrypt(h) => bcrypt::verify(password, h).unwrap_or(false),
            StoredHash::Argon2id(h) => {
                use argon2::PasswordVerifier;
                PasswordHash::new(h).is_ok_and(|parsed| {
                    argon2::Argon2::default()
                        .verify_password(password, &parsed)
                        .is_ok()
                })
            }
        }
    }
}

/// Why a line is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineError {
    /// 1-based line number.
    pub(crate) line: usize,
    /// What is wrong, and what to do.
    pub(crate) message: String,
}

/// Users and their hashes.
pub(crate) type Users = HashMap<String, StoredHash>;

/// Parse an htpasswd file's text (`file` names it in the advice).
pub(crate) fn parse(text: &str, file: &Path) -> Result<Users, LineError> {
    let mut users = Users::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let entry = raw.trim_end_matches('\r').trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let err = |message: String| LineError { line, message };
        let Some((user, rest)) = entry.split_once(':') else {
            return Err(err("expected `user:hash`".into()));
        };
        if user.is_empty() || user.chars().any(char::is_control) {
            return Err(err(
                "the user name is empty or has control characters".into()
            ));
        }
        // `user:hash:comment`, as NGINX reads it.
        let hash = rest.split(':').next().unwrap_or("");
        let rehash = format!(
            "rehash with `htpasswd -B {} {user}` (bcrypt) or store an Argon2id hash",
            file.display()
        );
        let weak = |scheme: &str| {
            err(format!(
                "user `{user}`: {scheme} hashes are refused as too weak; {rehash}"
            ))
        };
        let stored = if ["$2y$", "$2b$", "$2a$"].iter().any(|p| hash.starts_with(p)) {
            match hash.parse::<bcrypt::HashParts>() {
                Ok(parts) if (4..=31).contains(&parts.get_cost()) => {
                    StoredHash::Bcrypt(hash.into())
                }
                _ => {
                    return Err(err(format!(
                        "user `{user}`: not a valid bcrypt hash; {rehash}"
                    )));
                }
            }
        } else if hash.starts_with("$argon2id$") {
            if PasswordHash::new(hash).is_err() {
                return Err(err(format!(
                    "user `{user}`: not a valid Argon2id PHC string"
                )));
            }
            StoredHash::Argon2id(hash.into())
        } else if hash.starts_with("$argon2i$") || hash.starts_with("$argon2d$") {
            return Err(err(format!(
                "user `{user}`: only the Argon2id variant is accepted; {rehash}"
            )));
        } else if hash.starts_with("$apr1$") {
            return Err(weak("$apr1$ (Apache MD5)"));
        } else if hash.starts_with("$1$") {
            return Err(weak("$1$ (MD5-crypt)"));
        } else if hash.starts_with("$5$") || hash.starts_with("$6$") {
            return Err(weak("SHA-crypt ($5$/$6$)"));
        } else if hash.starts_with("{SHA}") || hash.starts_with("{SSHA}") {
            return Err(weak("{SHA} (unsalted SHA-1)"));
        } else if hash.starts_with("{PLAIN}") {
            return Err(weak("{PLAIN} (plain text)"));
        } else if hash.len() == 13
            && hash
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
        {
            return Err(weak("crypt DES"));
        } else {
            return Err(err(format!(
                "user `{user}`: not a bcrypt or Argon2id hash (plain text or an unknown scheme); {rehash}"
            )));
        };
        if users.insert(user.to_string(), stored).is_some() {
            return Err(err(format!("user `{user}` is listed twice")));
        }
    }
    Ok(users)
}

/// Read and parse `path`; the refusal is `path:line: message`.
pub(crate) fn load(path: &Path) -> Result<Users, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let users =
        parse(&text, path).map_err(|e| format!("{}:{}: {}", path.display(), e.line, e.message))?;
    if users.is_empty() {
        return Err(format!("{}: has no users", path.display()));
    }
    Ok(users)
}

/// What identifies one version of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn version(path: &Path) -> Option<Version> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(Version {
        modified: m.modified().ok(),
        len: m.len(),
        inode: m.ino(),
    })
}

struct State {
    users: Arc<Users>,
    version: Option<Version>,
    checked: Instant,
}

/// An htpasswd file, re-read when it changes.
pub(crate) struct Htpasswd {
    path: PathBuf,
    every: Duration,
    state: Mutex<State>,
}

impl std::fmt::Debug for Htpasswd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Htpasswd")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Htpasswd {
    /// The file at `path`, checked for changes at most every `every`. A
    /// file that does not load now starts with no users (every request
    /// refused) and is tried again at the next check.
    pub(crate) fn open(path: &Path, every: Duration) -> Self {
        let (users, version) = match load(path) {
            Ok(u) => (u, version(path)),
            Err(e) => {
                tracing::error!(error = %e, "basic auth: the htpasswd file does not load");
                (Users::new(), None)
            }
        };
        Htpasswd {
            path: path.to_path_buf(),
            every,
            state: Mutex::new(State {
                users: Arc::new(users),
                version,
                checked: Instant::now(),
            }),
        }
    }

    /// The current users (re-read first if the file changed).
    pub(crate) fn users(&self) -> Arc<Users> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.checked.elapsed() >= self.every {
            s.checked = Instant::now();
            let now = version(&self.path);
            if now.is_some() && now != s.version {
                match load(&self.path) {
                    Ok(users) => {
                        tracing::info!(file = %self.path.display(), users = users.len(), "basic auth: htpasswd file reloaded");
                        s.users = Arc::new(users);
                        s.version = now;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "basic auth: the changed htpasswd file is refused; the previous users stay");
                        s.version = now;
                    }
                }
            }
        }
        Arc::clone(&s.users)
    }
}

#[cfg(test)]
#[path = "htpasswd_tests.rs"]
pub(crate) mod tests;
