//! Active health checks: every `interval`, each endpoint of an upstream
//! gets `GET <path>` on a fresh connection (`Connection: close`, `Host` its
//! configured `host:port`); a `2xx` or `3xx` head within `timeout` passes,
//! anything else fails. `unhealthy_threshold` failures in a row take the
//! endpoint out, `healthy_threshold` passes in a row bring it back.
//! Endpoints start healthy, so a fresh gateway serves at once.
//!
//! The checker holds its pool weakly: when a reload drops the pool (the
//! upstream was removed or changed), the checker stops at its next tick.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http::{Request, header};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::time::MissedTickBehavior;

use crate::config::HealthCheck;
use crate::metrics::HEALTH_CHECKS;

use super::UpstreamPool;
use super::endpoint::Endpoint;

/// Start checking `pool`'s endpoints, when it has active checks.
pub(super) fn spawn(pool: &Arc<UpstreamPool>) {
    let Some(check) = pool.config.health_check.clone() else {
        return;
    };
    for result in ["pass", "fail"] {
        metrics::counter!(HEALTH_CHECKS, "upstream" => pool.name().to_string(), "result" => result)
            .increment(0);
    }
    let weak: Weak<UpstreamPool> = Arc::downgrade(pool);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(check.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let (name, endpoints) = match weak.upgrade() {
                Some(pool) => (pool.name().to_string(), pool.endpoints()),
                None => return,
            };
            let mut round = tokio::task::JoinSet::new();
            for ep in endpoints {
                let check = check.clone();
                round.spawn(async move {
                    let passed = probe(ep.addr, &ep.configured_authority, &check).await;
                    (ep, passed)
                });
            }
            while let Some(Ok((ep, passed))) = round.join_next().await {
                record(&name, &ep, passed, &check);
            }
        }
    });
}

/// Apply one check's result to `ep`.
fn record(upstream: &str, ep: &Endpoint, passed: bool, check: &HealthCheck) {
    let result = if passed { "pass" } else { "fail" };
    metrics::counter!(HEALTH_CHECKS, "upstream" => upstream.to_string(), "result" => result)
        .increment(1);
    match ep
        .state
        .record_check(passed, check.healthy_threshold, check.unhealthy_threshold)
    {
        Some(true) => {
            tracing::info!(upstream, endpoint = %ep.addr, "endpoint passes its health checks again; back in rotation");
        }
        Some(false) => {
            tracing::warn!(upstream, endpoint = %ep.addr, path = %check.path, "endpoint failed its health checks; out of rotation");
        }
        None => {}
    }
}

/// One check of the endpoint at `addr`: whether it answered `2xx`/`3xx`
/// in time.
async fn probe(addr: SocketAddr, authority: &str, check: &HealthCheck) -> bool {
    let attempt = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
                .await
                .ok()?;
        let request = Request::get(check.path.as_str())
            .header(header::HOST, authority)
            .header(header::CONNECTION, "close")
            .header(header::USER_AGENT, "gateway-health-check")
            .body(Empty::new())
            .ok()?;
        // The connection ends by itself after the answer (`close`); it is
        // cut when the check is over (or timed out) in any case.
        let _driver = AbortOnDrop(tokio::spawn(conn).abort_handle());
        sender.send_request(request).await.ok().map(|r| r.status())
    };
    matches!(
        tokio::time::timeout(check.timeout, attempt).await,
        Ok(Some(status)) if status.is_success() || status.is_redirection()
    )
}

/// Stops a spawned task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
