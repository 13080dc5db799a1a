//! `?q=` in the database: the substring fallback when no product matches
//! `q`'s words in the search index (a partial word such as `kett`, or text
//! with no word in it such as `%`). `q` is matched as a case-insensitive
//! substring of title or description, as before word search existed:
//! trigram indexes serve it (FTS5 `trigram` on SQLite from 3 characters,
//! `pg_trgm` on PostgreSQL), titles first, then newest.

use common::db::contains_pattern;
use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{DbBackend, Order, QueryOrder, Select};

use super::super::entity::{Column, Entity};

/// Shortest text the SQLite trigram index can answer.
const TRIGRAM: usize = 3;

/// The products whose title or description contains `q`.
pub(super) fn condition(q: &str, backend: DbBackend) -> SimpleExpr {
    if backend == DbBackend::Sqlite && q.chars().count() >= TRIGRAM {
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        return Expr::cust_with_values(
            "\"products\".\"id\" IN (SELECT rowid FROM products_search WHERE products_search MATCH ?)",
            [phrase],
        );
    }
    let pattern = contains_pattern(q);
    let contains =
        |column: Column| Expr::expr(Func::lower(Expr::col(column))).like(pattern.clone());
    contains(Column::Title).or(contains(Column::Description))
}

/// `select` (already narrowed to `q`) ordered titles first, the id (newest
/// first) breaking ties.
pub(super) fn by_substring_relevance(select: Select<Entity>, q: &str) -> Select<Entity> {
    let in_title =
        Expr::expr(Func::lower(Expr::col((Entity, Column::Title)))).like(contains_pattern(q));
    select
        .order_by(
            Into::<SimpleExpr>::into(Expr::case(in_title, 0).finally(1)),
            Order::Asc,
        )
        .order_by(Column::Id, Order::Desc)
}
