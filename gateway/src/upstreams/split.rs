//! A route's `split`: its requests shared over several upstreams by
//! weight (a canary taking 5 %). The turns follow a weighted round-robin
//! schedule, so 95/5 is exactly 19 requests in 20 to one upstream and 1 to
//! the other, interleaved, with no randomness to wait out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use metrics::Counter;

use crate::config::SplitTarget;
use crate::metrics::SPLIT_REQUESTS;

use super::select::weighted_schedule;

/// The upstreams of one split route.
#[derive(Debug)]
pub(crate) struct Split {
    upstreams: Vec<(Arc<str>, Counter)>,
    schedule: Vec<u32>,
    cursor: AtomicUsize,
}

impl Split {
    /// The split of route `route`; `None` when it names one upstream.
    pub(crate) fn new(route: &str, targets: &[SplitTarget]) -> Option<Self> {
        if targets.is_empty() {
            return None;
        }
        let weights: Vec<u32> = targets.iter().map(|t| t.weight).collect();
        let upstreams = targets
            .iter()
            .map(|t| {
                let counter = metrics::counter!(SPLIT_REQUESTS, "route" => route.to_string(), "upstream" => t.upstream.clone());
                counter.increment(0);
                (Arc::from(t.upstream.as_str()), counter)
            })
            .collect();
        Some(Split {
            upstreams,
            schedule: weighted_schedule(&weights),
            cursor: AtomicUsize::new(0),
        })
    }

    /// The upstream for the next request.
    pub(crate) fn pick(&self) -> &str {
        let turn = self.cursor.fetch_add(1, Ordering::Relaxed);
        let i = self
            .schedule
            .get(turn % self.schedule.len().max(1))
            .map_or(0, |&i| i as usize);
        let (name, counter) = &self.upstreams[i];
        counter.increment(1);
        name
    }
}
