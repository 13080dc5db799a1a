//! The service's routes, assembled from one router per resource, and the
//! OpenAPI document they describe.

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalogue::{list, read, write};

use crate::openapi::ApiDoc;
use crate::state::AppState;

/// Every route of the service, health included, with `/openapi.json` and
/// Swagger UI at `/docs`.
pub fn router(state: AppState) -> Router {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(catalogue())
        .merge(crate::stock::router())
        .merge(crate::categories::router())
        .merge(common::health::router())
        .split_for_parts();
    router
        .with_state(state)
        .merge(common::api_docs::docs_router(api))
}

/// Routes of the catalogue: `/`, `/{id}` and `/slug/{slug}`. Assembled here,
/// not in `catalogue`, because the state names the catalogue's search index:
/// `catalogue` naming the state back would be an import circle.
fn catalogue() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list_products, write::create_product))
        .routes(routes!(
            read::get_product,
            write::update_product,
            write::delete_product
        ))
        .routes(routes!(read::get_product_by_slug))
}
