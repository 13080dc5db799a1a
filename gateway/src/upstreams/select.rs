//! Endpoint selection: round robin over the endpoints that are healthy,
//! avoiding the one a retry just failed on; when none is healthy, round
//! robin over all (an upstream coming back must be found again).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::endpoint::Endpoint;

/// The round-robin cursor of one upstream.
#[derive(Debug, Default)]
pub(super) struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    /// The endpoint for the next request among `endpoints`.
    pub(super) fn pick(
        &self,
        endpoints: &[Arc<Endpoint>],
        avoid: Option<&Endpoint>,
        is_healthy: impl Fn(&Endpoint) -> bool,
    ) -> Option<Arc<Endpoint>> {
        let n = endpoints.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            let ep = &endpoints[(start + i) % n];
            let avoided = avoid.is_some_and(|a| a.addr == ep.addr) && n > 1;
            if !avoided && is_healthy(ep) {
                return Some(Arc::clone(ep));
            }
        }
        Some(Arc::clone(&endpoints[start % n]))
    }
}
