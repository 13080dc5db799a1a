//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use common::auth::TokenVerifier;
use sea_orm::DatabaseConnection;

use crate::client_ip::TrustedProxies;
use crate::keys::{KeyRing, TokenIssuer};
use crate::metrics::UsersMetrics;
use crate::passwords::PasswordHashing;
use crate::refresh_tokens::RefreshTtl;
use crate::throttle::Throttle;

/// Shared state of the users service (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The users database.
    pub db: DatabaseConnection,
    /// Verifies access tokens against our own published keys.
    pub verifier: Arc<TokenVerifier>,
    /// Signs access tokens.
    pub issuer: Arc<TokenIssuer>,
    /// The signing key and the retired keys, for the JWKS.
    pub keys: Arc<KeyRing>,
    /// Argon2id.
    pub hashing: PasswordHashing,
    /// Password-attempt and registration counters (in the database).
    pub throttle: Arc<Throttle>,
    /// Peers whose forwarding headers name the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Lifetimes of a refresh token and of its family.
    pub refresh_ttl: RefreshTtl,
    /// Sign-ins, registrations, refresh rotations.
    pub metrics: UsersMetrics,
}

impl FromRef<AppState> for Arc<TokenVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl FromRef<AppState> for Arc<TrustedProxies> {
    fn from_ref(state: &AppState) -> Self {
        state.trusted_proxies.clone()
    }
}

impl FromRef<AppState> for DatabaseConnection {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}
