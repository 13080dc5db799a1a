//! The demo catalogue.

use sea_orm::DatabaseConnection;

/// Load the demo catalogue when the products table is empty; returns how
/// many products were added.
pub async fn seed_if_empty(_db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    Ok(0)
}

/// Load the demo catalogue, skipping products whose slug already exists.
pub async fn seed(_db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    Ok(0)
}
