//! `POST /`, `PATCH /{id}`, `DELETE /{id}`: staff and admin only.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use common::Problem;
use common::auth::{AuthUser, Role};
use common::extract::Json;
use common::forwarded::ForwardedPrefix;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryTrait,
};

use super::entity::{self, Column, Entity};
use super::etag::IfMatch;
use super::input::{CreateProduct, ProductChanges, UpdateProduct};
use super::product::{Product, now};
use super::read::written;
use super::store;
use crate::metrics::{Change, ProductsMetrics};

/// Roles that may change the catalogue.
pub const WRITERS: &[Role] = &[Role::Staff, Role::Admin];

/// Create a product; the slug is derived from the title when absent.
#[utoipa::path(post, path = "/", tag = "products",
    request_body = CreateProduct,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Product,
            headers(("Location" = String, description = "The new product's URL"),
                    ("ETag" = String, description = "Entity tag"))),
        (status = 401, description = "No or invalid access token"),
        (status = 403, description = "Not staff or admin"),
        (status = 409, description = "The slug is taken"),
        (status = 422, description = "Invalid fields (each one listed)"),
    ))]
pub async fn create_product(
    State(db): State<DatabaseConnection>,
    State(metrics): State<ProductsMetrics>,
    auth: AuthUser,
    prefix: ForwardedPrefix,
    Json(body): Json<CreateProduct>,
) -> Result<Response, Problem> {
    auth.require(WRITERS)?;
    let new = body.parse()?;
    let now = now();
    let model = entity::ActiveModel {
        title: Set(new.title),
        slug: Set(new.slug.to_string()),
        description: Set(new.description),
        price_minor: Set(new.price.minor_units()),
        currency: Set(new.currency.code().to_string()),
        stock_qty: Set(new.stock_qty),
        category: Set(new.category),
        brand: Set(new.brand),
        image_url: Set(new.image_url),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .map_err(|e| store::slug_conflict(e, new.slug.as_str()))?;
    tracing::info!(id = model.id, slug = %model.slug, by = %auth.0.sub, "product created");
    metrics.changed(Change::Created);
    let location = prefix.link(&format!("/{}", model.id));
    let mut response = written(StatusCode::CREATED, model);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Change some fields of a product; honours `If-Match`.
#[utoipa::path(patch, path = "/{id}", tag = "products",
    params(("id" = i64, Path, description = "Product id"),
           ("If-Match" = Option<String>, Header, description = "Only change the product if its ETag is one of these")),
    request_body = UpdateProduct,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed product", body = Product,
            headers(("ETag" = String, description = "The new entity tag"))),
        (status = 401, description = "No or invalid access token"),
        (status = 403, description = "Not staff or admin"),
        (status = 404, description = "No such product"),
        (status = 409, description = "The new slug is taken"),
        (status = 412, description = "The product changed since the If-Match tag"),
        (status = 422, description = "Invalid fields (each one listed)"),
    ))]
pub async fn update_product(
    State(db): State<DatabaseConnection>,
    State(metrics): State<ProductsMetrics>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<UpdateProduct>,
) -> Result<Response, Problem> {
    auth.require(WRITERS)?;
    let id = store::parse_id(&id)?;
    let changes = body.parse()?;
    let condition = IfMatch::from_headers(&headers);
    let current = store::find(&db, id).await?;
    if !condition.allows(&current) {
        return Err(stale());
    }
    if changes.is_empty() {
        return Ok(written(StatusCode::OK, current));
    }
    let slug = changes.slug.as_ref().map(|s| s.to_string());
    let mut update = apply(Entity::update_many(), changes)
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id));
    if condition.is_conditional() {
        // Nobody may have changed it between the check above and now.
        update = update.filter(Column::Version.eq(current.version));
    }
    let updated = store::update_returning(&db, update.into_query())
        .await
        .map_err(|e| store::slug_conflict(e, slug.as_deref().unwrap_or_default()))?;
    match updated {
        Some(model) => {
            tracing::info!(id, by = %auth.0.sub, "product updated");
            metrics.changed(Change::Updated);
            Ok(written(StatusCode::OK, model))
        }
        None if condition.is_conditional() => Err(stale()),
        None => Err(store::not_found(id)),
    }
}

fn apply(
    mut update: sea_orm::UpdateMany<Entity>,
    changes: ProductChanges,
) -> sea_orm::UpdateMany<Entity> {
    if let Some(title) = changes.title {
        update = update.col_expr(Column::Title, Expr::value(title));
    }
    if let Some(slug) = changes.slug {
        update = update.col_expr(Column::Slug, Expr::value(slug.to_string()));
    }
    if let Some(description) = changes.description {
        update = update.col_expr(Column::Description, Expr::value(description));
    }
    if let Some(price) = changes.price {
        update = update.col_expr(Column::PriceMinor, Expr::value(price.minor_units()));
    }
    if let Some(currency) = changes.currency {
        update = update.col_expr(Column::Currency, Expr::value(currency.code()));
    }
    if let Some(category) = changes.category {
        update = update.col_expr(Column::Category, Expr::value(category));
    }
    if let Some(brand) = changes.brand {
        update = update.col_expr(Column::Brand, Expr::value(brand));
    }
    if let Some(image_url) = changes.image_url {
        update = update.col_expr(Column::ImageUrl, Expr::value(image_url));
    }
    update
}

/// Delete a product; honours `If-Match`.
#[utoipa::path(delete, path = "/{id}", tag = "products",
    params(("id" = i64, Path, description = "Product id"),
           ("If-Match" = Option<String>, Header, description = "Only delete the product if its ETag is one of these")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid access token"),
        (status = 403, description = "Not staff or admin"),
        (status = 404, description = "No such product"),
        (status = 412, description = "The product changed since the If-Match tag"),
    ))]
pub async fn delete_product(
    State(db): State<DatabaseConnection>,
    State(metrics): State<ProductsMetrics>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    auth.require(WRITERS)?;
    let id = store::parse_id(&id)?;
    let condition = IfMatch::from_headers(&headers);
    let mut delete = Entity::delete_many().filter(Column::Id.eq(id));
    if condition.is_conditional() {
        let current = store::find(&db, id).await?;
        if !condition.allows(&current) {
            return Err(stale());
        }
        delete = delete.filter(Column::Version.eq(current.version));
    }
    let deleted = delete.exec(&db).await?.rows_affected;
    if deleted == 0 {
        return Err(if condition.is_conditional() {
            stale()
        } else {
            store::not_found(id)
        });
    }
    tracing::info!(id, by = %auth.0.sub, "product deleted");
    metrics.changed(Change::Deleted);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn stale() -> Problem {
    Problem::precondition_failed(
        "the product has changed since the If-Match tag was read; read it again",
    )
}
