//! `GET /categories`: every category with its product count, by name, read
//! from the counts the database keeps (`catalogue_counts`), so the answer
//! costs the same at a million products as at ten.

use axum::Json;
use axum::extract::State;
use common::Problem;
use sea_orm::{DatabaseConnection, FromQueryResult, Statement};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    let sql = "SELECT value AS name, count FROM catalogue_counts \
               WHERE facet = 'category' AND count > 0 ORDER BY value";
    let categories =
        Category::find_by_statement(Statement::from_string(db.get_database_backend(), sql))
            .all(&db)
            .await?;
    Ok(Json(categories))
}
