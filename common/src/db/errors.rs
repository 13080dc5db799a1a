//! Database errors as problems: a violated unique key the client can fix is
//! a precise `409`; a database that cannot be reached right now (restarting,
//! shutting down, the pool cannot connect) is `503` with `Retry-After`, so a
//! client knows to try again; anything else is `500`. None says anything
//! about the SQL.

use http::HeaderValue;
use http::header::RETRY_AFTER;
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, SqlErr};

use crate::problem::Problem;

impl From<DbErr> for Problem {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Problem::conflict("a resource with the same unique value already exists")
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Problem::conflict("the change refers to a resource that does not exist")
            }
            _ if is_unavailable(&err) => {
                tracing::warn!(error = %err, "database unavailable");
                Problem::unavailable("the database is not available right now; try again")
                    .with_header(RETRY_AFTER, HeaderValue::from_static("1"))
            }
            _ => {
                // The cause stays in the logs; the client learns only the request id.
                tracing::error!(error = %err, "database error");
                Problem::internal()
            }
        }
    }
}

/// Whether `err` says the database cannot be reached or is not serving
/// (rather than that the statement was wrong): no connection from the pool,
/// a broken connection, or PostgreSQL's connection-exception (`08xxx`) and
/// operator-intervention (`57P01` shutdown, `57P02` crash, `57P03` starting
/// up) codes. Whether such a write was committed is unknown to the server
/// too; the client sees `503` and must check before repeating it.
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            return true;
        }
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return false;
    };
    match sqlx.as_ref() {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// A unique constraint whose violation means something to the client (a
/// taken email, a taken slug).
///
/// The backends name a violation differently: PostgreSQL by the constraint
/// or unique index (`duplicate key value violates unique constraint
/// "ux_users_email"`), SQLite by its columns (`UNIQUE constraint failed:
/// users.email`). A key knows both names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueKey {
    /// The constraint or unique index name, as PostgreSQL reports it.
    pub name: &'static str,
    /// The columns, as SQLite reports them (`table.column`, comma-separated).
    pub columns: &'static str,
}

impl UniqueKey {
    /// Whether `err` is a violation of this key.
    pub fn is_violated_by(&self, err: &DbErr) -> bool {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => self.is_named_in(&message),
            _ => false,
        }
    }

    /// Whether a unique-violation message names this key: PostgreSQL quotes
    /// the constraint, SQLite lists the columns (or names an expression
    /// index).
    fn is_named_in(&self, message: &str) -> bool {
        message.contains(&format!("\"{}\"", self.name))
            || message.contains(&format!("index '{}'", self.name))
            || message
                .rsplit_once(": ")
                .is_some_and(|(_, columns)| columns.trim() == self.columns)
    }

    /// `err` as a problem: a violation of this key is `conflict`, anything
    /// else what [`Problem::from`] makes of it.
    pub fn or_problem(&self, err: DbErr, conflict: impl FnOnce() -> Problem) -> Problem {
        if self.is_violated_by(&err) {
            conflict()
        } else {
            Problem::from(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseConnection};

    use super::*;
    use crate::config::Secret;
    use crate::db::{DbSettings, connect};

    async fn memory_db() -> DatabaseConnection {
        let settings = DbSettings {
            url: Secret::new("sqlite::memory:"),
            max_connections: 1,
            connect_timeout: std::time::Duration::from_secs(2),
            startup_timeout: std::time::Duration::from_secs(2),
        };
        connect(&settings).await.expect("in-memory sqlite")
    }

    async fn duplicate(db: &DatabaseConnection, table: &str) -> DbErr {
        db.execute_unprepared(&format!("INSERT INTO {table} VALUES ('a@b.c')"))
            .await
            .expect("first insert");
        db.execute_unprepared(&format!("INSERT INTO {table} VALUES ('a@b.c')"))
            .await
            .expect_err("duplicate")
    }

    #[tokio::test]
    async fn sql_errors_never_reach_the_client() {
        let db = memory_db().await;
        let err = db
            .execute_unprepared("SELECT password_hash FROM secret_accounts")
            .await
            .expect_err("no such table");
        let problem = Problem::from(err);
        assert_eq!(problem.status, 500);
        let body = String::from_utf8(problem.body().to_vec()).expect("utf8");
        for leak in ["SELECT", "secret_accounts", "password_hash", "sqlite"] {
            assert!(!body.contains(leak), "{leak} leaked: {body}");
        }
    }

    fn sqlx(err: sea_orm::sqlx::Error) -> RuntimeErr {
        RuntimeErr::SqlxError(std::sync::Arc::new(err))
    }

    #[test]
    fn an_unreachable_database_is_503_with_retry_after() {
        let refused = || {
            sea_orm::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
        };
        for err in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Conn(sqlx(refused())),
            DbErr::Exec(sqlx(refused())),
            DbErr::Query(sqlx(sea_orm::sqlx::Error::PoolTimedOut)),
            DbErr::Exec(sqlx(sea_orm::sqlx::Error::PoolClosed)),
        ] {
            let printed = err.to_string();
            let problem = Problem::from(err);
            assert_eq!(problem.status, 503, "{printed}");
            assert!(
                problem
                    .headers
                    .iter()
                    .any(|(name, value)| name == RETRY_AFTER && value == "1"),
                "{printed}"
            );
        }
    }

    #[test]
    fn other_runtime_errors_stay_500() {
        for err in [
            DbErr::Exec(RuntimeErr::Internal("bad statement".into())),
            DbErr::Query(sqlx(sea_orm::sqlx::Error::RowNotFound)),
            DbErr::Custom("anything".into()),
        ] {
            assert_eq!(Problem::from(err).status, 500);
        }
    }

    #[tokio::test]
    async fn a_closed_pool_is_503() {
        let db = memory_db().await;
        db.clone().close().await.expect("close");
        let err = db
            .execute_unprepared("SELECT 1")
            .await
            .expect_err("the pool is closed");
        assert_eq!(Problem::from(err).status, 503);
    }

    #[tokio::test]
    async fn unique_violations_become_409_without_sql() {
        let db = memory_db().await;
        db.execute_unprepared("CREATE TABLE t (email TEXT UNIQUE)")
            .await
            .expect("create");
        let problem = Problem::from(duplicate(&db, "t").await);
        assert_eq!(problem.status, 409);
        let body = String::from_utf8(problem.body().to_vec()).expect("utf8");
        assert!(
            !body.contains("INSERT") && !body.contains("t.email"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_named_unique_key_gets_its_own_conflict() {
        let db = memory_db().await;
        db.execute_unprepared("CREATE TABLE u (email TEXT)")
            .await
            .expect("create");
        db.execute_unprepared("CREATE UNIQUE INDEX ux_u_email ON u (email)")
            .await
            .expect("index");
        let key = UniqueKey {
            name: "ux_u_email",
            columns: "u.email",
        };
        let other = UniqueKey {
            name: "ux_u_name",
            columns: "u.name",
        };
        let err = duplicate(&db, "u").await;
        assert!(key.is_violated_by(&err));
        assert!(!other.is_violated_by(&err));
        let problem = key.or_problem(err, || Problem::conflict("this email is taken"));
        assert_eq!(problem.detail, "this email is taken");
    }

    #[test]
    fn postgres_and_sqlite_messages_name_the_key() {
        let key = UniqueKey {
            name: "ux_users_email",
            columns: "users.email",
        };
        assert!(
            key.is_named_in("duplicate key value violates unique constraint \"ux_users_email\"")
        );
        assert!(key.is_named_in("UNIQUE constraint failed: users.email"));
        assert!(!key.is_named_in("UNIQUE constraint failed: users.email, users.name"));
        assert!(
            !key.is_named_in(
                "duplicate key value violates unique constraint \"ux_users_email_old\""
            )
        );
    }
}
