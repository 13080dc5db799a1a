//! The OpenAPI document's fixed parts; paths come from the resource routers,
//! problem+json error bodies and serving (with Swagger UI) from
//! `common::api_docs`.

use common::api_docs::BearerAuth;
use utoipa::OpenApi;

/// The token the write endpoints need.
const BEARER: BearerAuth = BearerAuth {
    description: "Access token from POST /users/auth/login",
};

/// The document's info, tags and security scheme.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Products service",
        description = "Catalogue, search, exact money and atomic stock. Writes need a staff or admin access token from the users service.",
    ),
    modifiers(&BEARER),
    tags(
        (name = "products", description = "The catalogue"),
        (name = "stock", description = "Atomic stock changes"),
        (name = "categories", description = "Categories with product counts"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;
