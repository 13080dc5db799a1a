//! `/auth/*`: registration, login, refresh-token rotation, logout.

mod login;
mod redaction;
mod register;
mod session;

use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register::register))
        .routes(routes!(login::login))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
}

/// An access token and the refresh token that renews it (OAuth2 token
/// response shape). (`Debug` in `redaction`.)
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// EdDSA-signed JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Opaque token for `POST /auth/refresh`; single use.
    pub refresh_token: String,
}

/// The 200 response of login and refresh; never cached.
fn token_response(
    access: crate::keys::AccessToken,
    refresh: crate::refresh_tokens::IssuedRefreshToken,
) -> impl axum::response::IntoResponse {
    (
        [
            (
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            ),
            (
                http::header::PRAGMA,
                http::HeaderValue::from_static("no-cache"),
            ),
        ],
        axum::Json(TokenPair {
            access_token: access.token,
            token_type: "bearer",
            expires_in: access.expires_in,
            refresh_token: refresh.0,
        }),
    )
}
