//! Migrations that several replicas may start at once.
//!
//! Replicas of a service starting together on a fresh database would each
//! see the same pending migrations and run them concurrently: the losers
//! fail with "relation already exists" (or a duplicate `pg_type` key) and
//! stop. So exactly one migrates at a time, and the others, once let in,
//! find nothing pending:
//!
//! * **PostgreSQL**: a session-level advisory lock
//!   (`pg_advisory_lock(MIGRATION_LOCK)`, scoped to the database) held on
//!   one dedicated connection for the whole migration and released after.
//!   The lock dies with the connection, so a replica killed mid-migration
//!   never leaves it held. The migrations themselves run on the pool, each
//!   in its own transaction as sea-orm-migration does on PostgreSQL.
//! * **SQLite** has no advisory locks, and sea-orm-migration runs SQLite
//!   migrations outside transactions; two processes on one file race the
//!   same way. There the whole migration runs in one `BEGIN IMMEDIATE`
//!   transaction: SQLite's write lock serialises the processes (the others
//!   wait on the busy timeout) and its DDL is transactional, so a failure
//!   leaves nothing half-applied.

use sea_orm::sqlx::{Connection, PgConnection};
use sea_orm::{
    DatabaseConnection, DbBackend, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use super::{DbError, redact};

/// The advisory lock key every service's migrator takes on PostgreSQL
/// (`"shop-mig"` as a big-endian `bigint`). Advisory locks are per
/// database, so services with databases on one server do not wait on each
/// other.
pub const MIGRATION_LOCK: i64 = i64::from_be_bytes(*b"shop-mig");

/// Apply `M`'s pending migrations to `db`, one replica at a time; `url` is
/// the database's (for the PostgreSQL lock connection).
pub(crate) async fn migrate<M: MigratorTrait>(
    db: &DatabaseConnection,
    url: &str,
) -> Result<(), DbError> {
    match db.get_database_backend() {
        DbBackend::Postgres => migrate_postgres::<M>(db, url).await,
        _ => migrate_sqlite::<M>(db).await,
    }
}

async fn migrate_postgres<M: MigratorTrait>(
    db: &DatabaseConnection,
    url: &str,
) -> Result<(), DbError> {
    let lock_error = |e: sea_orm::sqlx::Error| {
        DbError::MigrationLock(DbErr::Custom(redact(&e.to_string(), url)))
    };
    let mut lock = PgConnection::connect(url).await.map_err(lock_error)?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut lock)
        .await
        .map_err(lock_error)?;
    let migrated = M::up(db, None).await.map_err(DbError::Migration);
    // Released explicitly so the next replica goes on at once; closing the
    // connection would release it too.
    let unlocked = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut lock)
        .await;
    let _ = lock.close().await;
    migrated?;
    unlocked.map(|_| ()).map_err(lock_error)
}

async fn migrate_sqlite<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), DbError> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
        .map_err(DbError::MigrationLock)?;
    M::up(&txn, None).await.map_err(DbError::Migration)?;
    txn.commit().await.map_err(DbError::Migration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_key_is_stable() {
        assert_eq!(MIGRATION_LOCK, 0x73686f702d6d6967);
    }
}
