//! Database metrics: statement durations (from sea-orm's per-statement
//! callback) and the connection pool, sampled when scraped.

use metrics::{Histogram, Label};
use sea_orm::{DatabaseConnection, DbBackend};

use crate::metrics::Registry;

/// `db_query_duration_seconds{operation,outcome}` (histogram).
pub const QUERY_DURATION: &str = "db_query_duration_seconds";
/// `db_pool_connections_open` (gauge).
pub const POOL_OPEN: &str = "db_pool_connections_open";
/// `db_pool_connections_in_use` (gauge).
pub const POOL_IN_USE: &str = "db_pool_connections_in_use";
/// `db_pool_connections_idle` (gauge).
pub const POOL_IDLE: &str = "db_pool_connections_idle";
/// `db_pool_connections_max` (gauge).
pub const POOL_MAX: &str = "db_pool_connections_max";

const OPERATIONS: [&str; 5] = ["select", "insert", "update", "delete", "other"];

/// Record every statement `db` runs and export its pool in `registry`.
/// Call before cloning `db`: clones made earlier do not report.
pub fn instrument(db: &mut DatabaseConnection, registry: &Registry) {
    registry.describe_histogram(
        QUERY_DURATION,
        "Time a statement took on its connection (acquiring the connection not included), by operation and outcome.",
    );
    // Handles made once: the callback runs on every statement.
    let handles: [[Histogram; 2]; 5] = OPERATIONS.map(|operation| {
        ["ok", "error"].map(|outcome| {
            registry.histogram(
                QUERY_DURATION,
                vec![
                    Label::from_static_parts("operation", operation),
                    Label::from_static_parts("outcome", outcome),
                ],
            )
        })
    });
    db.set_metric_callback(move |info| {
        let operation = operation_index(&info.statement.sql);
        handles[operation][usize::from(info.failed)].record(info.elapsed.as_secs_f64());
    });
    export_pool(db, registry);
}

/// Which of [`OPERATIONS`] a statement is, by its first word.
fn operation_index(sql: &str) -> usize {
    let first = sql.split_whitespace().next().unwrap_or("");
    OPERATIONS[..4]
        .iter()
        .position(|op| first.eq_ignore_ascii_case(op))
        .unwrap_or(4)
}

#[allow(clippy::cast_precision_loss)]
fn export_pool(db: &DatabaseConnection, registry: &Registry) {
    registry.describe_gauge(
        POOL_OPEN,
        None,
        "Open database connections (idle and in use).",
    );
    registry.describe_gauge(
        POOL_IN_USE,
        None,
        "Database connections checked out by a statement or transaction.",
    );
    registry.describe_gauge(
        POOL_IDLE,
        None,
        "Open database connections waiting for work.",
    );
    registry.describe_gauge(
        POOL_MAX,
        None,
        "The pool's limit (DATABASE_MAX_CONNECTIONS).",
    );
    let open = registry.gauge(POOL_OPEN, vec![]);
    let in_use = registry.gauge(POOL_IN_USE, vec![]);
    let idle = registry.gauge(POOL_IDLE, vec![]);
    let max = registry.gauge(POOL_MAX, vec![]);
    // The pool handles are cheap clones of the same pool.
    let sample = match db.get_database_backend() {
        DbBackend::Postgres => pool_sampler(db.get_postgres_connection_pool().clone()),
        DbBackend::Sqlite => pool_sampler(db.get_sqlite_connection_pool().clone()),
        _ => return,
    };
    let update = move || {
        let (size, idle_now, limit) = sample();
        let size = f64::from(size);
        let idle_now = idle_now as f64;
        open.set(size);
        idle.set(idle_now);
        in_use.set((size - idle_now).max(0.0));
        max.set(f64::from(limit));
    };
    update();
    registry.on_scrape(update);
}

/// Reads (open, idle, limit) of `pool`.
fn pool_sampler<DB: sea_orm::sqlx::Database>(
    pool: sea_orm::sqlx::Pool<DB>,
) -> Box<dyn Fn() -> (u32, usize, u32) + Send + Sync> {
    Box::new(move || {
        (
            pool.size(),
            pool.num_idle(),
            pool.options().get_max_connections(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_told_apart_by_their_first_word() {
        assert_eq!(OPERATIONS[operation_index("SELECT * FROM t")], "select");
        assert_eq!(OPERATIONS[operation_index("  insert INTO t")], "insert");
        assert_eq!(OPERATIONS[operation_index("UPDATE t SET")], "update");
        assert_eq!(OPERATIONS[operation_index("DELETE FROM t")], "delete");
        assert_eq!(OPERATIONS[operation_index("WITH x AS (...)")], "other");
        assert_eq!(OPERATIONS[operation_index("")], "other");
    }

    #[tokio::test]
    async fn statements_and_the_pool_are_exported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/m.db", dir.path().display());
        let settings = crate::db::DbSettings {
            url: crate::Secret::new(url),
            max_connections: 3,
            connect_timeout: std::time::Duration::from_secs(5),
            startup_timeout: std::time::Duration::from_secs(5),
        };
        let mut db = crate::db::connect(&settings).await.expect("connect");
        let registry = Registry::new(&[]);
        instrument(&mut db, &registry);
        let text = registry.render();
        assert!(text.contains("db_pool_connections_max 3"), "{text}");
        assert!(
            text.contains("db_query_duration_seconds_count{operation=\"select\",outcome=\"ok\"} 0"),
            "{text}"
        );
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .expect("create");
        db.execute_raw(sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            "SELECT x FROM t",
        ))
        .await
        .expect("select");
        let text = registry.render();
        assert!(
            text.contains("db_query_duration_seconds_count{operation=\"select\",outcome=\"ok\"} 1"),
            "{text}"
        );
    }
}
