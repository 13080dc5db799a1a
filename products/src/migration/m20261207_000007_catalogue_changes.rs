//! The catalogue's change feed, for the search index each replica keeps in
//! memory (`catalogue/index`).
//!
//! `catalogue_changes(version, product_id)`: every statement that inserts,
//! updates or deletes products bumps the catalogue version (the `version`
//! row of `catalogue_counts`) and records each touched product id under
//! the bumped value, in the writing transaction. The bump takes the
//! version row's lock until commit, so versions are handed out in commit
//! order: once a replica sees version `V`, every change recorded at or
//! below `V` is committed and visible, and reading `version > applied AND
//! version <= V` never skips one. A `TRUNCATE` (PostgreSQL) records a
//! NULL product id: the replicas rebuild their index. Old rows are pruned
//! by the replicas (`catalogue/index/feed.rs`), which note the highest
//! pruned version in `catalogue_counts` (`changes_pruned`) so a replica
//! that fell that far behind rebuilds instead of missing changes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::execute_all;

/// Creates `catalogue_changes` and the triggers that fill it.
#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS catalogue_changes (version bigint NOT NULL, product_id bigint)",
    "CREATE INDEX IF NOT EXISTS idx_catalogue_changes_version ON catalogue_changes (version)",
];

/// Bump the version (taking its row's lock) and record `ids` under it.
fn postgres_function(name: &str, ids: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
         DECLARE bumped bigint; BEGIN \
         INSERT INTO catalogue_counts (facet, value, count) VALUES ('version', '', 1) \
         ON CONFLICT (facet, value) DO UPDATE SET count = catalogue_counts.count + 1 \
         RETURNING count INTO bumped; \
         INSERT INTO catalogue_changes (version, product_id) {ids}; \
         RETURN NULL; END $$"
    )
}

fn postgres_up() -> Vec<String> {
    let mut up: Vec<String> = TABLE.iter().map(|s| String::from(*s)).collect();
    up.push(postgres_function(
        "catalogue_changes_rows",
        "SELECT bumped, id FROM changed_rows",
    ));
    up.push(postgres_function(
        "catalogue_changes_truncate",
        "VALUES (bumped, NULL)",
    ));
    // Named after the `catalogue_*` triggers, so they fire after them (same
    // event, alphabetical order): count rows, then the version row.
    for (event, rows) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
        up.push(format!(
            "CREATE TRIGGER products_changes_{lower} AFTER {event} ON products \
             REFERENCING {rows} TABLE AS changed_rows FOR EACH STATEMENT \
             EXECUTE FUNCTION catalogue_changes_rows()",
            lower = event.to_lowercase()
        ));
    }
    up.push(
        "CREATE TRIGGER products_changes_truncate AFTER TRUNCATE ON products \
         FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changes_truncate()"
            .to_string(),
    );
    up
}

fn sqlite_up() -> Vec<String> {
    let mut up: Vec<String> = TABLE.iter().map(|s| String::from(*s)).collect();
    // One writer at a time: the bump and the record need no lock order.
    for (event, row) in [("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old")] {
        up.push(format!(
            "CREATE TRIGGER IF NOT EXISTS products_changes_{lower} AFTER {event} ON products BEGIN \
             INSERT INTO catalogue_counts (facet, value, count) VALUES ('version', '', 1) \
             ON CONFLICT (facet, value) DO UPDATE SET count = catalogue_counts.count + 1; \
             INSERT INTO catalogue_changes (version, product_id) \
             SELECT count, {row}.id FROM catalogue_counts WHERE facet = 'version' AND value = ''; \
             END",
            lower = event.to_lowercase()
        ));
    }
    up
}

const POSTGRES_DOWN: [&str; 6] = [
    "DROP TRIGGER IF EXISTS products_changes_truncate ON products",
    "DROP TRIGGER IF EXISTS products_changes_delete ON products",
    "DROP TRIGGER IF EXISTS products_changes_update ON products",
    "DROP TRIGGER IF EXISTS products_changes_insert ON products",
    "DROP FUNCTION IF EXISTS catalogue_changes_rows, catalogue_changes_truncate",
    "DROP TABLE IF EXISTS catalogue_changes",
];

const SQLITE_DOWN: [&str; 4] = [
    "DROP TRIGGER IF EXISTS products_changes_delete",
    "DROP TRIGGER IF EXISTS products_changes_update",
    "DROP TRIGGER IF EXISTS products_changes_insert",
    "DROP TABLE IF EXISTS catalogue_changes",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => execute_all(manager, postgres_up()).await,
            _ => execute_all(manager, sqlite_up()).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => execute_all(manager, POSTGRES_DOWN).await,
            _ => execute_all(manager, SQLITE_DOWN).await,
        }
    }
}
