//! A route's retry policy: which failed requests go to another endpoint,
//! and the budget that bounds them, so that retries never multiply an
//! outage (the idea of Finagle's and Linkerd's retry budgets).
//!
//! The budget counts the route's requests and retries over the last ten
//! seconds, in one-second slots of atomics. A retry is allowed while
//! retries stay within `budget_percent` of those requests, or while this
//! second has seen fewer than `budget_min_per_second` (so a quiet route can
//! still retry). A reload starts a new budget.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use http::{Method, StatusCode};
use metrics::Counter;

use crate::config::RetryConfig;
use crate::metrics::{RETRIES, RETRY_BUDGET_EXHAUSTED};

/// Why a request is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// The endpoint could not be reached; nothing was sent.
    Connect,
    /// The endpoint answered a status listed in `on_status`.
    Status,
}

/// The slots of the window.
const SLOTS: usize = 10;

/// One second of the window.
#[derive(Debug, Default)]
struct Slot {
    /// The second (since the process's clock epoch) the counts are for.
    second: AtomicU64,
    requests: AtomicU32,
    retries: AtomicU32,
}

/// The retry settings of one route, with its budget and counters.
#[derive(Debug)]
pub(crate) struct RetryPolicy {
    attempts: u32,
    on_status: Vec<u16>,
    percent: u32,
    min_per_second: u32,
    slots: [Slot; SLOTS],
    retried_connect: Counter,
    retried_status: Counter,
    exhausted: Counter,
}

impl RetryPolicy {
    /// The policy of route `route`; `None` when it retries nothing (then
    /// nothing is counted per request).
    pub(crate) fn new(route: &str, config: &RetryConfig) -> Option<Self> {
        if config.attempts == 0 {
            return None;
        }
        let counter = |reason: &'static str| {
            let c = metrics::counter!(RETRIES, "route" => route.to_string(), "reason" => reason);
            c.increment(0);
            c
        };
        let exhausted = metrics::counter!(RETRY_BUDGET_EXHAUSTED, "route" => route.to_string());
        exhausted.increment(0);
        Some(RetryPolicy {
            attempts: config.attempts,
            on_status: config.on_status.clone(),
            percent: config.budget_percent,
            min_per_second: config.budget_min_per_second,
            slots: Default::default(),
            retried_connect: counter("connect"),
            retried_status: counter("status"),
            exhausted,
        })
    }

    /// Retries allowed per request.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether an answer with `status` to a request with `method` and
    /// `bodyless` may be retried (idempotent, nothing of a body sent).
    pub(crate) fn retries_status(
        &self,
        status: StatusCode,
        method: &Method,
        bodyless: bool,
    ) -> bool {
        !self.on_status.is_empty()
            && bodyless
            && is_idempotent(method)
            && self.on_status.contains(&status.as_u16())
    }

    /// Count a request (the denominator of the budget).
    pub(crate) fn record_request(&self) {
        self.slot(second_now())
            .requests
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Take one retry from the budget, counting it; `false` (counted as
    /// exhausted) when the budget is spent.
    pub(crate) fn try_retry(&self, reason: RetryReason) -> bool {
        let now = second_now();
        let current = self.slot(now);
        let this_second = current.retries.load(Ordering::Relaxed);
        let (mut requests, mut retries) = (0u64, 0u64);
        for slot in &self.slots {
            if now.saturating_sub(slot.second.load(Ordering::Relaxed)) < SLOTS as u64 {
                requests += u64::from(slot.requests.load(Ordering::Relaxed));
                retries += u64::from(slot.retries.load(Ordering::Relaxed));
            }
        }
        let allowed = this_second < self.min_per_second
            || (retries + 1) * 100 <= requests * u64::from(self.percent);
        if !allowed {
            self.exhausted.increment(1);
            return false;
        }
        current.retries.fetch_add(1, Ordering::Relaxed);
        match reason {
            RetryReason::Connect => self.retried_connect.increment(1),
            RetryReason::Status => self.retried_status.increment(1),
        }
        true
    }

    /// The slot of second `now`, emptied first when it still holds an
    /// older second (a race loses a count or two, no more).
    fn slot(&self, now: u64) -> &Slot {
        let slot = &self.slots[(now % SLOTS as u64) as usize];
        if slot.second.load(Ordering::Relaxed) != now
            && slot.second.swap(now, Ordering::Relaxed) != now
        {
            slot.requests.store(0, Ordering::Relaxed);
            slot.retries.store(0, Ordering::Relaxed);
        }
        slot
    }
}

/// Seconds on the upstreams' clock (never 0, so a fresh slot is stale).
fn second_now() -> u64 {
    super::health::now_ms() / 1000 + 1
}

/// Methods whose repetition has the effect of one request (RFC 9110 §9.2.2).
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(percent: u32, min_per_second: u32) -> RetryPolicy {
        RetryPolicy::new(
            "/t/",
            &RetryConfig {
                attempts: 1,
                on_status: vec![503],
                budget_percent: percent,
                budget_min_per_second: min_per_second,
            },
        )
        .expect("on")
    }

    #[test]
    fn retries_stay_within_the_share_of_requests() {
        let p = policy(20, 0);
        let mut allowed = 0;
        for _ in 0..100 {
            p.record_request();
            if p.try_retry(RetryReason::Status) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 20);
    }

    #[test]
    fn the_minimum_per_second_allows_retries_without_traffic() {
        let p = policy(0, 3);
        let allowed = (0..10)
            .filter(|_| p.try_retry(RetryReason::Connect))
            .count();
        // Three per second (six if the loop happened to straddle a second).
        assert!(allowed == 3 || allowed == 6, "{allowed}");
    }

    #[test]
    fn only_idempotent_bodyless_requests_retry_on_a_listed_status() {
        let p = policy(20, 3);
        assert!(p.retries_status(StatusCode::SERVICE_UNAVAILABLE, &Method::GET, true));
        assert!(!p.retries_status(StatusCode::SERVICE_UNAVAILABLE, &Method::POST, true));
        assert!(!p.retries_status(StatusCode::SERVICE_UNAVAILABLE, &Method::PUT, false));
        assert!(!p.retries_status(StatusCode::BAD_GATEWAY, &Method::GET, true));
    }
}
