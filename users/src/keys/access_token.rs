//! Signing access tokens.

use std::time::Duration;

use common::auth::{Claims, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use uuid::Uuid;

use super::ed25519::SigningKey;

/// A signed access token and its lifetime (`Debug` hides the token).
#[derive(Clone)]
pub struct AccessToken {
    /// The compact JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &crate::redact::Redacted)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Signs EdDSA access tokens with the active key.
#[derive(Clone)]
pub struct TokenIssuer {
    key: EncodingKey,
    kid: String,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An issuer signing with `key` for `issuer`/`audience`, tokens living `ttl`.
    pub fn new(key: &SigningKey, issuer: &str, audience: &str, ttl: Duration) -> Self {
        Self {
            key: key.encoding_key(),
            kid: key.public_key().kid().to_string(),
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            ttl,
        }
    }

    /// A token for the user `id` with `email` and `role`.
    pub fn issue(
        &self,
        id: Uuid,
        email: &str,
        role: Role,
    ) -> Result<AccessToken, jsonwebtoken::errors::Error> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: id,
            email: email.to_string(),
            role,
            iat: now,
            exp: now.saturating_add(ttl),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".to_string());
        let token = jsonwebtoken::encode(&header, &claims, &self.key)?;
        Ok(AccessToken {
            token,
            expires_in: self.ttl.as_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::auth::{TokenVerifier, VerifierSettings};

    #[tokio::test]
    async fn issued_tokens_verify_against_the_published_key() {
        let key = SigningKey::generate().expect("key");
        let issuer = TokenIssuer::new(&key, "iss", "aud", Duration::from_secs(60));
        let id = Uuid::new_v4();
        let token = issuer.issue(id, "a@b.co", Role::Staff).expect("signs");
        let jwks = jsonwebtoken::jwk::JwkSet {
            keys: vec![key.public_key().to_jwk()],
        };
        let verifier = TokenVerifier::local(&jwks, VerifierSettings::new("iss", "aud"));
        let claims = verifier.verify(&token.token).await.expect("verifies");
        assert_eq!(claims.sub, id);
        assert_eq!(claims.role, Role::Staff);
        assert_eq!(claims.exp - claims.iat, 60);
    }

    #[test]
    fn an_access_token_prints_no_token() {
        let key = SigningKey::generate().expect("key");
        let issuer = TokenIssuer::new(&key, "iss", "aud", Duration::from_secs(60));
        let token = issuer
            .issue(Uuid::new_v4(), "a@b.co", Role::Staff)
            .expect("signs");
        let printed = format!("{token:?}");
        assert!(!printed.contains(&token.token), "{printed}");
    }
}
