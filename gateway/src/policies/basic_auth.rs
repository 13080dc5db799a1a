//! Basic authentication (`basic_auth`, NGINX's `auth_basic`): the
//! `Authorization: Basic` credentials checked against an htpasswd file of
//! bcrypt or Argon2id hashes ([`super::htpasswd`], re-read when it
//! changes); without valid ones `401` problem+json with
//! `WWW-Authenticate: Basic realm="..."`. The `Authorization` header still
//! goes upstream, as with NGINX.
//!
//! Hashing is deliberately slow (bcrypt at `htpasswd -B`'s default cost 5
//! takes ~2 ms of CPU, at cost 10 ~50 ms), so:
//! - it runs on the blocking pool, at most one hash per CPU at a time for
//!   the whole process (a semaphore, as the users service bounds Argon2),
//!   and a request finding [`MAX_WAITING`] others already queued is
//!   answered `503` rather than queued without end;
//! - an unknown user costs a hash too (against another user's hash, so at
//!   the file's own cost), so the timing does not tell which users exist;
//! - successful checks are remembered for [`CACHE_TTL`]: the key is a
//!   SHA-256 of a per-process random key, the user, the password and the
//!   stored hash (so a changed password or file misses), at most
//!   [`CACHE_MAX`] entries. Failures are never cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Problem;
use http::{HeaderValue, StatusCode, header};
use metrics::Counter;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::config::policies::basic_auth::BasicAuthConfig;

use super::{Hooks, Policy, RequestFacts, RequestHead, Verdict, counters};
use crate::config::htpasswd::{Htpasswd, StoredHash};

/// Requests that may wait for a hashing slot before the next is refused.
pub(crate) const MAX_WAITING: usize = 256;
/// How long a verified password is remembered.
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(300);
/// Most passwords remembered per route.
pub(crate) const CACHE_MAX: usize = 4096;
/// How often the htpasswd file is checked for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// The process-wide hashing slots: one per CPU.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, usize::from);
        Semaphore::new(n)
    })
}

static WAITING: AtomicUsize = AtomicUsize::new(0);

/// A key for the cache of verified credentials, chosen per process.
fn cache_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut k = [0u8; 32];
        k[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        k[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        k
    })
}

/// A bcrypt hash of a random password, checked for unknown users when the
/// file has none to borrow.
fn dummy() -> &'static StoredHash {
    static DUMMY: OnceLock<StoredHash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let pw = uuid::Uuid::new_v4().to_string();
        StoredHash::Bcrypt(bcrypt::hash(pw, 5).unwrap_or_default())
    })
}

/// One route's basic authentication.
pub(crate) struct BasicAuth {
    config: BasicAuthConfig,
    file: Arc<Htpasswd>,
    challenge: HeaderValue,
    verified: Arc<Mutex<HashMap<[u8; 32], Instant>>>,
    missing: Counter,
    wrong: Counter,
    busy: Counter,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl BasicAuth {
    /// Basic authentication per `config` on the route labelled `route`,
    /// keeping the loaded file and the cache of `kept` (the previous
    /// table's identical policy).
    pub(crate) fn new(config: &BasicAuthConfig, route: &str, kept: Option<&BasicAuth>) -> Self {
        let (file, verified) = match kept {
            Some(k) => (Arc::clone(&k.file), Arc::clone(&k.verified)),
            None => (
                Arc::new(Htpasswd::open(&config.file, RELOAD_CHECK)),
                Arc::default(),
            ),
        };
        let reason = |r| counters::labelled(counters::AUTH_REFUSALS, route, "reason", r);
        BasicAuth {
            challenge: HeaderValue::from_str(&format!("Basic realm=\"{}\"", config.realm))
                .unwrap_or_else(|_| HeaderValue::from_static("Basic realm=\"Restricted\"")),
            config: config.clone(),
            file,
            verified,
            missing: reason("basic_missing"),
            wrong: reason("basic_wrong"),
            busy: reason("basic_busy"),
        }
    }

    /// The settings this policy was built from.
    pub(crate) fn config(&self) -> &BasicAuthConfig {
        &self.config
    }

    fn refuse(&self, detail: &str) -> Verdict {
        Problem::new(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, self.challenge.clone())
            .into()
    }

    fn remembered(&self, key: &[u8; 32]) -> bool {
        let map = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(key).is_some_and(|at| at.elapsed() < CACHE_TTL)
    }

    fn remember(&self, key: [u8; 32]) {
        let mut map = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CACHE_MAX {
            map.retain(|_, at| at.elapsed() < CACHE_TTL);
            if map.len() >= CACHE_MAX {
                map.clear();
            }
        }
        map.insert(key, Instant::now());
    }

    /// Whether `user`:`password` is valid now.
    async fn check(&self, user: &str, password: &[u8]) -> Result<bool, Verdict> {
        let users = self.file.users();
        let stored = users.get(user).cloned();
        let key = stored.as_ref().map(|s| {
            let mut h = Sha256::new();
            h.update(cache_key());
            h.update((user.len() as u64).to_be_bytes());
            h.update(user.as_bytes());
            h.update((password.len() as u64).to_be_bytes());
            h.update(password);
            h.update(s.text().as_bytes());
            <[u8; 32]>::from(h.finalize())
        });
        if let Some(k) = &key
            && self.remembered(k)
        {
            return Ok(true);
        }
        if WAITING.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            WAITING.fetch_sub(1, Ordering::SeqCst);
            self.busy.increment(1);
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many password checks at once; try again",
            )
            .into());
        }
        let permit = slots().acquire().await;
        WAITING.fetch_sub(1, Ordering::SeqCst);
        let Ok(_permit) = permit else {
            return Err(Problem::internal().into());
        };
        let known = stored.is_some();
        let hash = stored
            .or_else(|| users.values().next().cloned())
            .unwrap_or_else(|| dummy().clone());
        let password = password.to_vec();
        let ok = tokio::task::spawn_blocking(move || hash.verify(&password))
            .await
            .unwrap_or(false);
        let ok = ok && known;
        if ok && let Some(k) = key {
            self.remember(k);
        }
        Ok(ok)
    }
}

/// The user and password of an `Authorization: Basic` header.
pub(crate) fn credentials(value: &HeaderValue) -> Option<(String, Vec<u8>)> {
    let text = value.to_str().ok()?.trim();
    let (scheme, token) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(token.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

impl Policy for BasicAuth {
    fn hooks(&self) -> Hooks {
        Hooks::REQUEST
    }

    async fn on_request(
        &self,
        head: &RequestHead<'_>,
        _facts: &RequestFacts<'_>,
    ) -> Result<(), Verdict> {
        let Some((user, password)) = head
            .headers
            .get(header::AUTHORIZATION)
            .and_then(credentials)
        else {
            self.missing.increment(1);
            return Err(self.refuse("this route needs a user name and password"));
        };
        // Boxed: the check's future (a queued hash) would otherwise enlarge
        // every request's future, on every route.
        if Box::pin(self.check(&user, &password)).await? {
            Ok(())
        } else {
            self.wrong.increment(1);
            Err(self.refuse("wrong user name or password"))
        }
    }
}

#[cfg(test)]
#[path = "basic_auth_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "basic_auth_nginx_tests.rs"]
mod nginx_tests;
