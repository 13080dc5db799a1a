//! The service's routes, assembled from one router per resource, and the
//! OpenAPI document they describe.

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::state::AppState;

/// Every route of the service, health included, with `/openapi.json` and
/// Swagger UI at `/docs`.
pub fn router(state: AppState) -> Router {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::catalogue::router())
        .merge(crate::stock::router())
        .merge(crate::categories::router())
        .merge(common::health::router())
        .split_for_parts();
    router
        .with_state(state)
        .merge(common::api_docs::docs_router(api))
}
