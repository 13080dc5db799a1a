//! Schema migrations, one file per migration (the file name is the version
//! recorded in `seaql_migrations`).

use sea_orm_migration::prelude::*;

mod m20261126_000001_create_products;
mod m20261126_000002_sqlite_text_search;
mod m20261126_000003_composite_filter_indexes;
mod m20261201_000004_catalogue_counts;
mod m20261201_000005_word_search;
mod m20261207_000006_catalogue_at_scale;
mod m20261207_000007_catalogue_changes;

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
            Box::new(m20261201_000004_catalogue_counts::Migration),
            Box::new(m20261201_000005_word_search::Migration),
            Box::new(m20261207_000006_catalogue_at_scale::Migration),
            Box::new(m20261207_000007_catalogue_changes::Migration),
        ]
    }
}

/// Run raw statements in order (what the backend-specific migrations do).
async fn execute_all<S: AsRef<str>>(
    manager: &SchemaManager<'_>,
    statements: impl IntoIterator<Item = S>,
) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::ConnectionTrait;
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement.as_ref()).await?;
    }
    Ok(())
}

/// SQLite: an external-content FTS5 table `name` over the title and
/// description of `products`, filled from the rows there, and the triggers
/// that keep it in step (the update trigger fires only when the indexed
/// text changes, so stock changes stay cheap).
fn fts5_over_products(name: &str, tokenize: &str) -> [String; 5] {
    [
        format!(
            "CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5(\
             title, description, content='products', content_rowid='id', tokenize='{tokenize}')"
        ),
        format!("INSERT INTO {name}({name}) VALUES ('rebuild')"),
        format!(
            "CREATE TRIGGER IF NOT EXISTS {name}_insert AFTER INSERT ON products BEGIN \
             INSERT INTO {name}(rowid, title, description) \
             VALUES (new.id, new.title, new.description); END"
        ),
        format!(
            "CREATE TRIGGER IF NOT EXISTS {name}_delete AFTER DELETE ON products BEGIN \
             INSERT INTO {name}({name}, rowid, title, description) \
             VALUES ('delete', old.id, old.title, old.description); END"
        ),
        format!(
            "CREATE TRIGGER IF NOT EXISTS {name}_update AFTER UPDATE OF title, description \
             ON products BEGIN \
             INSERT INTO {name}({name}, rowid, title, description) \
             VALUES ('delete', old.id, old.title, old.description); \
             INSERT INTO {name}(rowid, title, description) \
             VALUES (new.id, new.title, new.description); END"
        ),
    ]
}

/// Drops what [`fts5_over_products`] made.
fn drop_fts5_over_products(name: &str) -> [String; 4] {
    [
        format!("DROP TRIGGER IF EXISTS {name}_update"),
        format!("DROP TRIGGER IF EXISTS {name}_delete"),
        format!("DROP TRIGGER IF EXISTS {name}_insert"),
        format!("DROP TABLE IF EXISTS {name}"),
    ]
}
