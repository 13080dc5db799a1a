//! SQLite only: a trigram full-text index (FTS5, external content) over
//! title and description, kept in step by triggers, so `?q=` substring
//! search does not scan the table. PostgreSQL uses trigram GIN indexes
//! instead (first migration).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::{drop_fts5_over_products, execute_all, fts5_over_products};

/// Creates `products_search` and its triggers on SQLite.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// FTS5 table name and tokenizer.
const SEARCH: (&str, &str) = ("products_search", "trigram");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, fts5_over_products(SEARCH.0, SEARCH.1)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, drop_fts5_over_products(SEARCH.0)).await
    }
}

async fn run<S: AsRef<str>>(
    manager: &SchemaManager<'_>,
    statements: impl IntoIterator<Item = S>,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    execute_all(manager, statements).await
}
