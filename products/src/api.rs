//! The HTTP surface: each resource module's routes, health, and the
//! OpenAPI document with Swagger UI.

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The OpenAPI description; paths are added by the resource routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Products service",
        description = "Catalogue, search, exact money and atomic stock. Writes need a staff or admin access token from the users service.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "products", description = "The catalogue"),
        (name = "stock", description = "Atomic stock changes"),
        (name = "categories", description = "Categories with product counts"),
        (name = "health", description = "Liveness and readiness"),
    ),
    components(schemas(common::Problem, common::FieldError))
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the write endpoints name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from POST /users/auth/login"))
                    .build(),
            ),
        );
    }
}

/// All routes with state applied, plus `/docs` and `/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(
            crate::catalogue::list::list_products,
            crate::catalogue::write::create_product
        ))
        .routes(routes!(
            crate::catalogue::read::get_product,
            crate::catalogue::write::update_product,
            crate::catalogue::write::delete_product
        ))
        .routes(routes!(crate::catalogue::read::get_product_by_slug))
        .routes(routes!(crate::stock::change_stock))
        .routes(routes!(crate::categories::list_categories))
        .routes(routes!(health))
        .routes(routes!(ready))
        .split_for_parts();
    router.with_state(state).merge(crate::docs::router(openapi))
}

/// Liveness: the process serves requests.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Serving", body = common::health::HealthStatus)))]
async fn health() -> axum::Json<common::health::HealthStatus> {
    common::health::health().await
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = common::health::HealthStatus),
        (status = 503, description = "The database is not reachable", body = common::Problem, content_type = "application/problem+json"),
    ))]
async fn ready(
    state: axum::extract::State<sea_orm::DatabaseConnection>,
) -> Result<axum::Json<common::health::HealthStatus>, common::Problem> {
    common::health::ready(state).await
}
