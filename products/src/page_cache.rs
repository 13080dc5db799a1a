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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// The catalogue version a page was computed at, and the search index's:
/// a page is served again only while both are unchanged.
pub type Version = (i64, i64);

/// Recent list pages by query string.
#[derive(Debug)]
pub struct PageCache {
    capacity: usize,
    pages: Mutex<HashMap<String, (Version, Bytes)>>,
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl PageCache {
    /// A cache of at most `capacity` pages (0: none is kept).
    pub fn new(capacity: usize) -> PageCache {
        PageCache {
            capacity,
            pages: Mutex::new(HashMap::new()),
            computing: Mutex::new(HashMap::new()),
        }
    }

    /// Whether pages are kept at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The catalogue's current version (0 before the first write).
    pub async fn version(&self, db: &impl ConnectionTrait) -> Result<i64, DbErr> {
        let sql = "SELECT count FROM catalogue_counts WHERE facet = 'version' AND value = ''";
        let statement = Statement::from_string(db.get_database_backend(), sql);
        match db.query_one_raw(statement).await? {
            Some(row) => row.try_get_by_index::<i64>(0),
            None => Ok(0),
        }
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

    #[test]
    fn a_cache_of_zero_keeps_nothing() {
        let cache = PageCache::new(0);
        assert!(!cache.enabled());
        cache.put("q", (1, 0), Bytes::from_static(b"x"));
        assert_eq!(cache.get("q", (1, 0)), None);
    }
}
