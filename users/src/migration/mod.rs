//! The users database schema, one migration per file (the file name is the
//! version recorded in `seaql_migrations`).

use sea_orm_migration::prelude::*;

mod m20260101_000001_create_users;
mod m20260101_000002_create_refresh_tokens;
mod m20261130_120000_create_throttle_counters;
mod m20261130_130000_refresh_family_expiry;

/// Every migration of the users database, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_users::Migration),
            Box::new(m20260101_000002_create_refresh_tokens::Migration),
            Box::new(m20261130_120000_create_throttle_counters::Migration),
            Box::new(m20261130_130000_refresh_family_expiry::Migration),
        ]
    }
}
