//! The OpenAPI document's fixed parts; paths come from the resource routers,
//! problem+json error bodies and serving (with Swagger UI) from
//! `common::api_docs`.

use common::api_docs::BearerAuth;
use utoipa::OpenApi;

/// The token a client sends as `Authorization: Bearer`.
const BEARER: BearerAuth = BearerAuth {
    description: "An access token from `POST /auth/login` (EdDSA-signed JWT).",
};

/// The document's info, tags and security scheme.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Users service",
        description = "Accounts, authentication, roles and the JWKS of the shop. \
            Every error is `application/problem+json` (RFC 9457).",
    ),
    modifiers(&BEARER),
    tags(
        (name = "auth", description = "Registration, login, token refresh, logout"),
        (name = "me", description = "The signed-in user's own account"),
        (name = "admin", description = "User administration (admins only)"),
        (name = "keys", description = "Public keys that verify access tokens"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;
