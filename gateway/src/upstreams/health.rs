//! The health of one endpoint address: what active checks last concluded,
//! whether passive outlier detection ejected it (and until when), and its
//! outstanding requests. Every field is an atomic read on the request path;
//! the state is shared by the pools of successive route tables, so a
//! reload keeps it for the addresses that stay.
//!
//! An endpoint is healthy when active checks (if any) say it is up and it
//! is not ejected. Ejection ([`super::outlier`]) follows a run of connect
//! failures or of 5xx answers; the n-th ejection in a row lasts n times
//! `base_ejection` (at most `max_ejection`). An endpoint is never ejected
//! when it is the last healthy one, nor beyond `max_ejected_percent`.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Milliseconds since the process's first call: one clock for every pool,
/// so marks survive the pool that wrote them. Never 0 (0 means "never").
pub(super) fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The health and load of one endpoint address.
#[derive(Debug)]
pub(crate) struct EndpointState {
    /// Requests sent and not yet answered to the end (power of two choices).
    pub(super) outstanding: AtomicU32,
    /// What active checks concluded (true without active checks).
    active_up: AtomicBool,
    /// Checks in a row that disagree with `active_up`.
    active_streak: AtomicU32,
    /// Ejected until this time (ms on [`now_ms`]; 0: not ejected).
    pub(super) ejected_until_ms: AtomicU64,
    /// Ejections in a row (the next one lasts one more `base_ejection`).
    pub(super) ejections: AtomicU32,
    /// Connect failures in a row.
    pub(super) connect_failures: AtomicU32,
    /// 5xx answers or broken exchanges in a row.
    pub(super) failures_5xx: AtomicU32,
}

impl Default for EndpointState {
    fn default() -> Self {
        EndpointState {
            outstanding: AtomicU32::new(0),
            active_up: AtomicBool::new(true),
            active_streak: AtomicU32::new(0),
            ejected_until_ms: AtomicU64::new(0),
            ejections: AtomicU32::new(0),
            connect_failures: AtomicU32::new(0),
            failures_5xx: AtomicU32::new(0),
        }
    }
}

impl EndpointState {
    /// Whether requests may go to this endpoint at `now_ms`.
    pub(super) fn is_healthy(&self, now_ms: u64) -> bool {
        self.active_up.load(Ordering::Relaxed) && !self.is_ejected(now_ms)
    }

    /// Whether passive detection has it out at `now_ms`.
    pub(super) fn is_ejected(&self, now_ms: u64) -> bool {
        now_ms < self.ejected_until_ms.load(Ordering::Relaxed)
    }

    /// Record one active check; returns the new verdict when it changed.
    pub(super) fn record_check(&self, passed: bool, healthy: u32, unhealthy: u32) -> Option<bool> {
        let up = self.active_up.load(Ordering::Relaxed);
        if passed == up {
            self.active_streak.store(0, Ordering::Relaxed);
            return None;
        }
        let streak = self.active_streak.fetch_add(1, Ordering::Relaxed) + 1;
        let needed = if up { unhealthy } else { healthy };
        if streak < needed {
            return None;
        }
        self.active_streak.store(0, Ordering::Relaxed);
        self.active_up.store(passed, Ordering::Relaxed);
        Some(passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_checks_flip_only_after_their_threshold() {
        let st = EndpointState::default();
        assert_eq!(st.record_check(false, 2, 3), None);
        assert_eq!(st.record_check(false, 2, 3), None);
        assert_eq!(st.record_check(false, 2, 3), Some(false));
        assert!(!st.is_healthy(now_ms()));
        assert_eq!(st.record_check(true, 2, 3), None);
        // A failure in between starts the run again.
        assert_eq!(st.record_check(false, 2, 3), None);
        assert_eq!(st.record_check(true, 2, 3), None);
        assert_eq!(st.record_check(true, 2, 3), Some(true));
        assert!(st.is_healthy(now_ms()));
    }
}

/// One request counted as outstanding at an endpoint until dropped (the
/// load power of two choices compares).
#[derive(Debug)]
pub(crate) struct Outstanding(Arc<EndpointState>);

impl Outstanding {
    pub(super) fn new(state: Arc<EndpointState>) -> Self {
        state.outstanding.fetch_add(1, Ordering::Relaxed);
        Outstanding(state)
    }
}

impl Drop for Outstanding {
    fn drop(&mut self) {
        self.0.outstanding.fetch_sub(1, Ordering::Relaxed);
    }
}
