//! Rate limits (`[routes.rate_limit]`): a token bucket per client, kept by
//! [`buckets::Table`] (GCRA). An empty bucket answers `429` problem+json
//! with `Retry-After` and the `RateLimit-Policy` / `RateLimit` fields of
//! the IETF httpapi draft (`"route";q=20;w=2` and `"route";r=0;t=1`).
//!
//! Keys: the client's network (an IPv4 client by its address, an IPv6
//! client by its /64, which one host owns, so a host cannot walk its own
//! addresses), or with `key = "header:<name>"` the header's value *together
//! with* the client's network (hashed with a per-process seed, so a key
//! costs the same whatever its length). The value is not verified (the
//! limit runs before edge authentication), so a client could send a new
//! value with every request; to stop that, a request whose value has no
//! bucket yet also takes a token from its network's bucket, the one a
//! request without the header uses. A client thus gets at most its
//! network's rate of new values, and the values it keeps using their own
//! rate each.
//!
//! Memory is bounded by `max_keys` buckets: past it, full buckets go first,
//! then the least recently seen of clients not being refused (see
//! [`buckets`]); a client being limited keeps its empty bucket however
//! many new keys arrive.

mod buckets;

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Arc;

use common::Problem;
use http::{HeaderName, HeaderValue};
use metrics::Counter;

use crate::config::policies::rate_limit::{RateLimitConfig, RateLimitKey};

use super::counters;
use super::{Hooks, Policy, RequestFacts, RequestHead, Verdict, under_any};
use buckets::{Table, Take};

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
    /// The seeded hash of a client network and a header value.
    Header(u64),
}

/// The buckets of one limit, shared with the next route table when the
/// limit's settings do not change on a reload.
#[derive(Debug)]
struct Buckets {
    table: Table<Key>,
    hasher: std::hash::RandomState,
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
    limited: Counter,
    evictions: Counter,
}

impl RateLimit {
    /// The limit `config` on the route labelled `route`, keeping the
    /// buckets of `kept` (the previous table's identical limit).
    pub(crate) fn new(config: &RateLimitConfig, route: &str, kept: Option<&RateLimit>) -> Self {
        let buckets = match kept {
            Some(k) => Arc::clone(&k.buckets),
            None => Arc::new(Buckets {
                // Validation refuses an interval of zero and a burst of 0.
                table: Table::new(config.interval(), config.burst, config.max_keys),
                hasher: std::hash::RandomState::new(),
            }),
        };
        let window = config.interval().saturating_mul(config.burst.max(1));
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
            config: config.clone(),
            buckets,
            policy,
            name,
            limited: counters::route_counter(counters::RATE_LIMITED, route),
            evictions: counters::route_counter(counters::RATE_LIMIT_EVICTIONS, route),
        }
    }

    /// The settings this limit was built from.
    pub(crate) fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Take a token for a request with `head` from `client_ip`: from the
    /// network's bucket, or the header value's (and, for a value without a
    /// bucket yet, the network's first).
    fn take(&self, head: &RequestHead<'_>, client_ip: IpAddr) -> Take {
        let network = network(client_ip);
        let value = match &self.config.key {
            RateLimitKey::Header(name) => head.headers.get(name),
            RateLimitKey::ClientIp => None,
        };
        let table = &self.buckets.table;
        let mut evicted = 0;
        let take = match value {
            None => {
                let (take, e) = table.take(network);
                evicted += e;
                take
            }
            Some(value) => {
                let key = Key::Header(self.buckets.hasher.hash_one((network, value.as_bytes())));
                let admitted = if table.contains(&key) {
                    Take::Allowed
                } else {
                    let (take, e) = table.take(network);
                    evicted += e;
                    take
                };
                match admitted {
                    Take::Allowed => {
                        let (take, e) = table.take(key);
                        evicted += e;
                        take
                    }
                    refused => refused,
                }
            }
        };
        if evicted > 0 {
            self.evictions.increment(evicted);
        }
        take
    }

    fn applies_to(&self, path: &str) -> bool {
        self.config.paths.is_empty() || under_any(path, &self.config.paths)
    }
}

/// The network a client is limited by: an IPv4 address, an IPv6 /64.
fn network(ip: IpAddr) -> Key {
    match ip {
        IpAddr::V4(v4) => Key::V4(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Key::V4(u32::from(v4)),
            None => Key::V6((u128::from(v6) >> 64) as u64),
        },
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
        let Take::Refused(wait) = self.take(head, facts.client_ip) else {
            return Ok(());
        };
        self.limited.increment(1);
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
