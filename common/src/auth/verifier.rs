//! [`TokenVerifier`]: access tokens checked against the users service's
//! public keys.
//!
//! A remote verifier fetches the JWKS on first use and trusts it for the
//! `Cache-Control: max-age` the users service sends (else
//! [`VerifierSettings::default_max_age`], never more than
//! [`MAX_AGE_CAP`]). Once that has passed, the next verification fetches the
//! set again and a successful fetch replaces it whole, so a key the users
//! service stopped publishing is refused from then on. A failed fetch keeps
//! the last good set (the users service being down must not stop writes
//! elsewhere); with no set at all the answer is `503`. A token naming an
//! unknown `kid` also triggers a fetch. Every fetch, whatever its cause, is
//! at least [`VerifierSettings::min_refresh_interval`] after the previous
//! one, so forged `kid`s or a users outage cannot become a flood of fetches.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::Claims;
use super::jwks_client::JwksClient;
use super::key_set::{self, Keys};
use crate::problem::Problem;

/// Longest a fetched key set is trusted without asking again, whatever
/// `max-age` the users service sends: a misconfigured year-long `max-age`
/// must not keep a withdrawn key alive.
pub const MAX_AGE_CAP: Duration = Duration::from_secs(3600);

/// Longest a fetch of the key set may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT at all.
    #[error("the access token is malformed")]
    Malformed,
    /// Any algorithm but EdDSA (including `none`).
    #[error("the access token's algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The `kid` is missing or not among the published keys.
    #[error("the access token is signed by an unknown key")]
    UnknownKey,
    /// `exp` is in the past.
    #[error("the access token has expired")]
    Expired,
    /// Bad signature, issuer, audience or claims.
    #[error("the access token is invalid")]
    Invalid,
    /// The JWKS could not be fetched and no key is cached.
    #[error("signing keys are not available right now")]
    KeysUnavailable,
}

impl From<TokenError> for Problem {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::KeysUnavailable => Problem::unavailable(err.to_string()),
            other => Problem::invalid_token(other.to_string()),
        }
    }
}

/// What a verifier accepts, and how it keeps its keys fresh.
#[derive(Debug, Clone)]
pub struct VerifierSettings {
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Clock skew allowed on `exp`.
    pub leeway: Duration,
    /// Least time between two JWKS fetches (refreshes and unknown-`kid`
    /// refetches alike).
    pub min_refresh_interval: Duration,
    /// How long a fetched key set is trusted when the response carries no
    /// `Cache-Control: max-age`.
    pub default_max_age: Duration,
}

impl VerifierSettings {
    /// Default leeway (5 s), refresh interval (10 s) and max-age (5 min).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: Duration::from_secs(5),
            min_refresh_interval: Duration::from_secs(10),
            default_max_age: Duration::from_secs(300),
        }
    }
}

enum KeySource {
    Remote {
        url: String,
        client: Box<JwksClient>,
    },
    Local,
}

/// The keys in use and until when they may be used without a refresh
/// (`None`: keys the caller maintains, never stale).
struct CachedKeys {
    keys: Keys,
    fresh_until: Option<Instant>,
}

/// Whether a verification may wait for a fetch another one started.
#[derive(PartialEq, Eq)]
enum Wait {
    /// The keys at hand cannot verify the token: wait.
    Yes,
    /// The keys are only stale: use them rather than queue behind a fetch.
    No,
}

/// Verifies access tokens against a key set (fetched from a JWKS URL, or
/// given directly by the issuing service).
pub struct TokenVerifier {
    settings: VerifierSettings,
    source: KeySource,
    cache: RwLock<CachedKeys>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier that fetches keys from `jwks_url` on first use, when they
    /// are stale, and on unknown `kid`s: `http://` (inside the deployment's
    /// network) or `https://` with a certificate from a public CA (the
    /// Mozilla roots of webpki-roots; a private CA is not trusted).
    pub fn remote(jwks_url: impl Into<String>, settings: VerifierSettings) -> Self {
        Self::with_source(
            KeySource::Remote {
                url: jwks_url.into(),
                client: Box::new(JwksClient::with_public_roots(FETCH_TIMEOUT)),
            },
            settings,
        )
    }

    /// A verifier over a key set the caller maintains with [`Self::set_keys`].
    pub fn local(keys: &JwkSet, settings: VerifierSettings) -> Self {
        let verifier = Self::with_source(KeySource::Local, settings);
        verifier.set_keys(keys);
        verifier
    }

    fn with_source(source: KeySource, settings: VerifierSettings) -> Self {
        Self {
            settings,
            source,
            cache: RwLock::new(CachedKeys {
                keys: Keys::default(),
                // Nothing fetched yet: stale from the start.
                fresh_until: Some(Instant::now()),
            }),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// Replace the key set (EdDSA keys with a `kid` only; others are
    /// ignored); it never goes stale.
    pub fn set_keys(&self, set: &JwkSet) {
        self.store(key_set::usable_keys(set), None);
    }

    fn store(&self, keys: Keys, fresh_until: Option<Instant>) {
        if let Ok(mut cache) = self.cache.write() {
            *cache = CachedKeys { keys, fresh_until };
        }
    }

    /// Verify `token` and return its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = match self.lookup(&kid) {
            (Some(key), false) => key,
            (Some(_), true) => {
                self.refresh(Wait::No).await?;
                self.lookup(&kid).0.ok_or(TokenError::UnknownKey)?
            }
            (None, _) => {
                self.refresh(Wait::Yes).await?;
                self.lookup(&kid).0.ok_or(TokenError::UnknownKey)?
            }
        };
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = self.settings.leeway.as_secs();
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }

    /// The key for `kid`, if any, and whether the set is stale.
    fn lookup(&self, kid: &str) -> (Option<DecodingKey>, bool) {
        match self.cache.read() {
            Ok(cache) => (
                cache.keys.get(kid).cloned(),
                cache.fresh_until.is_some_and(|t| Instant::now() >= t),
            ),
            Err(_) => (None, true),
        }
    }

    /// `Ok` while there is any key to verify with.
    fn any_keys(&self) -> Result<(), TokenError> {
        match self.cache.read() {
            Ok(cache) if !cache.keys.is_empty() => Ok(()),
            _ => Err(TokenError::KeysUnavailable),
        }
    }

    async fn refresh(&self, wait: Wait) -> Result<(), TokenError> {
        let KeySource::Remote { url, client } = &self.source else {
            return Err(TokenError::UnknownKey);
        };
        let mut last = match self.last_fetch.try_lock() {
            Ok(guard) => guard,
            Err(_) if wait == Wait::No => return self.any_keys(),
            Err(_) => self.last_fetch.lock().await,
        };
        if let Some(at) = *last
            && at.elapsed() < self.settings.min_refresh_interval
        {
            // Fetched recently (perhaps by a request that waited on the same
            // lock): whatever we have is what there is.
            return self.any_keys();
        }
        let started = Instant::now();
        *last = Some(started);
        match key_set::fetch(client, url).await {
            Ok(fetched) => {
                let max_age = fetched
                    .max_age
                    .unwrap_or(self.settings.default_max_age)
                    .min(MAX_AGE_CAP);
                self.store(fetched.keys, Some(started + max_age));
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, jwks_url = %url, "cannot fetch signing keys; keeping the last good set");
                self.any_keys()
            }
        }
    }
}
