//! `POST /auth/refresh` and `POST /auth/logout`: a refresh token is
//! exchanged for a new pair (and dies), or revoked.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use common::Problem;
use common::extract::Json;
use serde::Deserialize;

use super::TokenPair;
use crate::accounts;
use crate::current_user::deactivated;
use crate::refresh_tokens::{self, RefreshRefusal};
use crate::state::AppState;

/// A refresh token presented for rotation or logout (`Debug` in `redaction`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The opaque refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// Rotate a refresh token.
///
/// Returns a new pair; the presented token is revoked. Presenting a token
/// that was already used revokes every token of its session.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token"),
        (status = 403, description = "The account is deactivated"),
        (status = 415, description = "Not JSON"),
        (status = 422, description = "Missing or unknown fields"),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<impl IntoResponse, Problem> {
    let invalid = || Problem::from(RefreshRefusal::Invalid);
    let row = refresh_tokens::find(&state.db, &body.refresh_token)
        .await?
        .ok_or_else(invalid)?;
    let account = accounts::find_by_id(&state.db, row.user_id)
        .await?
        .ok_or_else(invalid)?;
    // A deactivated account is told so, whatever state its token is in.
    if !account.is_active {
        return Err(deactivated());
    }
    let reused = |refusal: RefreshRefusal| {
        if refusal == RefreshRefusal::Reused {
            state.metrics.refresh_reused();
        }
        Problem::from(refusal)
    };
    refresh_tokens::check_live(&state.db, &row)
        .await?
        .map_err(reused)?;
    let next = refresh_tokens::rotate(&state.db, &row, state.refresh_ttl)
        .await?
        .map_err(reused)?;
    state.metrics.refresh_rotated();
    let access = state
        .issuer
        .issue(account.id, &account.email, accounts::role_of(&account))
        .map_err(|e| {
            tracing::error!(error = %e, "signing an access token");
            Problem::internal()
        })?;
    Ok(super::token_response(access, next))
}

/// Sign out: revoke the refresh token's session.
///
/// Answers 204 whether or not the token was known (RFC 7009), so the
/// endpoint reveals nothing about tokens.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The refresh token no longer works"),
        (status = 415, description = "Not JSON"),
        (status = 422, description = "Missing or unknown fields"),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<StatusCode, Problem> {
    refresh_tokens::revoke(&state.db, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
