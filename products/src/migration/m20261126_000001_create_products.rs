//! The products table: exact prices in minor units, a non-negative stock
//! (CHECK), a unique slug, a version for ETags, and one index per filter and
//! sort of `GET /`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Creates `products` and its indexes.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Title,
    Slug,
    Description,
    PriceMinor,
    Currency,
    StockQty,
    Category,
    Brand,
    ImageUrl,
    Version,
    CreatedAt,
    UpdatedAt,
}

/// Single-column indexes: each serves one filter (`category`, `brand`,
/// `min_price`/`max_price`, `in_stock`) or one sort (`price`, `created_at`,
/// `title`); the id is the tie-breaker of every sort.
const INDEXED: [(&str, Products); 6] = [
    ("idx_products_category", Products::Category),
    ("idx_products_brand", Products::Brand),
    ("idx_products_price_minor", Products::PriceMinor),
    ("idx_products_created_at", Products::CreatedAt),
    ("idx_products_title", Products::Title),
    ("idx_products_stock_qty", Products::StockQty),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Products::Id))
                    .col(string_len(Products::Title, 200))
                    .col(string_len_uniq(Products::Slug, 200))
                    .col(text(Products::Description))
                    .col(
                        big_integer(Products::PriceMinor)
                            .check(Expr::col(Products::PriceMinor).gte(0)),
                    )
                    .col(char_len(Products::Currency, 3))
                    .col(
                        big_integer(Products::StockQty).check(Expr::col(Products::StockQty).gte(0)),
                    )
                    .col(string_len(Products::Category, 100))
                    .col(string_len_null(Products::Brand, 100))
                    .col(string_len_null(Products::ImageUrl, 2048))
                    .col(big_integer(Products::Version).default(1))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in INDEXED {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Products::Table)
                        .col(column)
                        .col(Products::Id)
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            create_trigram_indexes(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Products::Table).to_owned())
            .await
    }
}

/// `?q=` is a case-insensitive substring match; on PostgreSQL trigram GIN
/// indexes on `lower(title)` and `lower(description)` serve it. pg_trgm is a
/// trusted extension (PostgreSQL 13+), so a database owner may create it;
/// where it is not installed the search still works, by a scan.
async fn create_trigram_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let available = db
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'",
        ))
        .await?
        .is_some();
    if !available {
        return Ok(());
    }
    db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        .await?;
    db.execute_unprepared(
        "CREATE INDEX IF NOT EXISTS idx_products_title_trgm \
         ON products USING gin (lower(title) gin_trgm_ops)",
    )
    .await?;
    db.execute_unprepared(
        "CREATE INDEX IF NOT EXISTS idx_products_description_trgm \
         ON products USING gin (lower(description) gin_trgm_ops)",
    )
    .await?;
    Ok(())
}
