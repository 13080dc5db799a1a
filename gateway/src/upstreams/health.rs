//! Passive health: an endpoint that refused or timed out a connection is
//! skipped for the upstream's `failure_cooldown`; a successful exchange
//! clears the mark. There is no active probing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The failure mark of one endpoint.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// When it last failed to connect (ms since the clock's epoch; 0 = never).
    failed_at_ms: AtomicU64,
}

/// How long a failed endpoint is skipped, and the clock marks are read on.
#[derive(Debug)]
pub(super) struct Cooldown {
    epoch: Instant,
    cooldown_ms: u64,
}

impl Cooldown {
    pub(super) fn new(cooldown: Duration) -> Self {
        Cooldown {
            epoch: Instant::now(),
            cooldown_ms: u64::try_from(cooldown.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Now, in ms since the epoch; never 0 (0 means "never failed").
    pub(super) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Whether `health` has not failed within the cooldown, at `now_ms`.
    pub(super) fn is_healthy(&self, health: &Health, now_ms: u64) -> bool {
        let failed = health.failed_at_ms.load(Ordering::Relaxed);
        failed == 0 || now_ms.saturating_sub(failed) >= self.cooldown_ms
    }

    /// Skip the endpoint for the cooldown.
    pub(super) fn mark_failed(&self, health: &Health) {
        health.failed_at_ms.store(self.now_ms(), Ordering::Relaxed);
    }
}

impl Health {
    /// A successful exchange clears the failure mark (read first: the
    /// usual case, a healthy endpoint, then writes nothing).
    pub(super) fn mark_ok(&self) {
        if self.failed_at_ms.load(Ordering::Relaxed) != 0 {
            self.failed_at_ms.store(0, Ordering::Relaxed);
        }
    }
}
