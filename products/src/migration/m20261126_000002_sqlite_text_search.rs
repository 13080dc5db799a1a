//! SQLite only: a trigram full-text index (FTS5, external content) over
//! title and description, kept in step by triggers, so `?q=` substring
//! search does not scan the table. PostgreSQL uses trigram GIN indexes
//! instead (first migration).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Creates `products_search` and its triggers on SQLite.
#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 5] = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS products_search USING fts5(\
        title, description, content='products', content_rowid='id', tokenize='trigram')",
    "INSERT INTO products_search(products_search) VALUES ('rebuild')",
    "CREATE TRIGGER IF NOT EXISTS products_search_insert AFTER INSERT ON products BEGIN \
        INSERT INTO products_search(rowid, title, description) \
        VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER IF NOT EXISTS products_search_delete AFTER DELETE ON products BEGIN \
        INSERT INTO products_search(products_search, rowid, title, description) \
        VALUES ('delete', old.id, old.title, old.description); END",
    // Only changes of the indexed text fire it: stock changes stay cheap.
    "CREATE TRIGGER IF NOT EXISTS products_search_update AFTER UPDATE OF title, description \
        ON products BEGIN \
        INSERT INTO products_search(products_search, rowid, title, description) \
        VALUES ('delete', old.id, old.title, old.description); \
        INSERT INTO products_search(rowid, title, description) \
        VALUES (new.id, new.title, new.description); END",
];

const DOWN: [&str; 4] = [
    "DROP TRIGGER IF EXISTS products_search_update",
    "DROP TRIGGER IF EXISTS products_search_delete",
    "DROP TRIGGER IF EXISTS products_search_insert",
    "DROP TABLE IF EXISTS products_search",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &DOWN).await
    }
}

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}
