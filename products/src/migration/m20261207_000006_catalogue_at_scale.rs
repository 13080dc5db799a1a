//! The catalogue under diverse queries (issue 33).
//!
//! * Indexes for a category's pages in each sort: `(category, created_at,
//!   id)`, `(category, price_minor, id)` and `(category, title, id)`, so a
//!   category listing in any order walks one index from the page's start
//!   (and a deep page finds its ids in the index alone) instead of sorting
//!   the whole category; and `(brand, created_at, id)` for a brand's
//!   newest first. The unfiltered sorts already have theirs (first
//!   migration: each sort column with `id`).
//! * PostgreSQL: `title_vector` and `description_vector`, stored generated
//!   `tsvector`s of each field alone, with GIN indexes, for the relevance
//!   tiers of word search (`catalogue/list/search.rs`): "every word in the
//!   title" and "some word in the description" become indexed conditions
//!   with statistics, so the planner reads an empty or rare tier from the
//!   index instead of walking the table. SQLite's FTS5 table already
//!   answers per column (`{title} : ...`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::execute_all;

/// Adds the sort indexes and, on PostgreSQL, the per-field word vectors.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index name, columns).
const INDEXES: [(&str, &str); 4] = [
    (
        "idx_products_category_created_id",
        "category, created_at, id",
    ),
    (
        "idx_products_category_price_id",
        "category, price_minor, id",
    ),
    ("idx_products_category_title_id", "category, title, id"),
    ("idx_products_brand_created_id", "brand, created_at, id"),
];

const POSTGRES_UP: [&str; 4] = [
    "ALTER TABLE products \
     ADD COLUMN IF NOT EXISTS title_vector tsvector \
     GENERATED ALWAYS AS (to_tsvector('english', title)) STORED, \
     ADD COLUMN IF NOT EXISTS description_vector tsvector \
     GENERATED ALWAYS AS (to_tsvector('english', description)) STORED",
    "CREATE INDEX IF NOT EXISTS idx_products_title_vector ON products USING gin (title_vector)",
    "CREATE INDEX IF NOT EXISTS idx_products_description_vector \
     ON products USING gin (description_vector)",
    "ANALYZE products",
];

const POSTGRES_DOWN: [&str; 3] = [
    "DROP INDEX IF EXISTS idx_products_description_vector",
    "DROP INDEX IF EXISTS idx_products_title_vector",
    "ALTER TABLE products DROP COLUMN IF EXISTS title_vector, \
     DROP COLUMN IF EXISTS description_vector",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let indexes: Vec<String> = INDEXES
            .iter()
            .map(|(name, columns)| {
                format!("CREATE INDEX IF NOT EXISTS {name} ON products ({columns})")
            })
            .collect();
        execute_all(manager, indexes).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            execute_all(manager, POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            execute_all(manager, POSTGRES_DOWN).await?;
        }
        let indexes: Vec<String> = INDEXES
            .iter()
            .map(|(name, _)| format!("DROP INDEX IF EXISTS {name}"))
            .collect();
        execute_all(manager, indexes).await
    }
}
