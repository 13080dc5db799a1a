//! Test support: a fresh database per test, on SQLite always and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

use crate::config::Secret;
use crate::db::DbSettings;

/// The environment variable naming a PostgreSQL server for tests
/// (`postgres://user:pass@host:port/postgres`); each test creates its own
/// database there.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A database for one test. SQLite files live in a temporary directory that
/// is removed when this value drops. `Debug` hides the URL (it carries the
/// test server's password).
pub struct TestDb {
    /// The URL to give the service (`DATABASE_URL`).
    pub url: String,
    /// Which backend.
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("url", &"[redacted]")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// A database backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl TestDb {
    /// A fresh SQLite file.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory for a test database");
        let url = format!("sqlite://{}/test.db", dir.path().display());
        Self {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        let admin_url = std::env::var(TEST_DATABASE_URL)
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url.as_str())
            .await
            .expect("TEST_DATABASE_URL is set but the server is not reachable");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        Some(Self {
            url: with_database(&admin_url, &name),
            backend: Backend::Postgres,
            _dir: None,
        })
    }

    /// Settings for connecting to this database.
    pub fn settings(&self) -> DbSettings {
        DbSettings {
            url: Secret::new(self.url.clone()),
            max_connections: 5,
            connect_timeout: Duration::from_secs(5),
            startup_timeout: Duration::from_secs(5),
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Define each test twice: `sqlite::name` (always) and `postgres::name`.
/// The PostgreSQL variant runs when `TEST_DATABASE_URL` was set when the
/// tests were built (the `postgres_tests` cfg, set by
/// `common/build/postgres_tests.rs`, which the calling package must use as
/// its build script); otherwise it is `#[ignore]`d, so the test summary
/// reports it as ignored rather than passed. The body sees `db: TestDb`.
///
/// ```text
/// common::backend_tests! {
///     async fn creates_a_thing(db) { let app = spawn(&db).await; ... }
/// }
/// ```
///
/// (A `text` block: an `ignore`d doctest would be one more test reported as
/// not run.)
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($db:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $db = $crate::testing::TestDb::sqlite();
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
                async fn $name() {
                    let $db = $crate::testing::TestDb::postgres().await.expect(
                        "TEST_DATABASE_URL was set when the tests were built but is not set now",
                    );
                    $body
                }
            )*
        }
    };
}

/// The value of one series (`name{label="value",...}` exactly as
/// rendered) in a Prometheus text exposition; `None` when absent.
pub fn metric_value(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_db_debug_hides_the_password() {
        let db = TestDb {
            url: "postgres://u:s3cret@h:5/t_1".into(),
            backend: Backend::Postgres,
            _dir: None,
        };
        let printed = format!("{db:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("Postgres"), "{printed}");
    }

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres", "t_1"),
            "postgres://u:p@h:5/t_1"
        );
        assert_eq!(
            with_database("postgres://h/x?sslmode=disable", "t"),
            "postgres://h/t?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t"), "postgres://h/t");
    }
}
