//! Who is calling: extractors that make a handler's signature say who may
//! call it. Unlike other services, this one checks the database on every
//! request, so a deactivated account's access tokens stop working at once
//! and a changed role applies at once.

use axum::extract::FromRequestParts;
use common::Problem;
use common::auth::{AuthUser, Role};
use http::request::Parts;

use crate::accounts;
use crate::entity::user;
use crate::state::AppState;

/// A signed-in, active user (valid access token, account still active).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub user::Model);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let AuthUser(claims) = AuthUser::from_request_parts(parts, state).await?;
        let row = accounts::find_by_id(&state.db, claims.sub)
            .await?
            .ok_or_else(|| Problem::invalid_token("the account of this token no longer exists"))?;
        if !row.is_active {
            return Err(deactivated());
        }
        Ok(CurrentUser(row))
    }
}

/// A signed-in, active admin (role checked in the database).
#[derive(Debug, Clone)]
pub struct Admin(pub user::Model);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(row) = CurrentUser::from_request_parts(parts, state).await?;
        if accounts::role_of(&row) != Role::Admin {
            return Err(Problem::forbidden("this action needs the admin role"));
        }
        Ok(Admin(row))
    }
}

/// 403 for a deactivated account.
pub fn deactivated() -> Problem {
    Problem::forbidden("this account is deactivated")
}
