//! The buckets of one rate limit: a GCRA token bucket per key (the
//! "theoretical arrival time" of the next request, one number per key),
//! in a table of at most `max_keys` keys.
//!
//! The table is split in shards (a lock each, so that workers rarely wait
//! on one another), each holding its share of `max_keys`. When a new key
//! finds its shard full, room is made for an eighth of the share at once
//! (so the work is spread over many requests):
//! 1. buckets that are full again are dropped: their clients lose nothing;
//! 2. if that is not enough, the least recently seen buckets of clients
//!    that are not being refused right now are dropped (such a client
//!    gets back at most its burst);
//! 3. only when every bucket left is refusing its client are those dropped,
//!    least recently seen first.
//!
//! So a flood of new keys cannot empty the bucket of a client being
//! limited: it only evicts other newcomers. Steps 2 and 3 are counted
//! (`gateway_rate_limit_evictions_total`).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One bucket.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// When the bucket is full again (ns since the table's epoch); a
    /// request is allowed while this is at most `tolerance` ahead of now.
    tat: u64,
    /// Last request seen (ns since the epoch).
    seen: u64,
    /// The last request was refused: the client is at its limit.
    refused: bool,
}

/// What a request's bucket said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Take {
    /// A token was taken.
    Allowed,
    /// Empty: a token comes back in this long.
    Refused(Duration),
}

/// The keyed buckets of one limit.
#[derive(Debug)]
pub(super) struct Table<K> {
    shards: Box<[Mutex<HashMap<K, Entry>>]>,
    /// Keys per shard at most.
    per_shard: usize,
    /// Time for one token to come back (ns).
    interval: u64,
    /// How far ahead of now a bucket's `tat` may be and still allow a
    /// request: `interval * (burst - 1)`.
    tolerance: u64,
    epoch: Instant,
    hasher: std::hash::RandomState,
}

impl<K: Hash + Eq + Copy> Table<K> {
    /// Buckets of `burst` tokens, one back every `interval`, for at most
    /// `max_keys` keys (at least one per shard).
    pub(super) fn new(interval: Duration, burst: u32, max_keys: usize) -> Self {
        let shards = (max_keys / 1024).clamp(1, 16);
        let per_shard = max_keys.div_ceil(shards).max(1);
        let interval = u64::try_from(interval.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        Table {
            shards: (0..shards).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard,
            interval,
            tolerance: interval.saturating_mul(u64::from(burst.max(1) - 1)),
            epoch: Instant::now(),
            hasher: std::hash::RandomState::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn shard(&self, key: &K) -> &Mutex<HashMap<K, Entry>> {
        let i = (self.hasher.hash_one(key) % self.shards.len() as u64) as usize;
        &self.shards[i]
    }

    /// Whether `key` has a bucket (full or not).
    pub(super) fn contains(&self, key: &K) -> bool {
        let shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        shard.contains_key(key)
    }

    /// Take a token from `key`'s bucket (a new key gets a full one).
    /// Returns the outcome and how many buckets still refilling were
    /// evicted to make room.
    pub(super) fn take(&self, key: K) -> (Take, u64) {
        let now = self.now();
        let mut shard = self.shard(&key).lock().unwrap_or_else(|e| e.into_inner());
        let mut evicted = 0;
        if !shard.contains_key(&key) && shard.len() >= self.per_shard {
            evicted = self.make_room(&mut shard, now);
        }
        let entry = shard.entry(key).or_insert(Entry {
            tat: now,
            seen: now,
            refused: false,
        });
        entry.seen = now;
        let tat = entry.tat.max(now);
        let allowed_from = tat.saturating_sub(self.tolerance);
        if allowed_from > now {
            entry.refused = true;
            return (
                Take::Refused(Duration::from_nanos(allowed_from - now)),
                evicted,
            );
        }
        entry.tat = tat.saturating_add(self.interval);
        entry.refused = false;
        (Take::Allowed, evicted)
    }

    /// Drop buckets until an eighth of the shard is free (see the module
    /// documentation); the number dropped that were not full.
    fn make_room(&self, shard: &mut HashMap<K, Entry>, now: u64) -> u64 {
        shard.retain(|_, e| e.tat > now);
        let target = self.per_shard - (self.per_shard / 8).max(1);
        if shard.len() <= target {
            return 0;
        }
        let excess = shard.len() - target;
        // Not refused before refused, then least recently seen first.
        let mut order: Vec<((bool, u64), K)> = shard
            .iter()
            .map(|(k, e)| ((e.refused, e.seen), *k))
            .collect();
        order.select_nth_unstable_by_key(excess - 1, |(rank, _)| *rank);
        for (_, key) in &order[..excess] {
            shard.remove(key);
        }
        excess as u64
    }

    /// Buckets held now (all shards).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_until_a_token_is_back() {
        let t: Table<u32> = Table::new(MINUTE, 3, 100);
        for _ in 0..3 {
            assert_eq!(t.take(1).0, Take::Allowed);
        }
        let Take::Refused(wait) = t.take(1).0 else {
            panic!("a fourth request passed");
        };
        assert!(wait > Duration::from_secs(58) && wait <= MINUTE, "{wait:?}");
        assert_eq!(t.take(2).0, Take::Allowed);
    }

    #[test]
    fn tokens_come_back_at_the_rate() {
        let t: Table<u32> = Table::new(Duration::from_millis(20), 1, 10);
        assert_eq!(t.take(1).0, Take::Allowed);
        assert!(matches!(t.take(1).0, Take::Refused(_)));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(t.take(1).0, Take::Allowed);
    }

    #[test]
    fn a_flood_of_new_keys_evicts_newcomers_not_a_refused_client() {
        let t: Table<u32> = Table::new(MINUTE, 1, 10);
        assert_eq!(t.take(0).0, Take::Allowed);
        assert!(matches!(t.take(0).0, Take::Refused(_)));
        let mut evicted = 0;
        for k in 1..=1_100 {
            let (take, e) = t.take(k);
            assert_eq!(take, Take::Allowed);
            evicted += e;
            assert!(t.len() <= 10);
        }
        assert!(evicted >= 1_000, "{evicted}");
        assert!(matches!(t.take(0).0, Take::Refused(_)));
    }

    #[test]
    fn full_buckets_go_first_and_cost_nothing() {
        let t: Table<u32> = Table::new(Duration::from_millis(10), 1, 4);
        for k in 0..4 {
            assert_eq!(t.take(k).0, Take::Allowed);
        }
        std::thread::sleep(Duration::from_millis(20));
        let (take, evicted) = t.take(99);
        assert_eq!(take, Take::Allowed);
        assert_eq!(evicted, 0);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn when_every_bucket_is_refusing_the_oldest_go() {
        let t: Table<u32> = Table::new(MINUTE, 1, 8);
        for k in 0..8 {
            t.take(k);
            assert!(matches!(t.take(k).0, Take::Refused(_)));
        }
        let (_, evicted) = t.take(100);
        assert_eq!(evicted, 1);
        assert!(!t.contains(&0));
        assert!(t.contains(&7) && t.contains(&100));
    }

    #[test]
    fn many_keys_spread_over_shards_within_the_bound() {
        let t: Table<u32> = Table::new(MINUTE, 1, 20_000);
        assert_eq!(t.shards.len(), 16);
        for k in 0..40_000 {
            t.take(k);
        }
        assert!(t.len() <= 20_000 + 16, "{}", t.len());
    }
}
