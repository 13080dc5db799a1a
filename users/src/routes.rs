//! The service's routes, assembled from one router per resource, and the
//! OpenAPI document they describe.

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every route of the service except health (added by the caller).
pub fn router(state: AppState) -> Router {
    let (router, _api) = OpenApiRouter::new()
        .merge(crate::jwks::router())
        .split_for_parts();
    router.with_state(state)
}
