//! `GET /{id}` and `GET /slug/{slug}`: one product with its `ETag`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use common::Problem;
use http::{HeaderMap, StatusCode, header};
use sea_orm::DatabaseConnection;

use super::entity;
use super::etag;
use super::product::Product;
use super::store;

/// Read a product by id.
#[utoipa::path(get, path = "/{id}", tag = "products",
    params(("id" = i64, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = Product,
            headers(("ETag" = String, description = "Entity tag for If-Match"))),
        (status = 304, description = "Unchanged since the If-None-Match tag"),
        (status = 404, description = "No such product"),
    ))]
pub async fn get_product(
    State(db): State<DatabaseConnection>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let id = store::parse_id(&id)?;
    let model = store::find(&db, id).await?;
    Ok(respond(model, &headers))
}

/// Read a product by slug.
#[utoipa::path(get, path = "/slug/{slug}", tag = "products",
    params(("slug" = String, Path, description = "Product slug")),
    responses(
        (status = 200, description = "The product", body = Product,
            headers(("ETag" = String, description = "Entity tag for If-Match"))),
        (status = 304, description = "Unchanged since the If-None-Match tag"),
        (status = 404, description = "No such product"),
    ))]
pub async fn get_product_by_slug(
    State(db): State<DatabaseConnection>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let model = store::find_by_slug(&db, &slug).await?;
    Ok(respond(model, &headers))
}

/// 200 with the product and its `ETag`, or 304 when `If-None-Match` names
/// the current tag (weak comparison, RFC 9110 §13.1.2).
fn respond(model: entity::Model, headers: &HeaderMap) -> Response {
    let tag = etag::header_value(&model);
    if etag::none_match(headers, &etag::etag(&model)) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    ([(header::ETAG, tag)], Json(Product::from(model))).into_response()
}

/// The response of a write: the product, its new `ETag`, and `status`.
pub fn written(status: StatusCode, model: entity::Model) -> Response {
    let tag = etag::header_value(&model);
    (status, [(header::ETAG, tag)], Json(Product::from(model))).into_response()
}
