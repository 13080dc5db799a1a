//! Passive outlier detection: a run of connect failures or 5xx answers
//! ejects an endpoint for a growing time, never the last healthy one nor
//! beyond `max_ejected_percent` (the marks live in [`EndpointState`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::config::Outlier;

use super::endpoint::Endpoint;
use super::health::{EndpointState, now_ms};

/// What an exchange with an endpoint showed, for passive detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Observed {
    /// An answer below 500.
    Success,
    /// The connection could not be opened (refused, unreachable, timed out).
    ConnectFailure,
    /// A 5xx answer, a broken exchange or a response timeout.
    ServerError,
}

/// Passive outlier detection of one upstream.
#[derive(Debug)]
pub(super) struct OutlierDetector {
    /// `None` when nothing ejects.
    config: Option<Outlier>,
}

impl OutlierDetector {
    pub(super) fn new(config: &Outlier) -> Self {
        OutlierDetector {
            config: config.is_on().then(|| config.clone()),
        }
    }

    /// Record what an exchange with `ep` showed; `true` when a run just
    /// reached its threshold (then [`eject`](Self::eject) decides). Does
    /// nothing when detection is off.
    pub(super) fn record(&self, ep: &Endpoint, seen: Observed) -> bool {
        let Some(config) = &self.config else {
            return false;
        };
        let st = &ep.state;
        let (counter, threshold) = match seen {
            Observed::Success => {
                // Read first: the usual case writes nothing.
                if st.connect_failures.load(Ordering::Relaxed) != 0 {
                    st.connect_failures.store(0, Ordering::Relaxed);
                }
                if st.failures_5xx.load(Ordering::Relaxed) != 0 {
                    st.failures_5xx.store(0, Ordering::Relaxed);
                }
                self.forgive(st, config);
                return false;
            }
            Observed::ConnectFailure => (&st.connect_failures, config.consecutive_connect_failures),
            Observed::ServerError => {
                st.connect_failures.store(0, Ordering::Relaxed);
                (&st.failures_5xx, config.consecutive_5xx)
            }
        };
        threshold > 0 && counter.fetch_add(1, Ordering::Relaxed) + 1 >= threshold
    }

    /// Eject `ep` unless it is out already or the limits forbid it (judged
    /// against `all`, the upstream's endpoints); whether it was ejected.
    pub(super) fn eject(&self, ep: &Endpoint, all: &[Arc<Endpoint>]) -> bool {
        let Some(config) = &self.config else {
            return false;
        };
        let st = &ep.state;
        let now = now_ms();
        if st.is_ejected(now) || !may_eject(ep, all, config, now) {
            return false;
        }
        st.connect_failures.store(0, Ordering::Relaxed);
        st.failures_5xx.store(0, Ordering::Relaxed);
        let n = st
            .ejections
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let length = ejection_length(config, n);
        st.ejected_until_ms.store(
            now.saturating_add(u64::try_from(length.as_millis()).unwrap_or(u64::MAX)),
            Ordering::Relaxed,
        );
        true
    }

    /// After an endpoint has served as long as its last ejection lasted,
    /// its next ejection starts again from `base_ejection`.
    fn forgive(&self, st: &EndpointState, config: &Outlier) {
        let n = st.ejections.load(Ordering::Relaxed);
        if n == 0 {
            return;
        }
        let until = st.ejected_until_ms.load(Ordering::Relaxed);
        let length = u64::try_from(ejection_length(config, n).as_millis()).unwrap_or(u64::MAX);
        if now_ms() >= until.saturating_add(length) {
            st.ejections.store(0, Ordering::Relaxed);
        }
    }
}

/// How long the `n`-th ejection in a row lasts.
fn ejection_length(config: &Outlier, n: u32) -> Duration {
    config
        .base_ejection
        .saturating_mul(n.max(1))
        .min(config.max_ejection)
}

/// Whether `ep` may be ejected now: another endpoint stays healthy, and
/// the ejected ones stay within the percentage (one may always be).
fn may_eject(ep: &Endpoint, all: &[Arc<Endpoint>], config: &Outlier, now: u64) -> bool {
    let others_healthy = all
        .iter()
        .filter(|o| o.addr != ep.addr)
        .any(|o| o.state.is_healthy(now));
    if !others_healthy {
        return false;
    }
    let ejected = all.iter().filter(|o| o.state.is_ejected(now)).count();
    ejected == 0 || (ejected + 1) * 100 <= all.len() * config.max_ejected_percent as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(n: u16) -> Vec<Arc<Endpoint>> {
        (1..=n)
            .map(|port| {
                let url = crate::config::EndpointUrl::parse(&format!("http://127.0.0.1:{port}"))
                    .expect("a valid URL");
                Endpoint::new(
                    "t",
                    std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                    &url,
                    &[],
                )
            })
            .collect()
    }

    fn detector(percent: u32) -> OutlierDetector {
        OutlierDetector::new(&Outlier {
            consecutive_connect_failures: 2,
            consecutive_5xx: 3,
            base_ejection: Duration::from_secs(60),
            max_ejection: Duration::from_secs(600),
            max_ejected_percent: percent,
        })
    }

    #[test]
    fn a_run_of_failures_reaches_its_threshold_and_a_success_resets_it() {
        let d = detector(50);
        let all = endpoints(2);
        assert!(!d.record(&all[0], Observed::ConnectFailure));
        assert!(!d.record(&all[0], Observed::Success));
        assert!(!d.record(&all[0], Observed::ConnectFailure));
        assert!(d.record(&all[0], Observed::ConnectFailure));
        assert!(!d.record(&all[1], Observed::ServerError));
        assert!(!d.record(&all[1], Observed::ServerError));
        assert!(d.record(&all[1], Observed::ServerError));
    }

    #[test]
    fn the_last_healthy_endpoint_is_never_ejected() {
        let d = detector(100);
        let all = endpoints(2);
        assert!(d.eject(&all[0], &all));
        assert!(!all[0].state.is_healthy(now_ms()));
        assert!(!d.eject(&all[1], &all));
        assert!(all[1].state.is_healthy(now_ms()));
    }

    #[test]
    fn ejections_stay_within_the_percentage_but_one_always_may() {
        let all = endpoints(4);
        let d = detector(50);
        assert!(d.eject(&all[0], &all));
        assert!(d.eject(&all[1], &all));
        assert!(!d.eject(&all[2], &all));
        let all = endpoints(4);
        let d = detector(0);
        assert!(d.eject(&all[0], &all));
        assert!(!d.eject(&all[1], &all));
    }

    #[test]
    fn detection_switched_off_records_nothing() {
        let d = OutlierDetector::new(&Outlier {
            consecutive_connect_failures: 0,
            consecutive_5xx: 0,
            base_ejection: Duration::from_secs(5),
            max_ejection: Duration::from_secs(5),
            max_ejected_percent: 50,
        });
        let all = endpoints(2);
        for _ in 0..10 {
            assert!(!d.record(&all[0], Observed::ConnectFailure));
        }
        assert!(!d.eject(&all[0], &all));
    }

    #[test]
    fn ejections_grow_and_stop_at_the_maximum() {
        let config = Outlier {
            consecutive_connect_failures: 1,
            consecutive_5xx: 1,
            base_ejection: Duration::from_secs(5),
            max_ejection: Duration::from_secs(12),
            max_ejected_percent: 50,
        };
        assert_eq!(ejection_length(&config, 1), Duration::from_secs(5));
        assert_eq!(ejection_length(&config, 2), Duration::from_secs(10));
        assert_eq!(ejection_length(&config, 3), Duration::from_secs(12));
    }
}
