//! Synthetic catalogues for benchmarks and tests at scale: N deterministic
//! products made by the database itself (`generate_series` on PostgreSQL,
//! a recursive CTE on SQLite), in statements of [`BATCH`] rows, so a
//! million products load in seconds rather than minutes of round trips.
//!
//! Product `i` (from 0) is titled `<word i%16> <noun (i/16)%12> i`, costs
//! `(i * 7919) % 50000 + 99` minor units, has no stock when `i % 7 == 0`
//! (else `i % 50 + 1`), is in `Category <i%10>` and `Brand <i%20>`, and was
//! created `count - i` seconds before `now`.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// Rows per `INSERT` statement.
pub const BATCH: u64 = 50_000;

/// The first word of every synthetic title.
pub const WORDS: [&str; 16] = [
    "Aurora", "Granite", "Willow", "Ember", "Harbor", "Nimbus", "Quartz", "Cedar", "Falcon",
    "Meadow", "Orbit", "Summit", "Tidal", "Velvet", "Zephyr", "Lumen",
];
/// The second word of every synthetic title (lower-cased in descriptions).
pub const NOUNS: [&str; 12] = [
    "Lamp",
    "Kettle",
    "Backpack",
    "Headphones",
    "Jacket",
    "Notebook",
    "Skillet",
    "Tent",
    "Keyboard",
    "Mug",
    "Puzzle",
    "Speaker",
];

/// `(SELECT 0 AS k, 'a' AS v UNION ALL SELECT 1, 'b' ...)`: a lookup table
/// both backends accept.
fn lookup(values: &[&str]) -> String {
    let rows: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(k, v)| format!("SELECT {k} AS k, '{v}' AS v"))
        .collect();
    format!("({})", rows.join(" UNION ALL "))
}

/// One statement inserting products `start..end` (see the module comment);
/// `$1`/`?` are start, end - 1 and the Unix time of product 0.
fn insert_sql(backend: DbBackend, run: &str) -> String {
    let (series, created) = match backend {
        DbBackend::Postgres => (
            "SELECT i FROM generate_series($1::bigint, $2::bigint) AS g(i)".to_string(),
            "to_timestamp(($3 + s.i)::double precision)",
        ),
        _ => (
            "WITH RECURSIVE g(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM g WHERE i < ?) SELECT i FROM g"
                .to_string(),
            "strftime('%Y-%m-%dT%H:%M:%SZ', ? + s.i, 'unixepoch')",
        ),
    };
    let lower_nouns: Vec<String> = NOUNS.iter().map(|n| n.to_lowercase()).collect();
    let lower_nouns: Vec<&str> = lower_nouns.iter().map(String::as_str).collect();
    format!(
        "INSERT INTO products (title, slug, description, price_minor, currency, stock_qty, \
         category, brand, image_url, version, created_at, updated_at) \
         SELECT w.v || ' ' || n.v || ' ' || s.i, 'bench-{run}-' || s.i, \
           'Synthetic product number ' || s.i || ' for benchmarks; a sturdy ' || d.v || ' for everyday use.', \
           (s.i * 7919) % 50000 + 99, 'USD', CASE WHEN s.i % 7 = 0 THEN 0 ELSE s.i % 50 + 1 END, \
           'Category ' || (s.i % 10), 'Brand ' || (s.i % 20), NULL, 1, {created}, {created} \
         FROM ({series}) AS s \
         JOIN {words} AS w ON w.k = s.i % 16 \
         JOIN {nouns} AS n ON n.k = (s.i / 16) % 12 \
         JOIN {lower} AS d ON d.k = s.i % 12",
        words = lookup(&WORDS),
        nouns = lookup(&NOUNS),
        lower = lookup(&lower_nouns),
    )
}

/// Insert `count` synthetic products with slugs `bench-<run>-<i>`;
/// `run` must be lower-case letters and digits (it is part of the SQL).
pub async fn insert(db: &DatabaseConnection, count: u64, run: &str) -> Result<(), DbErr> {
    if !run
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(DbErr::Custom(format!(
            "run `{run}`: lower-case letters and digits only"
        )));
    }
    let backend = db.get_database_backend();
    let sql = insert_sql(backend, run);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let first = now - i64::try_from(count).unwrap_or(i64::MAX);
    let mut start = 0;
    while start < count {
        let end = Ord::min(start + BATCH, count);
        let (from, to) = (start as i64, end as i64 - 1);
        let values: Vec<sea_orm::Value> = match backend {
            DbBackend::Postgres => vec![from.into(), to.into(), first.into()],
            // SQLite's placeholders are positional, in the order of the
            // text: the two timestamps, then the series.
            _ => vec![first.into(), first.into(), from.into(), to.into()],
        };
        db.execute_raw(Statement::from_sql_and_values(backend, &sql, values))
            .await?;
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_has_the_placeholders_each_backend_binds() {
        assert_eq!(
            lookup(&["a", "b"]),
            "(SELECT 0 AS k, 'a' AS v UNION ALL SELECT 1 AS k, 'b' AS v)"
        );
        assert_eq!(insert_sql(DbBackend::Sqlite, "r1").matches('?').count(), 4);
        let postgres = insert_sql(DbBackend::Postgres, "r1");
        assert!(postgres.contains("generate_series($1::bigint, $2::bigint)"));
        assert!(postgres.contains("'bench-r1-'"));
    }
}
