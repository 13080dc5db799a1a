//! `POST /{id}/stock`: change the stock by a delta, atomically.
//!
//! The change is one conditional `UPDATE ... SET stock_qty = stock_qty +
//! delta WHERE id = ? AND stock_qty + delta BETWEEN 0 AND <stock maximum>
//! RETURNING *`. The database evaluates the condition and the write
//! together, so concurrent decrements can never oversell and concurrent
//! increments never pass the maximum; a refused change writes nothing. The
//! CHECK (`stock_qty >= 0`) constraint is the backstop.

use axum::extract::{Path, State};
use axum::response::Response;
use common::Problem;
use common::auth::AuthUser;
use common::extract::Json;
use http::StatusCode;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryTrait};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalogue::entity::{Column, Entity};
use crate::catalogue::input::STOCK_MAX;
use crate::catalogue::product::now;
use crate::catalogue::read::written;
use crate::catalogue::store;
use crate::catalogue::write::WRITERS;
use crate::domain::WholeNumber;
use crate::metrics::{ProductsMetrics, StockConflict};
use crate::state::AppState;

/// Routes of this module: `/{id}/stock`.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(change_stock))
}

/// `POST /{id}/stock` body. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockChangeRequest {
    /// Units to add (positive) or remove (negative); not zero, at most
    /// 1,000,000,000 either way.
    #[schema(schema_with = delta_schema, required = true)]
    pub delta: Option<WholeNumber>,
}

/// `delta`: a whole number from -1,000,000,000 to 1,000,000,000 but not 0,
/// stated as two ranges (removals, additions).
fn delta_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let range = |min: i64, max: i64| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min))
            .maximum(Some(max))
    };
    OneOfBuilder::new()
        .item(range(-STOCK_MAX, -1))
        .item(range(1, STOCK_MAX))
        .description(Some(
            "Units to add (positive) or remove (negative): a whole number, not zero, at most 1,000,000,000 either way.",
        ))
        .examples([-1])
        .into()
}

/// A checked, non-zero stock change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockChange(i64);

impl StockChange {
    /// Accept a delta from -1,000,000,000 to 1,000,000,000, not zero.
    pub fn parse(delta: Option<&WholeNumber>) -> Result<StockChange, Problem> {
        let message = match delta.map(|d| d.in_range(-STOCK_MAX..=STOCK_MAX)) {
            None => "is required".to_string(),
            Some(Ok(0)) => "must not be zero".to_string(),
            Some(Ok(d)) => return Ok(StockChange(d)),
            Some(Err(message)) => message,
        };
        Err(Problem::validation(vec![common::FieldError::new(
            "delta", message,
        )]))
    }

    /// The signed number of units.
    pub fn delta(self) -> i64 {
        self.0
    }
}

/// Apply a stock change atomically.
#[utoipa::path(post, path = "/{id}/stock", tag = "stock",
    params(("id" = i64, Path, description = "Product id")),
    request_body = StockChangeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The product with its new stock", body = crate::catalogue::product::Product,
            headers(("ETag" = String, description = "The new entity tag"))),
        (status = 401, description = "No or invalid access token"),
        (status = 403, description = "Not staff or admin"),
        (status = 404, description = "No such product"),
        (status = 409, description = "Not enough stock, or the stock would pass its maximum (1,000,000,000); nothing changed"),
        (status = 422, description = "Invalid delta"),
    ))]
pub async fn change_stock(
    State(db): State<DatabaseConnection>,
    State(metrics): State<ProductsMetrics>,
    auth: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<StockChangeRequest>,
) -> Result<Response, Problem> {
    auth.require(WRITERS)?;
    let id = store::parse_id(&id)?;
    let change = StockChange::parse(body.delta.as_ref())?;
    let new_stock = Expr::col(Column::StockQty).add(change.delta());
    let update = Entity::update_many()
        .col_expr(Column::StockQty, new_stock.clone())
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(new_stock.clone().gte(0))
        .filter(new_stock.lte(STOCK_MAX))
        .into_query();
    match store::update_returning(&db, update).await? {
        Some(model) => {
            tracing::info!(id, delta = change.delta(), stock = model.stock_qty, by = %auth.0.sub, "stock changed");
            metrics.stock_changed(change.delta());
            Ok(written(StatusCode::OK, model))
        }
        None => {
            // Nothing was written; say why.
            let current = store::find(&db, id).await?;
            let (problem, limit) = if change.delta() < 0 {
                metrics.stock_conflict(StockConflict::Insufficient);
                ("not enough stock", "below zero".to_string())
            } else {
                metrics.stock_conflict(StockConflict::OverMaximum);
                (
                    "too much stock",
                    format!("above the maximum of {STOCK_MAX}"),
                )
            };
            Err(Problem::conflict(format!(
                "{problem}: {} in stock, a change of {} would take it {limit}; nothing changed",
                current.stock_qty,
                change.delta()
            )))
        }
    }
}
