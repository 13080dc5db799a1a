//! `/me` and `/me/password`: the signed-in user's own account.

use axum::extract::State;
use axum::http::StatusCode;
use common::Problem;
use common::extract::Json;
use common::fields::{FieldErrors, Patch};
use sea_orm::{IntoActiveModel, Set};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts;
use crate::client_ip::ClientIp;
use crate::current_user::CurrentUser;
use crate::domain::{AvatarUrl, Password, PersonName};
use crate::refresh_tokens;
use crate::state::AppState;
use crate::user_view::UserView;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read_me, update_me))
        .routes(routes!(change_password))
}

/// Profile changes. An absent field is unchanged, `null` clears it. Email,
/// role and `is_active` are not here and are refused as unknown fields.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// Given name, or `null` to clear.
    #[serde(default)]
    #[schema(schema_with = PersonName::first_name_schema)]
    pub first_name: Patch<String>,
    /// Family name, or `null` to clear.
    #[serde(default)]
    #[schema(schema_with = PersonName::last_name_schema)]
    pub last_name: Patch<String>,
    /// An `http(s)` link to a picture, or `null` to clear.
    #[serde(default)]
    #[schema(schema_with = avatar_url_schema)]
    pub avatar_url: Patch<String>,
}

fn avatar_url_schema() -> utoipa::openapi::schema::Object {
    common::input::web_url_schema(true)
        .description(Some("Absolute http:// or https:// link to a picture with a host, printable ASCII (percent-encode the rest), at most 2048 characters; null clears it."))
        .examples(["https://cdn.example.com/ada.png"])
        .build()
}

/// A password change. `Debug` shows neither password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in use now.
    pub current_password: String,
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("current_password", &crate::redact::Redacted)
            .field("new_password", &crate::redact::Redacted)
            .finish()
    }
}

/// Read your own profile.
#[utoipa::path(
    get,
    path = "/me",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your account", body = UserView),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "The account is deactivated"),
    )
)]
async fn read_me(CurrentUser(me): CurrentUser) -> axum::Json<UserView> {
    axum::Json(UserView::from(me))
}

/// Update your own profile (`first_name`, `last_name`, `avatar_url`).
#[utoipa::path(
    patch,
    path = "/me",
    tag = "me",
    security(("bearer" = [])),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The updated account", body = UserView),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "The account is deactivated"),
        (status = 415, description = "Not JSON"),
        (status = 422, description = "Invalid or unknown fields (e.g. `role`, `is_active`)"),
    )
)]
async fn update_me(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<ProfileUpdate>,
) -> Result<axum::Json<UserView>, Problem> {
    let mut fields = FieldErrors::default();
    let mut row = me.into_active_model();
    if let Some(value) = body.first_name.into_change() {
        let parsed = value.and_then(|v| fields.check("first_name", PersonName::parse(&v)));
        row.first_name = Set(parsed.map(PersonName::into_inner));
    }
    if let Some(value) = body.last_name.into_change() {
        let parsed = value.and_then(|v| fields.check("last_name", PersonName::parse(&v)));
        row.last_name = Set(parsed.map(PersonName::into_inner));
    }
    if let Some(value) = body.avatar_url.into_change() {
        let parsed = value.and_then(|v| fields.check("avatar_url", AvatarUrl::parse(&v)));
        row.avatar_url = Set(parsed.map(AvatarUrl::into_inner));
    }
    fields.finish()?;
    let updated = accounts::update(&state.db, row).await?;
    Ok(axum::Json(UserView::from(updated)))
}

/// Change your password.
///
/// Every refresh token of the account is revoked: other sessions must sign
/// in again (access tokens already issued live out their short lifetime).
/// Wrong current passwords count as failed logins of the account, so a
/// stolen access token cannot be used to guess the password.
#[utoipa::path(
    put,
    path = "/me/password",
    tag = "me",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; all refresh tokens revoked"),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "The current password is wrong, or the account is deactivated"),
        (status = 415, description = "Not JSON"),
        (status = 422, description = "The new password is invalid, or unknown fields"),
        (status = 429, description = "Too many wrong passwords",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CurrentUser(me): CurrentUser,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, Problem> {
    let mut fields = FieldErrors::default();
    let new_password = fields.check("new_password", Password::parse(&body.new_password));
    fields.finish()?;
    let new_password = new_password.ok_or_else(Problem::internal)?;
    state
        .throttle
        .reserve_password_attempt(&me.email, ip)
        .await
        .map_err(|e| e.into_problem("too many wrong passwords; try again later"))?;
    if !state
        .hashing
        .verify(&body.current_password, Some(me.password_hash.as_str()))
        .await?
    {
        return Err(Problem::forbidden("the current password is wrong"));
    }
    state.throttle.password_accepted(&me.email, ip).await?;
    let user_id = me.id;
    let mut row = me.into_active_model();
    row.password_hash = Set(state.hashing.hash(&new_password).await?);
    accounts::update(&state.db, row).await?;
    refresh_tokens::revoke_all_of_user(&state.db, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_change_prints_neither_password() {
        let change = PasswordChange {
            current_password: "old-s3cret".into(),
            new_password: "new-s3cret".into(),
        };
        let printed = format!("{change:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
    }
}
