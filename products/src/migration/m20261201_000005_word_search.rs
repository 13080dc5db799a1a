//! Word search with stemming and ranking for `?q=`.
//!
//! PostgreSQL: a stored generated `search_vector` (English stemming, the
//! title weighted `A` over the description's `B`) with a GIN index, queried
//! with `websearch_to_tsquery` and ranked with `ts_rank`. SQLite: an FTS5
//! table `products_words` with the Porter stemmer (external content, kept
//! in step by triggers like the trigram table of the second migration),
//! ranked with `bm25`. The trigram indexes stay: they serve the substring
//! fallback for partial words.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::{drop_fts5_over_products, execute_all, fts5_over_products};

/// Adds the word-search index on either backend.
#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: [&str; 2] = [
    "ALTER TABLE products ADD COLUMN IF NOT EXISTS search_vector tsvector \
     GENERATED ALWAYS AS (setweight(to_tsvector('english', title), 'A') \
     || setweight(to_tsvector('english', description), 'B')) STORED",
    "CREATE INDEX IF NOT EXISTS idx_products_search_vector ON products USING gin (search_vector)",
];

const POSTGRES_DOWN: [&str; 2] = [
    "DROP INDEX IF EXISTS idx_products_search_vector",
    "ALTER TABLE products DROP COLUMN IF EXISTS search_vector",
];

/// FTS5 table name and tokenizer (Porter stemming over Unicode words).
const WORDS: (&str, &str) = ("products_words", "porter unicode61 remove_diacritics 2");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => execute_all(manager, POSTGRES_UP).await,
            _ => execute_all(manager, fts5_over_products(WORDS.0, WORDS.1)).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => execute_all(manager, POSTGRES_DOWN).await,
            _ => execute_all(manager, drop_fts5_over_products(WORDS.0)).await,
        }
    }
}
