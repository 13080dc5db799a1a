//! `GET /.well-known/jwks.json`: the public keys that verify our tokens.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use http::{HeaderValue, header};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(jwks))
}

/// A JSON Web Key Set (RFC 7517) of Ed25519 keys (`kty=OKP`, `crv=Ed25519`,
/// `alg=EdDSA`, `use=sig`, `kid`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JwksDoc {
    /// The keys: the signing key first, then keys kept for rotation.
    keys: Vec<serde_json::Value>,
}

/// Public signing keys.
///
/// Every key that may have signed a still-valid access token. Verifiers
/// cache this and fetch it again when a token names an unknown `kid`.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "keys",
    responses((status = 200, description = "The key set", body = JwksDoc))
)]
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        Json(state.keys.jwks()),
    )
}
