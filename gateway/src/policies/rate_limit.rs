//! Rate limits (`[routes.rate_limit]`): a token bucket per client, kept by
//! `governor`'s keyed GCRA limiter. An empty bucket answers `429`
//! problem+json with `Retry-After` and the `RateLimit-Policy` / `RateLimit`
//! fields of the IETF httpapi draft (`"route";q=20;w=2` and
//! `"route";r=0;t=1`).
//!
//! Memory is bounded: every `min(1024, max_keys)` requests the buckets are
//! counted; past `max_keys` the ones that are full again (idle clients) are
//! dropped, and if every client is still active the buckets are all
//! dropped at once (counted in `gateway_rate_limit_resets_total`, logged),
//! so the table never holds more than about twice `max_keys` buckets.
//!
//! Keys: the client IP (an IPv6 client by its /64, which one host owns, so
//! a host cannot walk its own addresses), or a header's value (hashed with
//! a per-process seed, so a key costs the same whatever its length; a
//! request without the header is keyed by its IP).

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use common::Problem;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use http::{HeaderName, HeaderValue};
use metrics::Counter;

use crate::config::policies::rate_limit::{RateLimitConfig, RateLimitKey};

use super::counters;
use super::{Hooks, Policy, RequestFacts, RequestHead, Verdict, under_any};

/// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers).
static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit` (same draft).
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Whose bucket a request takes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    V4(u32),
    /// The /64 network.
    V6(u64),
    /// The seeded hash of a header value.
    Header(u64),
}

type Limiter = RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock>;

/// The buckets of one limit, shared with the next route table when the
/// limit's settings do not change on a reload.
struct Buckets {
    limiter: ArcSwap<Limiter>,
    quota: Quota,
    /// Requests seen, for the periodic count of buckets.
    seen: AtomicU64,
    hasher: std::hash::RandomState,
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buckets")
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

/// One route's rate limit.
#[derive(Debug)]
pub(crate) struct RateLimit {
    config: RateLimitConfig,
    buckets: Arc<Buckets>,
    /// `"<route>";q=<burst>;w=<seconds to refill>`, built once.
    policy: HeaderValue,
    /// The policy's name in the `RateLimit` field.
    name: String,
    /// Requests counted between two counts of the buckets.
    check_every: u64,
    limited: Counter,
    resets: Counter,
}

impl RateLimit {
    /// The limit `config` on the route labelled `route`, keeping the
    /// buckets of `kept` (the previous table's identical limit).
    pub(crate) fn new(config: &RateLimitConfig, route: &str, kept: Option<&RateLimit>) -> Self {
        let buckets = match kept {
            Some(k) => Arc::clone(&k.buckets),
            None => {
                let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
                // Validation refuses an interval of zero; `with_period`
                // refuses nothing else.
                let quota = Quota::with_period(config.interval())
                    .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
                    .allow_burst(burst);
                Arc::new(Buckets {
                    limiter: ArcSwap::from_pointee(RateLimiter::keyed(quota)),
                    quota,
                    seen: AtomicU64::new(0),
                    hasher: std::hash::RandomState::new(),
                })
            }
        };
        let window = buckets.quota.burst_size_replenished_in();
        let window_secs = window.as_secs() + u64::from(window.subsec_nanos() > 0);
        let name = route.trim_matches('/').replace(['"', '\\'], "");
        let name = if name.is_empty() {
            "root".to_string()
        } else {
            name
        };
        let policy = HeaderValue::from_str(&format!(
            "\"{name}\";q={};w={}",
            config.burst,
            window_secs.max(1)
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("\"route\""));
        RateLimit {
            check_every: (config.max_keys as u64).clamp(1, 1024),
            config: config.clone(),
            buckets,
            policy,
            name,
            limited: counters::route_counter(counters::RATE_LIMITED, route),
            resets: counters::route_counter(counters::RATE_LIMIT_RESETS, route),
        }
    }

    /// The settings this limit was built from.
    pub(crate) fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    fn key(&self, head: &RequestHead<'_>, client_ip: IpAddr) -> Key {
        if let RateLimitKey::Header(name) = &self.config.key
            && let Some(value) = head.headers.get(name)
        {
            return Key::Header(self.buckets.hasher.hash_one(value.as_bytes()));
        }
        match client_ip {
            IpAddr::V4(v4) => Key::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Key::V4(u32::from(v4)),
                None => Key::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }

    /// Keep the number of buckets bounded (see the module documentation).
    fn upkeep(&self) {
        let seen = self.buckets.seen.fetch_add(1, Ordering::Relaxed);
        if !seen.is_multiple_of(self.check_every) {
            return;
        }
        let limiter = self.buckets.limiter.load();
        if limiter.len() <= self.config.max_keys {
            return;
        }
        limiter.retain_recent();
        if limiter.len() > self.config.max_keys {
            tracing::warn!(
                route = %self.name,
                max_keys = self.config.max_keys,
                "more clients than rate_limit.max_keys are active at once; their buckets start over"
            );
            self.buckets
                .limiter
                .store(Arc::new(RateLimiter::keyed(self.buckets.quota)));
            self.resets.increment(1);
        } else {
            limiter.shrink_to_fit();
        }
    }

    fn applies_to(&self, path: &str) -> bool {
        self.config.paths.is_empty() || under_any(path, &self.config.paths)
    }
}

impl Policy for RateLimit {
    fn hooks(&self) -> Hooks {
        Hooks::REQUEST
    }

    async fn on_request(
        &self,
        head: &RequestHead<'_>,
        facts: &RequestFacts<'_>,
    ) -> Result<(), Verdict> {
        if !self.applies_to(facts.path) {
            return Ok(());
        }
        self.upkeep();
        let key = self.key(head, facts.client_ip);
        let limiter = self.buckets.limiter.load();
        let Err(not_until) = limiter.check_key(&key) else {
            return Ok(());
        };
        self.limited.increment(1);
        let wait = not_until.wait_time_from(limiter.clock().now());
        // The same count as `Problem::too_many_requests` gives `Retry-After`.
        let secs = wait.as_secs().max(1) + u64::from(wait.subsec_nanos() > 0);
        let current = HeaderValue::from_str(&format!("\"{}\";r=0;t={secs}", self.name))
            .unwrap_or_else(|_| HeaderValue::from_static("\"route\";r=0"));
        Err(Problem::too_many_requests(
            format!(
                "too many requests: at most {} per {}ms with bursts of {}; retry in {secs}s",
                self.config.requests,
                self.config.period.as_millis(),
                self.config.burst
            ),
            wait,
        )
        .with_header(RATELIMIT_POLICY.clone(), self.policy.clone())
        .with_header(RATELIMIT.clone(), current)
        .into())
    }
}
