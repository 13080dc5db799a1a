//! Database access shared by the catalogue and stock handlers.

use common::Problem;
use common::db::UniqueKey;
use sea_orm::sea_query::UpdateStatement;
use sea_orm::{
    AccessMode, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, IsolationLevel, QueryFilter, TransactionTrait,
};

use super::entity::{self, Column, Entity};

/// A read-only transaction whose statements all see one snapshot
/// (`REPEATABLE READ` on PostgreSQL; SQLite's read transactions already do).
pub async fn read_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await
        }
        _ => db.begin().await,
    }
}

/// Parse a path id; anything but a positive integer in canonical form
/// (digits, no sign, no leading zero) names no product.
pub fn parse_id(raw: &str) -> Result<i64, Problem> {
    let canonical =
        !raw.is_empty() && !raw.starts_with('0') && raw.bytes().all(|b| b.is_ascii_digit());
    canonical
        .then(|| raw.parse::<i64>().ok())
        .flatten()
        .ok_or_else(|| not_found(raw))
}

/// 404 for a product id.
pub fn not_found(id: impl std::fmt::Display) -> Problem {
    Problem::not_found(format!("no product with id {id}"))
}

/// The product `id`, or 404.
pub async fn find(db: &DatabaseConnection, id: i64) -> Result<entity::Model, Problem> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| not_found(id))
}

/// The product with `slug`, or 404.
pub async fn find_by_slug(db: &DatabaseConnection, slug: &str) -> Result<entity::Model, Problem> {
    Entity::find()
        .filter(Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no product with slug `{slug}`")))
}

/// Run one `UPDATE ... RETURNING *` and give back the changed row, if the
/// `WHERE` matched one. One statement: atomic on both backends.
pub async fn update_returning(
    db: &DatabaseConnection,
    mut update: UpdateStatement,
) -> Result<Option<entity::Model>, DbErr> {
    update.returning_all();
    let statement = db.get_database_backend().build(&update);
    Entity::find().from_raw_sql(statement).one(db).await
}

/// The unique slug (an inline `UNIQUE`, named by PostgreSQL's convention).
const UNIQUE_SLUG: UniqueKey = UniqueKey {
    name: "products_slug_key",
    columns: "products.slug",
};

/// A database error, with a taken slug explained.
pub fn slug_conflict(err: DbErr, slug: &str) -> Problem {
    UNIQUE_SLUG.or_problem(err, || {
        Problem::conflict(format!(
            "the slug `{slug}` is already used by another product"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_positive_integers_are_ids() {
        assert_eq!(parse_id("42").ok(), Some(42));
        for bad in [
            "0",
            "042",
            "+42",
            "-1",
            "4.2",
            "abc",
            "",
            "99999999999999999999",
        ] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
    }
}
