//! `GET /categories`: every category with its product count, by name.

use axum::Json;
use axum::extract::State;
use common::Problem;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{DatabaseConnection, EntityTrait, FromQueryResult, Order, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalogue::entity::{Column, Entity};
use crate::state::AppState;

/// Routes of this module: `/categories`.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_categories))
}

/// A category and how many products it has.
#[derive(Debug, Serialize, ToSchema, FromQueryResult)]
pub struct Category {
    /// The category name.
    #[schema(example = "Electronics")]
    pub name: String,
    /// How many products are in it.
    #[schema(example = 12)]
    pub count: i64,
}

/// List categories with their product counts, by name.
#[utoipa::path(get, path = "/categories", tag = "categories",
    responses((status = 200, description = "Categories by name", body = Vec<Category>)))]
pub async fn list_categories(
    State(db): State<DatabaseConnection>,
) -> Result<Json<Vec<Category>>, Problem> {
    let categories = Entity::find()
        .select_only()
        .column_as(Column::Category, "name")
        .column_as(Expr::from(Func::count(Expr::col(Column::Id))), "count")
        .group_by(Column::Category)
        .order_by(Column::Category, Order::Asc)
        .into_model::<Category>()
        .all(&db)
        .await?;
    Ok(Json(categories))
}
