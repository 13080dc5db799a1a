//! Access-token verification shared by every service.
//!
//! Tokens are EdDSA (Ed25519) JWTs issued by the users service. Verifiers
//! take the public keys from its JWKS and keep them fresh
//! ([`TokenVerifier`]); handlers take an [`AuthUser`] to require sign-in.

mod jwks_client;
mod key_set;
mod verifier;

pub use verifier::{MAX_AGE_CAP, TokenError, TokenVerifier, VerifierSettings};

use std::str::FromStr;
#[cfg(feature = "service")]
use std::sync::Arc;

#[cfg(feature = "service")]
use axum::extract::{FromRef, FromRequestParts};
use http::HeaderMap;
use http::header::AUTHORIZATION;
use http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "service", derive(utoipa::ToSchema))]
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

/// The claims of an access token. `Debug` leaves out the email (personal
/// data has no place in logs); the user id identifies the caller.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims")
            .field("sub", &self.sub)
            .field("email", &"[redacted]")
            .field("role", &self.role)
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("iss", &self.iss)
            .field("aud", &self.aud)
            .field("jti", &self.jti)
            .finish()
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
    bearer_token_in(&parts.headers)
}

/// The bearer token in `headers`, if there is one (what [`bearer_token`]
/// reads, for callers holding only the headers, such as the gateway).
pub fn bearer_token_in(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(value) = headers.get(AUTHORIZATION) else {
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

#[cfg(feature = "service")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_and_auth_user_debug_hide_the_email() {
        let claims = Claims {
            sub: uuid::Uuid::nil(),
            email: "alice@example.com".into(),
            role: Role::Staff,
            iat: 1,
            exp: 2,
            iss: "shop-users".into(),
            aud: "shop".into(),
            jti: "jti-1".into(),
        };
        for printed in [
            format!("{claims:?}"),
            format!("{:?}", AuthUser(claims.clone())),
        ] {
            assert!(!printed.contains("alice@example.com"), "{printed}");
            assert!(printed.contains("[redacted]"), "{printed}");
            assert!(printed.contains("Staff"), "{printed}");
            assert!(printed.contains(&claims.sub.to_string()), "{printed}");
        }
    }
}
