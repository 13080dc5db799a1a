//! Schema migrations, one file per migration (the file name is the version
//! recorded in `seaql_migrations`).

use sea_orm_migration::prelude::*;

mod m20261126_000001_create_products;
mod m20261126_000002_sqlite_text_search;
mod m20261126_000003_composite_filter_indexes;

/// All migrations of the products database, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_products::Migration),
            Box::new(m20261126_000002_sqlite_text_search::Migration),
            Box::new(m20261126_000003_composite_filter_indexes::Migration),
        ]
    }
}
