//! Phase "forward": pick an endpoint of the route's upstream, send the
//! request on a pooled connection of this worker, within the route's
//! response timeout, and retry at most once when allowed.
//!
//! A request that was never written (the connection could not be opened,
//! or the pooled one turned out to be closed) is sent again, whatever its
//! method, to the next endpoint; one written on a *reused* connection that
//! then broke is sent again only when idempotent and without a body.
//! Nothing that failed on a fresh connection is retried.

use std::sync::Arc;

use http::{Method, Response};
use hyper::body::Incoming;

use crate::metrics;
use crate::routes::Route;
use crate::upstreams::{Connection, Endpoint, UpstreamFailure, UpstreamPool};

use super::ctx::RequestCtx;
use super::upstream_request::Outbound;

/// What the upstream answered, and the connection its body arrives on.
pub(super) type Exchanged = (Response<Incoming>, Connection);

/// Send `out` to an endpoint of `pool`; the failure of the last attempt
/// otherwise.
pub(super) async fn forward(
    ctx: &mut RequestCtx<'_>,
    route: &Route,
    pool: &UpstreamPool,
    mut out: Outbound,
) -> Result<Exchanged, UpstreamFailure> {
    let mut last: Option<Arc<Endpoint>> = None;
    let mut retried = false;
    loop {
        let Some(endpoint) = pool.pick(last.as_deref()) else {
            metrics::upstream_error(pool.name(), UpstreamFailure::NoEndpoint.kind());
            return Err(UpstreamFailure::NoEndpoint);
        };
        ctx.log.upstream = Some(endpoint.addr);
        let attempt = exchange(ctx.worker, pool, &endpoint, &mut out, !retried);
        let result = tokio::time::timeout(route.response_timeout, attempt)
            .await
            .unwrap_or(Err((UpstreamFailure::ResponseTimeout, false)));
        let (failure, may_retry) = match result {
            Ok(exchanged) => {
                pool.mark_ok(&endpoint);
                return Ok(exchanged);
            }
            Err(failed) => failed,
        };
        if !failure.is_upstream_fault() {
            return Err(failure);
        }
        metrics::upstream_error(pool.name(), failure.kind());
        if failure.is_connect() {
            pool.mark_failed(&endpoint);
        }
        if !may_retry || retried {
            tracing::warn!(upstream = pool.name(), endpoint = %endpoint.addr, kind = failure.kind(), "upstream request failed");
            return Err(failure);
        }
        retried = true;
        last = Some(endpoint);
    }
}

/// One attempt on one endpoint: a pooled or new connection, then the
/// exchange. A failure says whether the request may be tried again: when it
/// was never sent (connect failure, connection found closed), always; when
/// a reused connection broke under it, only if idempotent without a body.
async fn exchange(
    worker: usize,
    pool: &UpstreamPool,
    endpoint: &Endpoint,
    out: &mut Outbound,
    keep_copy: bool,
) -> Result<Exchanged, (UpstreamFailure, bool)> {
    let (mut conn, mut reused) = pool
        .acquire(worker, endpoint.addr)
        .await
        .map_err(|f| (f, true))?;
    if conn.ready().await.is_err() {
        // Closed while idle: nothing was sent on it.
        reused = false;
        conn = pool
            .reconnect(endpoint.addr, conn)
            .await
            .map_err(|f| (f, true))?;
        conn.ready()
            .await
            .map_err(|_| (UpstreamFailure::Protocol, true))?;
    }
    let request = out.request(keep_copy && out.replayable_body);
    match conn.try_send_request(request).await {
        Ok(response) => Ok((response, conn)),
        Err(mut e) => {
            tracing::debug!(upstream = pool.name(), endpoint = %endpoint.addr, error = %e.error(), "upstream exchange failed");
            if let Some(request) = e.take_message() {
                // Never written: the request goes out again unchanged.
                out.restore(request);
                return Err((UpstreamFailure::Protocol, true));
            }
            let may_retry = reused && out.replayable_body && is_idempotent(&out.method);
            Err((UpstreamFailure::exchange(out.fault.get()), may_retry))
        }
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}
