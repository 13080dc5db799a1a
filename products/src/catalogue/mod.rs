//! The catalogue: products, their listing, reading, creation, changes and
//! removal.

pub mod entity;
pub mod etag;
pub mod index;
pub mod input;
mod input_schema;
pub mod list;
pub mod product;
pub mod read;
pub mod store;
pub mod write;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Routes of the catalogue: `/`, `/{id}` and `/slug/{slug}`.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list_products, write::create_product))
        .routes(routes!(
            read::get_product,
            write::update_product,
            write::delete_product
        ))
        .routes(routes!(read::get_product_by_slug))
}
