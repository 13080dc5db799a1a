//! Database connection (SQLite file or PostgreSQL, by URL) with start-up
//! retries, migrations, database errors as problems and LIKE patterns.

mod errors;
mod like;
pub mod metrics;
mod migrate;

pub use errors::UniqueKey;
pub use like::contains_pattern;
pub use migrate::MIGRATION_LOCK;

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::config::Secret;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `sqlite://path/file.db` or `postgres://user:pass@host/db`.
    pub url: Secret,
    /// Pool size.
    pub max_connections: u32,
    /// Per connection attempt.
    pub connect_timeout: Duration,
    /// Total time start-up keeps retrying.
    pub startup_timeout: Duration,
}

/// A database that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL's scheme is not one we support.
    #[error("DATABASE_URL: unsupported scheme (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// The SQLite directory could not be created.
    #[error("DATABASE_URL: cannot create the SQLite directory {dir}: {source}")]
    SqliteDir {
        /// The directory.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
    /// Still unreachable after the start-up timeout.
    #[error("database not reachable after {waited:?}: {source}")]
    Unreachable {
        /// How long we tried.
        waited: Duration,
        /// The last error.
        source: DbErr,
    },
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migration(DbErr),
    /// The lock that lets one replica migrate at a time could not be taken.
    #[error("cannot take the migration lock: {0}")]
    MigrationLock(DbErr),
}

/// Whether a URL points at SQLite.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Connect, retrying with exponential backoff (containers start in any
/// order) until `startup_timeout`.
pub async fn connect(settings: &DbSettings) -> Result<DatabaseConnection, DbError> {
    let url = prepare_url(settings.url.expose())?;
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let mut options = ConnectOptions::new(url.clone());
        options
            .max_connections(settings.max_connections)
            .connect_timeout(settings.connect_timeout)
            .acquire_timeout(settings.connect_timeout)
            .sqlx_logging(false);
        if url.contains(":memory:") {
            // Every pooled connection to :memory: would be its own database.
            options.max_connections(1);
        } else if is_sqlite(&url) {
            // WAL: readers do not block the writer. The busy timeout makes
            // concurrent writers wait for the lock instead of failing.
            options.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        }
        match Database::connect(options).await {
            Ok(db) => return Ok(db),
            Err(e) if started.elapsed() + delay < settings.startup_timeout => {
                tracing::warn!(error = %redact(&e.to_string(), settings.url.expose()), retry_in = ?delay, "database not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                return Err(DbError::Unreachable {
                    waited: started.elapsed(),
                    source: e,
                });
            }
        }
    }
}

/// Connect and bring the schema up to date with `M`'s migrations. Safe for
/// several replicas starting at once on one database: one migrates at a
/// time (see [`MIGRATION_LOCK`]), the others then find nothing to do.
pub async fn connect_and_migrate<M: MigratorTrait>(
    settings: &DbSettings,
) -> Result<DatabaseConnection, DbError> {
    let db = connect(settings).await?;
    migrate::migrate::<M>(&db, settings.url.expose()).await?;
    Ok(db)
}

/// Make a SQLite URL creatable (`mode=rwc`) and its directory exist.
fn prepare_url(url: &str) -> Result<String, DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    if !is_sqlite(url) {
        return Err(DbError::UnsupportedUrl);
    }
    if url.contains(":memory:") {
        return Ok(url.to_string());
    }
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let file = path.split('?').next().unwrap_or(path);
    if let Some(dir) = std::path::Path::new(file).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|source| DbError::SqliteDir {
            dir: dir.display().to_string(),
            source,
        })?;
    }
    if url.contains("mode=") {
        Ok(url.to_string())
    } else if url.contains('?') {
        Ok(format!("{url}&mode=rwc"))
    } else {
        Ok(format!("{url}?mode=rwc"))
    }
}

/// Remove the password of `url` from a message, in case a driver echoes it.
fn redact(message: &str, url: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
    {
        Some((userinfo, _)) => match userinfo.split_once(':') {
            Some((_, password)) if !password.is_empty() => message.replace(password, "[redacted]"),
            _ => message.to_string(),
        },
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_become_creatable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/sub/x.db", dir.path().display());
        let prepared = prepare_url(&url).expect("ok");
        assert!(prepared.ends_with("x.db?mode=rwc"));
        assert!(dir.path().join("sub").is_dir());
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(matches!(
            prepare_url("mysql://x"),
            Err(DbError::UnsupportedUrl)
        ));
    }

    #[test]
    fn passwords_are_redacted() {
        let m = redact(
            "failed for postgres://u:s3cret@h/db",
            "postgres://u:s3cret@h/db",
        );
        assert!(!m.contains("s3cret"));
    }

    #[tokio::test]
    async fn unreachable_database_gives_up_after_the_startup_timeout() {
        let settings = DbSettings {
            url: Secret::new("postgres://u:p@127.0.0.1:1/db"),
            max_connections: 1,
            connect_timeout: Duration::from_millis(200),
            startup_timeout: Duration::from_millis(500),
        };
        let err = connect(&settings).await.expect_err("unreachable");
        assert!(matches!(err, DbError::Unreachable { .. }), "{err}");
        assert!(!err.to_string().contains(":p@"));
    }

    use sea_orm::ConnectionTrait;

    #[tokio::test]
    async fn sqlite_file_connects_in_wal_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = DbSettings {
            url: Secret::new(format!("sqlite://{}/t.db", dir.path().display())),
            max_connections: 2,
            connect_timeout: Duration::from_secs(2),
            startup_timeout: Duration::from_secs(2),
        };
        let db = connect(&settings).await.expect("connects");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "PRAGMA journal_mode",
            ))
            .await
            .expect("query")
            .expect("row");
        let mode: String = row.try_get_by_index(0).expect("mode");
        assert_eq!(mode, "wal");
    }

    /// Tests that need a PostgreSQL server (`TEST_DATABASE_URL`).
    mod postgres {
        use super::*;

        /// A PostgreSQL that starts listening only after a while (a proxy in
        /// front of the test server that opens late) is waited for.
        #[tokio::test]
        #[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
        async fn a_database_that_comes_up_late_is_waited_for() {
            let url = std::env::var("TEST_DATABASE_URL")
                .expect("TEST_DATABASE_URL was set when the tests were built but is not set now");
            let target = url
                .split("://")
                .nth(1)
                .and_then(|rest| rest.rsplit('@').next())
                .and_then(|hostpart| hostpart.split('/').next())
                .expect("host:port in TEST_DATABASE_URL")
                .to_string();
            // Hold a port bound but not listening (connections to it are
            // refused, as to a server not up yet, and no other process can
            // take it), and start listening on it only later.
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket
                .bind(([127, 0, 0, 1], 0).into())
                .expect("bind a free port");
            let port = socket.local_addr().expect("bound address").port();
            let late_url = url.replacen(&target, &format!("127.0.0.1:{port}"), 1);
            let proxy = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                let listener = socket.listen(128).expect("listen late");
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        return;
                    };
                    let target = target.clone();
                    tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            });
            let settings = DbSettings {
                url: Secret::new(late_url),
                max_connections: 2,
                connect_timeout: Duration::from_secs(2),
                startup_timeout: Duration::from_secs(30),
            };
            let started = std::time::Instant::now();
            let db = connect(&settings)
                .await
                .expect("connects once the server is up");
            assert!(started.elapsed() >= Duration::from_millis(1500));
            db.ping().await.expect("usable");
            proxy.abort();
        }
    }
}
