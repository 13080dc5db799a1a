//! Argon2id password hashing, off the async worker threads and bounded in
//! how many hashes run at once (each takes `PASSWORD_HASH_MEMORY_KIB`).
//!
//! The Argon2 working memory is reused from a small pool instead of being
//! allocated per hash: the allocator would otherwise keep a freed 19 MiB
//! buffer in each thread's arena, and the process would grow to hundreds
//! of MiB under a login burst.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::domain::Password;
use crate::entity::user::HashedPassword;
use crate::metrics::Argon2Op;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// Why hashing failed (never the client's fault).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The configured parameters are out of Argon2's range.
    #[error("invalid Argon2 parameters: {0}")]
    Params(String),
    /// The hasher itself failed or its task died.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl From<HashError> for common::Problem {
    fn from(err: HashError) -> Self {
        tracing::error!(error = %err, "password hashing");
        common::Problem::internal()
    }
}

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
    permits: Arc<Semaphore>,
    running: Arc<RunningHashes>,
    memory: Arc<MemoryPool>,
    /// A hash of a random password, verified against when the email is
    /// unknown so both failed-login paths do the same work.
    dummy_hash: Arc<str>,
    /// Queue wait and work time, when the service exports metrics.
    metrics: Option<crate::metrics::Argon2Metrics>,
}

impl std::fmt::Debug for PasswordHashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHashing")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHashing {
    /// The hasher the `PASSWORD_HASH_*` settings describe; concurrency
    /// defaults to the number of CPUs.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let concurrency = config.password_hash_concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2)
        });
        let params = HashParams {
            memory_kib: config.password_hash_memory_kib,
            iterations: config.password_hash_iterations,
            parallelism: config.password_hash_parallelism,
        };
        Self::new(params, concurrency).context(
            "invalid configuration: PASSWORD_HASH_MEMORY_KIB / PASSWORD_HASH_ITERATIONS / PASSWORD_HASH_PARALLELISM",
        )
    }

    /// A hasher with `params`, running at most `concurrency` hashes at once.
    pub fn new(params: HashParams, concurrency: usize) -> Result<Self, HashError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| HashError::Params(e.to_string()))?;
        let memory = Arc::new(MemoryPool::default());
        let dummy = uuid::Uuid::new_v4().to_string();
        let dummy_hash = hash_with(&params, dummy.as_bytes(), &memory)?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            running: Arc::default(),
            memory,
            dummy_hash: dummy_hash.into(),
            metrics: None,
        })
    }

    /// Record queue waits and work times in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Argon2Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: &Password) -> Result<HashedPassword, HashError> {
        let params = self.params.clone();
        let memory = self.memory.clone();
        let bytes = password.expose().as_bytes().to_vec();
        self.blocking(Argon2Op::Hash, move || {
            hash_with(&params, &bytes, &memory).map(HashedPassword::new)
        })
        .await?
    }

    /// Whether `password` matches `stored` (a PHC string). With `None`
    /// (unknown account) a dummy hash is verified and the answer is `false`.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| self.dummy_hash.to_string(), str::to_string);
        let bytes = password.as_bytes().to_vec();
        let memory = self.memory.clone();
        let matches = self
            .blocking(Argon2Op::Verify, move || {
                verify_with(&hash, &bytes, &memory)
            })
            .await?;
        Ok(known && matches)
    }

    /// Hashes running right now (a gauge).
    pub fn in_flight(&self) -> usize {
        self.running.now.load(Ordering::SeqCst)
    }

    /// The most hashes that ever ran at once; never above the concurrency
    /// bound, even when callers give up mid-hash.
    pub fn peak_in_flight(&self) -> usize {
        self.running.peak.load(Ordering::SeqCst)
    }

    /// Run `work` on the blocking pool under a permit. The permit moves into
    /// the blocking task: a caller that is cancelled (client gone, timeout)
    /// stops waiting, but the hash runs to its end, and its memory stays
    /// counted against the bound until then.
    async fn blocking<T: Send + 'static>(
        &self,
        op: Argon2Op,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let queued = Instant::now();
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        let running = self.running.clone();
        let metrics = self.metrics.clone();
        if let Some(m) = &metrics {
            m.waited(op, queued.elapsed().as_secs_f64());
        }
        tokio::task::spawn_blocking(move || {
            // Declared after the permit, so dropped before it: the gauge
            // falls before another hash may start.
            let _permit = permit;
            let _running = running.enter();
            let started = Instant::now();
            let result = work();
            if let Some(m) = metrics {
                m.worked(op, started.elapsed().as_secs_f64());
            }
            result
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
    }
}

/// How many hashes run now, and the most that ever ran at once.
#[derive(Default)]
struct RunningHashes {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl RunningHashes {
    fn enter(self: &Arc<Self>) -> RunningHash {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        RunningHash(self.clone())
    }
}

/// One running hash; leaving drops the gauge.
struct RunningHash(Arc<RunningHashes>);

impl Drop for RunningHash {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Argon2 working memory kept between hashes (at most one buffer per
/// concurrent hash, as the semaphore allows).
#[derive(Default)]
struct MemoryPool(Mutex<Vec<Vec<Block>>>);

impl MemoryPool {
    /// Run `work` with a buffer of at least `blocks` blocks.
    fn with<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let mut buffer = self
            .0
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        if buffer.len() < blocks {
            buffer.resize(blocks, Block::new());
        }
        let result = work(&mut buffer[..blocks]);
        if let Ok(mut pool) = self.0.lock() {
            pool.push(buffer);
        }
        result
    }
}

/// A new PHC string (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`) for `password`.
fn hash_with(params: &Params, password: &[u8], memory: &MemoryPool) -> Result<String, HashError> {
    let salt: [u8; 16] = rand::random();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    memory
        .with(params.block_count(), |blocks| {
            argon.hash_password_into_with_memory(password, &salt, &mut out, blocks)
        })
        .map_err(|e| HashError::Failed(e.to_string()))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

/// Whether `password` matches the PHC string `stored`, with the parameters
/// recorded in it (so hashes made under older settings keep working).
fn verify_with(stored: &str, password: &[u8], memory: &MemoryPool) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(hash.algorithm.as_str()),
        Params::try_from(&hash),
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.as_bytes().len()];
    let computed = memory.with(params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(password, salt.as_ref(), &mut out, blocks)
    });
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHashing {
        PasswordHashing::new(
            HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            2,
        )
        .expect("params")
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = cheap();
        let pw = Password::parse("correct horse").expect("valid");
        let stored = h.hash(&pw).await.expect("hash");
        assert!(stored.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(
            h.verify("correct horse", Some(stored.as_str()))
                .await
                .expect("verify")
        );
        assert!(
            !h.verify("wrong horse", Some(stored.as_str()))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_verify() {
        use argon2::PasswordHasher;
        let params = Params::new(64, 1, 1, None).expect("params");
        let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"correct horse")
            .expect("hash")
            .to_string();
        let h = cheap();
        assert!(
            h.verify("correct horse", Some(&stored))
                .await
                .expect("verify")
        );
        assert!(
            !h.verify("correct horsE", Some(&stored))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn our_hashes_verify_with_the_argon2_crate() {
        use argon2::PasswordVerifier;
        let h = cheap();
        let pw = Password::parse("correct horse").expect("valid");
        let stored = h.hash(&pw).await.expect("hash");
        let parsed = PasswordHash::new(stored.as_str()).expect("phc");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn garbage_hashes_never_verify() {
        let h = cheap();
        assert!(
            !h.verify("x", Some("not a phc string"))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn cancelled_hashes_still_count_against_the_concurrency_bound() {
        // About 20 ms per hash, so every caller below gives up mid-hash.
        let h = PasswordHashing::new(
            HashParams {
                memory_kib: 8 * 1024,
                iterations: 2,
                parallelism: 1,
            },
            2,
        )
        .expect("params");
        let pw = Password::parse("correct horse").expect("valid");
        for _ in 0..12 {
            let cancelled =
                tokio::time::timeout(std::time::Duration::from_millis(1), h.hash(&pw)).await;
            assert!(
                cancelled.is_err(),
                "the hash finished before being cancelled"
            );
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while h.in_flight() > 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(h.in_flight(), 0);
        assert_eq!(h.peak_in_flight(), 2);
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        let h = cheap();
        assert!(!h.verify("anything", None).await.expect("verify"));
    }
}
