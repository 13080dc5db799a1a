//! Access-token verification shared by every service.
//!
//! Tokens are EdDSA (Ed25519) JWTs issued by the users service. Verifiers
//! take the public keys from its JWKS, cache them, and fetch again when a
//! token names an unknown `kid` (at most once per `min_refresh_interval`,
//! so a flood of forged `kid`s cannot turn into a flood of fetches).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts};
use http::header::AUTHORIZATION;
use http::request::Parts;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including user administration.
    Admin,
    /// Catalogue management.
    Staff,
    /// A shopper.
    Customer,
}

impl Role {
    /// The lower-case name used in tokens, JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Customer => "customer",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "staff" => Ok(Role::Staff),
            "customer" => Ok(Role::Customer),
            other => Err(format!("`{other}` is not a role (admin, staff, customer)")),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: uuid::Uuid,
    /// The user's email.
    pub email: String,
    /// The user's role when the token was issued.
    pub role: Role,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Unique token id.
    pub jti: String,
}

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

/// What a verifier accepts.
#[derive(Debug, Clone)]
pub struct VerifierSettings {
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Clock skew allowed on `exp`.
    pub leeway: Duration,
    /// Least time between two JWKS fetches.
    pub min_refresh_interval: Duration,
}

impl VerifierSettings {
    /// Default leeway (5 s) and refresh interval (10 s).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: Duration::from_secs(5),
            min_refresh_interval: Duration::from_secs(10),
        }
    }
}

enum KeySource {
    Remote {
        url: String,
        client: reqwest::Client,
    },
    Local,
}

/// Verifies access tokens against a key set (fetched from a JWKS URL, or
/// given directly by the issuing service).
pub struct TokenVerifier {
    settings: VerifierSettings,
    source: KeySource,
    keys: RwLock<Arc<HashMap<String, DecodingKey>>>,
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
    /// A verifier that fetches keys from `jwks_url` (plain HTTP inside the
    /// deployment's network) on first use and on unknown `kid`s.
    pub fn remote(jwks_url: impl Into<String>, settings: VerifierSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            settings,
            source: KeySource::Remote {
                url: jwks_url.into(),
                client,
            },
            keys: RwLock::new(Arc::new(HashMap::new())),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// A verifier over a key set the caller maintains with [`Self::set_keys`].
    pub fn local(keys: &JwkSet, settings: VerifierSettings) -> Self {
        let v = Self {
            settings,
            source: KeySource::Local,
            keys: RwLock::new(Arc::new(HashMap::new())),
            last_fetch: tokio::sync::Mutex::new(None),
        };
        v.set_keys(keys);
        v
    }

    /// Replace the key set (EdDSA keys with a `kid` only; others are ignored).
    pub fn set_keys(&self, set: &JwkSet) {
        let map: HashMap<String, DecodingKey> = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, usable_key(jwk)?)))
            .collect();
        if let Ok(mut keys) = self.keys.write() {
            *keys = Arc::new(map);
        }
    }

    /// Verify `token` and return its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = match self.key(&kid) {
            Some(key) => key,
            None => {
                self.refresh().await?;
                self.key(&kid).ok_or(TokenError::UnknownKey)?
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

    fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    async fn refresh(&self) -> Result<(), TokenError> {
        let KeySource::Remote { url, client } = &self.source else {
            return Err(TokenError::UnknownKey);
        };
        let mut last = self.last_fetch.lock().await;
        if let Some(at) = *last
            && at.elapsed() < self.settings.min_refresh_interval
        {
            // Fetched recently (perhaps by a request that waited on the same
            // lock): whatever we have is what there is.
            return if self.keys.read().map(|k| k.is_empty()).unwrap_or(true) {
                Err(TokenError::KeysUnavailable)
            } else {
                Ok(())
            };
        }
        *last = Some(Instant::now());
        let fetched = async {
            client
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .json::<JwkSet>()
                .await
        }
        .await;
        match fetched {
            Ok(set) => {
                self.set_keys(&set);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, jwks_url = %url, "cannot fetch signing keys");
                if self.keys.read().map(|k| k.is_empty()).unwrap_or(true) {
                    Err(TokenError::KeysUnavailable)
                } else {
                    Ok(())
                }
            }
        }
    }
}

fn usable_key(jwk: &Jwk) -> Option<DecodingKey> {
    if let Some(alg) = jwk.common.key_algorithm
        && alg != jsonwebtoken::jwk::KeyAlgorithm::EdDSA
    {
        return None;
    }
    match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_) => DecodingKey::from_jwk(jwk).ok(),
        _ => None,
    }
}

/// The caller, proven by a valid `Authorization: Bearer` access token.
/// Taking it as a handler argument makes the handler require sign-in.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Claims);

impl AuthUser {
    /// Refuse with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "this action needs the {} role",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer_token(parts: &Parts) -> Result<Option<&str>, Problem> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Problem::invalid_token("the Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(Problem::unauthorized(
            "the Authorization header must be `Bearer <access token>`",
        )),
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Arc<TokenVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?.ok_or_else(|| {
            Problem::unauthorized("sign in: this endpoint needs a bearer access token")
        })?;
        let verifier = Arc::<TokenVerifier>::from_ref(state);
        let claims = verifier.verify(token).await?;
        Ok(AuthUser(claims))
    }
}
