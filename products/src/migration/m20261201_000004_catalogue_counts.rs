//! `catalogue_counts(facet, value, count)`: how many products there are in
//! all (`total`), per category, per brand and per price band, kept exact
//! by triggers, so the unfiltered `total` and facets of `GET /` are a
//! lookup instead of a scan; and the catalogue's version (`version`, the
//! number of writing statements so far, stock changes included), which
//! tells the list-page cache whether anything changed.
//!
//! Every trigger applies its changes as one upsert in key order, so two
//! writers lock the count rows in the same order and cannot deadlock. On
//! PostgreSQL inserts and deletes are counted once per statement (transition
//! tables), so a bulk load pays one upsert per statement, not per row;
//! updates only when the category, brand or price changes (a stock change
//! only bumps the version).
//!
//! It also widens the two composite filter indexes of the third migration
//! by the other facet column, `(category, price_minor, stock_qty, brand)`
//! and `(brand, price_minor, stock_qty, category)`, so facets of a
//! category or brand listing are counted from the index alone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::execute_all;

use crate::domain::price_band::band_sql;

/// Creates `catalogue_counts`, its triggers, and counts what is there.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The (facet, value) rows one product counts in, as a `SELECT` over the
/// row `r` (`new`, `old` or a table alias); `total` only when asked.
fn facet_rows(r: &str, with_total: bool) -> String {
    let total = if with_total {
        "SELECT 'total' AS facet, '' AS value UNION ALL "
    } else {
        ""
    };
    format!(
        "{total}SELECT 'category' AS facet, {r}.category AS value \
         UNION ALL SELECT 'brand', {r}.brand \
         UNION ALL SELECT 'price', {band}",
        band = band_sql(&format!("{r}.price_minor"))
    )
}

const UPSERT: &str =
    "ON CONFLICT (facet, value) DO UPDATE SET count = catalogue_counts.count + excluded.count";

/// Bump the catalogue version (after the count rows: one lock order).
const BUMP: &str = "INSERT INTO catalogue_counts (facet, value, count) VALUES ('version', '', 1) \
    ON CONFLICT (facet, value) DO UPDATE SET count = catalogue_counts.count + 1";

const CHANGED: &str = "old.category IS DISTINCT FROM new.category \
    OR old.brand IS DISTINCT FROM new.brand OR old.price_minor IS DISTINCT FROM new.price_minor";

fn backfill() -> Vec<String> {
    let insert = "INSERT INTO catalogue_counts (facet, value, count)";
    vec![
        format!("{insert} SELECT 'total', '', count(*) FROM products"),
        format!("{insert} SELECT 'category', category, count(*) FROM products GROUP BY category"),
        format!(
            "{insert} SELECT 'brand', brand, count(*) FROM products WHERE brand IS NOT NULL GROUP BY brand"
        ),
        format!(
            "{insert} SELECT 'price', band, count(*) FROM \
             (SELECT {} AS band FROM products) AS bands GROUP BY band",
            band_sql("price_minor")
        ),
    ]
}

fn moved(old: &str, new: &str) -> String {
    format!(
        "INSERT INTO catalogue_counts (facet, value, count) \
         SELECT facet, value, sum(delta) FROM (\
           SELECT facet, value, -1 AS delta FROM ({rows_old}) AS o \
           UNION ALL SELECT facet, value, 1 AS delta FROM ({rows_new}) AS n) AS d \
         WHERE value IS NOT NULL GROUP BY facet, value ORDER BY facet, value {UPSERT}",
        rows_old = facet_rows(old, false),
        rows_new = facet_rows(new, false),
    )
}

/// The widened filter indexes: (old name, new name, columns).
const WIDENED: [(&str, &str, &str); 2] = [
    (
        "idx_products_category_price_stock",
        "idx_products_category_price_stock_brand",
        "category, price_minor, stock_qty, brand",
    ),
    (
        "idx_products_brand_price_stock",
        "idx_products_brand_price_stock_category",
        "brand, price_minor, stock_qty, category",
    ),
];

fn widen_indexes() -> Vec<String> {
    WIDENED
        .iter()
        .flat_map(|(old, new, columns)| {
            [
                format!("CREATE INDEX IF NOT EXISTS {new} ON products ({columns})"),
                format!("DROP INDEX IF EXISTS {old}"),
            ]
        })
        .collect()
}

fn narrow_indexes() -> Vec<String> {
    WIDENED
        .iter()
        .flat_map(|(old, new, columns)| {
            let narrow = columns.rsplit_once(", ").map_or(*columns, |(kept, _)| kept);
            [
                format!("CREATE INDEX IF NOT EXISTS {old} ON products ({narrow})"),
                format!("DROP INDEX IF EXISTS {new}"),
            ]
        })
        .collect()
}

fn postgres_up() -> Vec<String> {
    let mut up = vec![
        "CREATE TABLE IF NOT EXISTS catalogue_counts (facet varchar(16) NOT NULL, \
         value text NOT NULL, count bigint NOT NULL, PRIMARY KEY (facet, value))"
            .to_string(),
        format!(
            "CREATE OR REPLACE FUNCTION catalogue_counts_statement() RETURNS trigger \
             LANGUAGE plpgsql AS $$ BEGIN \
             INSERT INTO catalogue_counts (facet, value, count) \
             SELECT f.facet, f.value, CASE WHEN TG_OP = 'DELETE' THEN -count(*) ELSE count(*) END \
             FROM changed_rows AS r CROSS JOIN LATERAL ({rows}) AS f \
             WHERE f.value IS NOT NULL GROUP BY f.facet, f.value ORDER BY f.facet, f.value {UPSERT}; \
             {BUMP}; RETURN NULL; END $$",
            rows = facet_rows("r", true)
        ),
        format!(
            "CREATE OR REPLACE FUNCTION catalogue_counts_row_update() RETURNS trigger \
             LANGUAGE plpgsql AS $$ BEGIN {}; RETURN NULL; END $$",
            moved("old", "new")
        ),
        format!(
            "CREATE OR REPLACE FUNCTION catalogue_version_bump() RETURNS trigger \
             LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
        ),
        format!(
            "CREATE OR REPLACE FUNCTION catalogue_counts_truncate() RETURNS trigger \
             LANGUAGE plpgsql AS $$ BEGIN DELETE FROM catalogue_counts WHERE facet <> 'version'; \
             {BUMP}; RETURN NULL; END $$"
        ),
        "CREATE TRIGGER catalogue_counts_insert AFTER INSERT ON products \
         REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION catalogue_counts_statement()"
            .to_string(),
        "CREATE TRIGGER catalogue_counts_delete AFTER DELETE ON products \
         REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION catalogue_counts_statement()"
            .to_string(),
        format!(
            "CREATE TRIGGER catalogue_counts_update AFTER UPDATE OF category, brand, price_minor \
             ON products FOR EACH ROW WHEN ({CHANGED}) \
             EXECUTE FUNCTION catalogue_counts_row_update()"
        ),
        "CREATE TRIGGER catalogue_version_update AFTER UPDATE ON products \
         FOR EACH STATEMENT EXECUTE FUNCTION catalogue_version_bump()"
            .to_string(),
        "CREATE TRIGGER catalogue_counts_truncate AFTER TRUNCATE ON products \
         FOR EACH STATEMENT EXECUTE FUNCTION catalogue_counts_truncate()"
            .to_string(),
    ];
    up.extend(backfill());
    up.extend(widen_indexes());
    up
}

fn sqlite_up() -> Vec<String> {
    let mut up = vec![
        "CREATE TABLE IF NOT EXISTS catalogue_counts (facet varchar(16) NOT NULL, \
         value text NOT NULL, count bigint NOT NULL, PRIMARY KEY (facet, value)) WITHOUT ROWID"
            .to_string(),
    ];
    for (event, row, delta) in [("INSERT", "new", 1), ("DELETE", "old", -1)] {
        up.push(format!(
            "CREATE TRIGGER IF NOT EXISTS catalogue_counts_{event} AFTER {event} ON products BEGIN \
             INSERT INTO catalogue_counts (facet, value, count) \
             SELECT facet, value, {delta} FROM ({rows}) WHERE value IS NOT NULL {UPSERT}; \
             {BUMP}; END",
            event = event.to_lowercase(),
            rows = facet_rows(row, true),
        ));
    }
    up.push(format!(
        "CREATE TRIGGER IF NOT EXISTS catalogue_counts_update \
         AFTER UPDATE OF category, brand, price_minor ON products WHEN {CHANGED} BEGIN {}; END",
        moved("old", "new")
    ));
    // Every update, stock changes included. Trigger order does not matter
    // here: SQLite has one writer at a time.
    up.push(format!(
        "CREATE TRIGGER IF NOT EXISTS catalogue_version_update AFTER UPDATE ON products BEGIN {BUMP}; END"
    ));
    up.extend(backfill());
    up.extend(widen_indexes());
    up
}

const POSTGRES_DOWN: [&str; 7] = [
    "DROP TRIGGER IF EXISTS catalogue_counts_truncate ON products",
    "DROP TRIGGER IF EXISTS catalogue_version_update ON products",
    "DROP TRIGGER IF EXISTS catalogue_counts_update ON products",
    "DROP TRIGGER IF EXISTS catalogue_counts_delete ON products",
    "DROP TRIGGER IF EXISTS catalogue_counts_insert ON products",
    "DROP FUNCTION IF EXISTS catalogue_counts_statement, catalogue_counts_row_update, \
     catalogue_version_bump, catalogue_counts_truncate",
    "DROP TABLE IF EXISTS catalogue_counts",
];

const SQLITE_DOWN: [&str; 5] = [
    "DROP TRIGGER IF EXISTS catalogue_version_update",
    "DROP TRIGGER IF EXISTS catalogue_counts_update",
    "DROP TRIGGER IF EXISTS catalogue_counts_delete",
    "DROP TRIGGER IF EXISTS catalogue_counts_insert",
    "DROP TABLE IF EXISTS catalogue_counts",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => postgres_up(),
            _ => sqlite_up(),
        };
        execute_all(manager, statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(manager, narrow_indexes()).await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => execute_all(manager, POSTGRES_DOWN).await,
            _ => execute_all(manager, SQLITE_DOWN).await,
        }
    }
}
