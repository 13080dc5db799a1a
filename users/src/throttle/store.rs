//! The counters in the users database (`throttle_counters`), so every
//! replica sees the same counts.
//!
//! Each operation is one statement; a reservation is a conditional UPSERT
//! that counts the attempt and compares it with the limit at once, so two
//! concurrent attempts can never both take the last slot (PostgreSQL locks
//! the conflicting row, SQLite serialises writers). Times are Unix
//! milliseconds from the caller's clock.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

/// How many attempts a bucket allows, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Attempts allowed in one window.
    pub max: u32,
    /// Length of the window.
    pub window: Duration,
    /// Whether each counted attempt restarts the window ("N in a row, each
    /// within `window` of the previous") instead of a fixed window that
    /// starts at the first attempt.
    pub sliding: bool,
}

/// Count one attempt in `bucket` if `limit` allows it. `false` when the
/// bucket is full (nothing is changed then).
pub async fn reserve(
    db: &impl ConnectionTrait,
    bucket: &str,
    limit: Limit,
    now: i64,
) -> Result<bool, DbErr> {
    let resets_at = now.saturating_add(millis(limit.window));
    let sql = "INSERT INTO throttle_counters (bucket, hits, resets_at) VALUES ($1, 1, $2) \
         ON CONFLICT (bucket) DO UPDATE SET \
           hits = CASE WHEN throttle_counters.resets_at <= $3 THEN 1 \
                       ELSE throttle_counters.hits + 1 END, \
           resets_at = CASE WHEN throttle_counters.resets_at <= $3 OR $4 THEN $2 \
                            ELSE throttle_counters.resets_at END \
         WHERE throttle_counters.resets_at <= $3 OR throttle_counters.hits < $5 \
         RETURNING hits";
    let values = [
        bucket.into(),
        resets_at.into(),
        now.into(),
        limit.sliding.into(),
        i64::from(limit.max).into(),
    ];
    let row = db.query_one_raw(statement(db, sql, values)).await?;
    Ok(row.is_some())
}

/// Take back one attempt counted in the current window (it turned out not
/// to be a failure, or a sibling reservation was refused).
pub async fn refund(db: &impl ConnectionTrait, bucket: &str, now: i64) -> Result<(), DbErr> {
    let sql = "UPDATE throttle_counters SET hits = hits - 1 \
               WHERE bucket = $1 AND hits > 0 AND resets_at > $2";
    db.execute_raw(statement(db, sql, [bucket.into(), now.into()]))
        .await
        .map(drop)
}

/// Forget a bucket (a successful login ends an email's run of failures).
pub async fn clear(db: &impl ConnectionTrait, bucket: &str) -> Result<(), DbErr> {
    let sql = "DELETE FROM throttle_counters WHERE bucket = $1";
    db.execute_raw(statement(db, sql, [bucket.into()]))
        .await
        .map(drop)
}

/// How long until a full bucket accepts attempts again (at least 1 s).
pub async fn retry_after(
    db: &impl ConnectionTrait,
    bucket: &str,
    now: i64,
) -> Result<Duration, DbErr> {
    let sql = "SELECT resets_at FROM throttle_counters WHERE bucket = $1";
    let row = db
        .query_one_raw(statement(db, sql, [bucket.into()]))
        .await?;
    let resets_at = match row {
        Some(row) => row.try_get::<i64>("", "resets_at")?,
        None => now,
    };
    let wait = u64::try_from(resets_at.saturating_sub(now)).unwrap_or(0);
    Ok(Duration::from_millis(wait).max(Duration::from_secs(1)))
}

/// Delete every bucket whose window is over; returns how many.
pub async fn purge_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, DbErr> {
    let sql = "DELETE FROM throttle_counters WHERE resets_at <= $1";
    let result = db.execute_raw(statement(db, sql, [now.into()])).await?;
    Ok(result.rows_affected())
}

/// `sql` written with PostgreSQL's `$n` placeholders, for `db`'s backend
/// (SQLite numbers them `?n`).
fn statement<const N: usize>(
    db: &impl ConnectionTrait,
    sql: &str,
    values: [Value; N],
) -> Statement {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_string(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use common::testing::TestDb;
    use sea_orm::DatabaseConnection;

    use super::*;
    use crate::migration::Migrator;

    const MINUTE: Duration = Duration::from_secs(60);

    async fn counters(test_db: &TestDb) -> DatabaseConnection {
        common::db::connect_and_migrate::<Migrator>(&test_db.settings())
            .await
            .expect("database")
    }

    fn fixed(max: u32) -> Limit {
        Limit {
            max,
            window: MINUTE,
            sliding: false,
        }
    }

    common::backend_tests! {
        async fn a_fixed_window_allows_max_attempts_then_reopens_when_it_ends(test_db) {
            let db = counters(&test_db).await;
            for at in [0, 10_000] {
                assert!(reserve(&db, "b", fixed(2), at).await.expect("reserve"));
            }
            assert!(!reserve(&db, "b", fixed(2), 59_999).await.expect("reserve"));
            let wait = retry_after(&db, "b", 30_000).await.expect("wait");
            assert_eq!(wait, Duration::from_secs(30));
            assert!(reserve(&db, "b", fixed(2), 60_000).await.expect("reserve"));
            assert!(
                reserve(&db, "other", fixed(2), 59_999)
                    .await
                    .expect("reserve")
            );
        }

        async fn a_sliding_window_restarts_with_each_counted_attempt(test_db) {
            let db = counters(&test_db).await;
            let limit = Limit {
                sliding: true,
                ..fixed(2)
            };
            assert!(reserve(&db, "b", limit, 0).await.expect("reserve"));
            assert!(reserve(&db, "b", limit, 50_000).await.expect("reserve"));
            // Full: locked until a window after the last counted attempt, and a
            // refused attempt does not extend it.
            assert!(!reserve(&db, "b", limit, 100_000).await.expect("reserve"));
            assert_eq!(
                retry_after(&db, "b", 100_000).await.expect("wait"),
                Duration::from_secs(10)
            );
            assert!(reserve(&db, "b", limit, 110_000).await.expect("reserve"));
        }

        async fn a_refund_frees_a_slot_and_clear_forgets_the_bucket(test_db) {
            let db = counters(&test_db).await;
            assert!(reserve(&db, "b", fixed(1), 0).await.expect("reserve"));
            refund(&db, "b", 1).await.expect("refund");
            assert!(reserve(&db, "b", fixed(1), 2).await.expect("reserve"));
            clear(&db, "b").await.expect("clear");
            assert!(reserve(&db, "b", fixed(1), 3).await.expect("reserve"));
        }

        async fn expired_buckets_are_purged(test_db) {
            let db = counters(&test_db).await;
            reserve(&db, "old", fixed(5), 0).await.expect("reserve");
            reserve(&db, "new", fixed(5), 30_000)
                .await
                .expect("reserve");
            assert_eq!(purge_expired(&db, 60_000).await.expect("purge"), 1);
            assert!(
                !retry_after(&db, "new", 60_000)
                    .await
                    .expect("wait")
                    .is_zero()
            );
            assert_eq!(purge_expired(&db, 90_000).await.expect("purge"), 1);
        }
    }
}
