//! The list-page cache: recent `GET /` bodies by query string, each kept
//! with the catalogue version it was computed at and the version the
//! search index was at ([`Version`]).
//!
//! Every write to `products` bumps the version in the database (a trigger,
//! fourth migration), so a request reads the version (one primary-key
//! lookup) and serves a cached body only when it was computed at that very
//! version: a write on any replica makes the next read on every replica
//! fresh. The body is computed after the version is read, so it is never
//! older than the version it is filed under. Requests for a page being
//! computed wait for it ([`PageCache::gate`]) instead of computing it again,
//! so a popular page that a write made stale is computed once, not once per
//! waiting shopper. `LIST_CACHE_ENTRIES` bounds
//! the number of pages kept (0 turns the cache off); when full, an entry
//! is dropped to make room.
//!
//! Reading the version is one statement, but one per listing was the
//! largest share of the database's work under diverse load (every query
//! different, so nothing else reaches the database). Concurrent requests
//! therefore share reads ([`VersionReader`]): a request waits for the
//! first read that *starts after it arrived*, so what it sees is never
//! older than a write it could have observed (a write acknowledged before
//! the request came in, on any replica), and at most one read is in
//! flight per replica while any number of requests wait for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use tokio::sync::watch;

/// What one read of the catalogue's markers finds: its version and its
/// kept total (both rows are written by the same triggers, so one
/// statement sees them agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Catalogue {
    /// The catalogue version (0 before the first write).
    pub version: i64,
    /// How many products there are.
    pub total: u64,
}

/// The catalogue version a page was computed at, and the search index's:
/// a page is served again only while both are unchanged.
pub type Version = (i64, i64);

/// Recent list pages by query string.
#[derive(Debug)]
pub struct PageCache {
    capacity: usize,
    pages: Mutex<HashMap<String, (Version, Bytes)>>,
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    versions: Arc<VersionReader>,
}

impl PageCache {
    /// A cache of at most `capacity` pages (0: none is kept).
    pub fn new(capacity: usize) -> PageCache {
        PageCache {
            capacity,
            pages: Mutex::new(HashMap::new()),
            computing: Mutex::new(HashMap::new()),
            versions: Arc::new(VersionReader::new()),
        }
    }

    /// Whether pages are kept at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The catalogue's current version (0 before the first write) and
    /// total, read after this call began (a read shared with concurrent
    /// callers, see [`VersionReader`]).
    pub async fn version(&self, db: &DatabaseConnection) -> Result<Catalogue, DbErr> {
        self.versions.current(db).await
    }

    /// The page for `query` if it was computed at `version`.
    pub fn get(&self, query: &str, version: Version) -> Option<Bytes> {
        let pages = self.pages.lock().ok()?;
        match pages.get(query) {
            Some((at, body)) if *at == version => Some(body.clone()),
            _ => None,
        }
    }

    /// The gate of `query`: hold its lock while computing the page, then
    /// look in the cache again (the request ahead may have filled it).
    pub fn gate(&self, query: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.computing.lock() {
            Ok(mut gates) => gates.entry(query.to_string()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    /// Retire the gate of `query` when the returned guard drops: after the
    /// page was computed, or its computation failed or was abandoned (its
    /// waiters hold their own handle to the gate).
    pub fn retire_on_drop(&self, query: &str) -> Retire<'_> {
        Retire {
            cache: self,
            query: query.to_string(),
        }
    }

    /// Keep `body` as the page for `query` at `version`.
    pub fn put(&self, query: &str, version: Version, body: Bytes) {
        if !self.enabled() {
            return;
        }
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        if pages.len() >= self.capacity && !pages.contains_key(query) {
            // Pages of older versions go first; else any one.
            let stale: Vec<String> = pages
                .iter()
                .filter(|(_, (at, _))| *at != version)
                .map(|(key, _)| key.clone())
                .collect();
            if stale.is_empty() {
                if let Some(key) = pages.keys().next().cloned() {
                    pages.remove(&key);
                }
            } else {
                for key in stale {
                    pages.remove(&key);
                }
            }
        }
        pages.insert(query.to_string(), (version, body));
    }
}

/// The catalogue's version read once for every request waiting at the
/// time (see the module comment).
///
/// Reads are numbered. A caller needs the first read numbered above the
/// last one started when it arrived; if no read is running it starts that
/// one, else the running read starts it when it ends. Reads run in a task
/// of their own, so a caller that goes away cannot strand the others.
#[derive(Debug)]
pub struct VersionReader {
    state: Mutex<ReaderState>,
    done: watch::Sender<ReadOutcome>,
}

#[derive(Debug, Default)]
struct ReaderState {
    /// The number of the last read started.
    started: u64,
    /// Whether a read task is running.
    running: bool,
    /// The highest read number a caller waits for.
    wanted: u64,
}

/// The last read's number and what it found.
#[derive(Debug, Clone)]
struct ReadOutcome {
    read: u64,
    version: Result<Catalogue, String>,
}

impl Default for VersionReader {
    fn default() -> Self {
        VersionReader::new()
    }
}

impl VersionReader {
    /// No read done yet.
    pub fn new() -> VersionReader {
        VersionReader {
            state: Mutex::new(ReaderState::default()),
            done: watch::Sender::new(ReadOutcome {
                read: 0,
                version: Ok(Catalogue::default()),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, ReaderState> {
        // The state is three numbers updated together: a panic cannot
        // leave them half-written.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The catalogue version as read by a read that started after this
    /// call began.
    pub async fn current(self: &Arc<Self>, db: &DatabaseConnection) -> Result<Catalogue, DbErr> {
        let mut outcomes = self.done.subscribe();
        let needed = {
            let mut state = self.state();
            let needed = state.started + 1;
            if state.running {
                state.wanted = state.wanted.max(needed);
            } else {
                state.running = true;
                state.started = needed;
                tokio::spawn(self.clone().read_while_wanted(db.clone(), needed));
            }
            needed
        };
        let outcome = outcomes
            .wait_for(|outcome| outcome.read >= needed)
            .await
            .map_err(|_| DbErr::Custom("the catalogue version reader stopped".into()))?;
        outcome.version.clone().map_err(DbErr::Custom)
    }

    /// Read, publish, and read again while callers arrived during the read.
    async fn read_while_wanted(self: Arc<Self>, db: DatabaseConnection, mut read: u64) {
        loop {
            let version = read_version(&db).await.map_err(|e| e.to_string());
            self.done.send_replace(ReadOutcome { read, version });
            let mut state = self.state();
            if state.wanted <= read {
                state.running = false;
                return;
            }
            read = state.started + 1;
            state.started = read;
        }
    }
}

/// One read of the catalogue version (0 before the first write) and total.
pub async fn read_version(db: &impl ConnectionTrait) -> Result<Catalogue, DbErr> {
    let sql = "SELECT (SELECT count FROM catalogue_counts WHERE facet = 'version' AND value = ''), \
               (SELECT count FROM catalogue_counts WHERE facet = 'total' AND value = '')";
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(Catalogue::default());
    };
    Ok(Catalogue {
        version: row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
        total: u64::try_from(row.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0)).unwrap_or(0),
    })
}

/// Retires a query's gate when dropped (see [`PageCache::retire_on_drop`]).
#[derive(Debug)]
pub struct Retire<'a> {
    cache: &'a PageCache,
    query: String,
}

impl Drop for Retire<'_> {
    fn drop(&mut self) {
        if let Ok(mut gates) = self.cache.computing.lock() {
            gates.remove(&self.query);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_only_at_its_version() {
        let cache = PageCache::new(2);
        cache.put("q=a", (7, 0), Bytes::from_static(b"a"));
        assert_eq!(cache.get("q=a", (7, 0)).as_deref(), Some(&b"a"[..]));
        assert_eq!(cache.get("q=a", (8, 0)), None);
        assert_eq!(cache.get("q=a", (7, 1)), None, "the index moved on");
        assert_eq!(cache.get("q=b", (7, 0)), None);
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = PageCache::new(2);
        cache.put("1", (1, 0), Bytes::from_static(b"1"));
        cache.put("2", (2, 0), Bytes::from_static(b"2"));
        cache.put("3", (2, 0), Bytes::from_static(b"3"));
        assert_eq!(cache.get("1", (1, 0)), None, "the older version went first");
        cache.put("4", (2, 0), Bytes::from_static(b"4"));
        let kept = ["2", "3", "4"]
            .iter()
            .filter(|k| cache.get(k, (2, 0)).is_some())
            .count();
        assert_eq!(kept, 2);
    }

    #[tokio::test]
    async fn one_request_computes_a_page_while_the_others_wait() {
        let cache = PageCache::new(4);
        let gate = cache.gate("q");
        let turn = gate.lock().await;
        let waiting = cache.gate("q");
        assert!(waiting.try_lock().is_err(), "the same gate, held");
        let retire = cache.retire_on_drop("q");
        cache.put("q", (1, 0), Bytes::from_static(b"x"));
        drop(retire);
        drop(turn);
        assert!(waiting.try_lock().is_ok());
        assert_eq!(cache.get("q", (1, 0)).as_deref(), Some(&b"x"[..]));
        assert!(
            cache.gate("q").try_lock().is_ok(),
            "a fresh gate after the put"
        );
    }

    async fn catalogue_db(dir: &tempfile::TempDir) -> DatabaseConnection {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
        let db = sea_orm::Database::connect(url).await.expect("sqlite");
        for sql in [
            "CREATE TABLE catalogue_counts (facet TEXT, value TEXT, count INTEGER)",
            "INSERT INTO catalogue_counts VALUES ('version', '', 1)",
        ] {
            db.execute_unprepared(sql).await.expect(sql);
        }
        db
    }

    #[tokio::test]
    async fn a_version_written_before_the_call_is_seen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = catalogue_db(&dir).await;
        let cache = PageCache::new(4);
        assert_eq!(cache.version(&db).await.expect("read").version, 1);
        for next in 2..=5 {
            let sql = format!("UPDATE catalogue_counts SET count = {next} WHERE facet = 'version'");
            db.execute_unprepared(&sql).await.expect("bump");
            assert_eq!(cache.version(&db).await.expect("read").version, next);
        }
        db.execute_unprepared("INSERT INTO catalogue_counts VALUES ('total', '', 42)")
            .await
            .expect("total");
        assert_eq!(
            cache.version(&db).await.expect("read"),
            Catalogue {
                version: 5,
                total: 42
            }
        );
    }

    #[tokio::test]
    async fn concurrent_callers_share_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = catalogue_db(&dir).await;
        let cache = Arc::new(PageCache::new(4));
        let callers: Vec<_> = (0..200)
            .map(|_| {
                let (cache, db) = (cache.clone(), db.clone());
                tokio::spawn(async move { cache.version(&db).await })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.expect("task").expect("read").version, 1);
        }
        // One thread, tasks run in turn: the first caller starts read 1;
        // the 199 others arrive while it runs, so they need a read started
        // after them, and share read 2.
        let reads = cache.versions.done.borrow().read;
        assert_eq!(reads, 2, "200 callers, two reads");
    }

    #[tokio::test]
    async fn a_failed_read_fails_its_callers_and_the_next_call_reads_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = catalogue_db(&dir).await;
        let cache = PageCache::new(4);
        db.execute_unprepared("ALTER TABLE catalogue_counts RENAME TO moved")
            .await
            .expect("rename");
        let failed = cache.version(&db).await.expect_err("no table");
        assert!(failed.to_string().contains("catalogue_counts"), "{failed}");
        db.execute_unprepared("ALTER TABLE moved RENAME TO catalogue_counts")
            .await
            .expect("rename back");
        assert_eq!(cache.version(&db).await.expect("read").version, 1);
    }

    #[test]
    fn a_cache_of_zero_keeps_nothing() {
        let cache = PageCache::new(0);
        assert!(!cache.enabled());
        cache.put("q", (1, 0), Bytes::from_static(b"x"));
        assert_eq!(cache.get("q", (1, 0)), None);
    }
}
