//! Argon2id password hashing, off the async worker threads and bounded in
//! how many hashes run at once (each takes `PASSWORD_HASH_MEMORY_KIB`).

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::domain::Password;

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
    /// A hash of a random password, verified against when the email is
    /// unknown so both failed-login paths do the same work.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHashing")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHashing {
    /// A hasher with `params`, running at most `concurrency` hashes at once.
    pub fn new(params: HashParams, concurrency: usize) -> Result<Self, HashError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| HashError::Params(e.to_string()))?;
        let dummy = uuid::Uuid::new_v4().to_string();
        let dummy_hash = hash_with(&params, dummy.as_bytes())?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let params = self.params.clone();
        let bytes = password.expose().as_bytes().to_vec();
        self.blocking(move || hash_with(&params, &bytes)).await?
    }

    /// Whether `password` matches `stored` (a PHC string). With `None`
    /// (unknown account) a dummy hash is verified and the answer is `false`.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| self.dummy_hash.to_string(), str::to_string);
        let bytes = password.as_bytes().to_vec();
        let matches = self
            .blocking(move || {
                Argon2::default()
                    .verify_password(&bytes, hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(known && matches)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashError::Failed(e.to_string()))
    }
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, HashError> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
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
        assert!(stored.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(
            h.verify("correct horse", Some(&stored))
                .await
                .expect("verify")
        );
        assert!(
            !h.verify("wrong horse", Some(&stored))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        let h = cheap();
        assert!(!h.verify("anything", None).await.expect("verify"));
    }
}
