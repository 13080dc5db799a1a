//! Phase "forward": pick a healthy endpoint of the route's upstream, send
//! the request on a pooled connection of this worker within the route's
//! response timeout, and retry on another endpoint when the route allows.
//!
//! - On one endpoint: a pooled connection found closed is replaced by a
//!   fresh one; a request written on a *reused* connection that then broke
//!   is sent once more on a fresh connection, only when idempotent and
//!   without a body (the keep-alive race; SPEC §3).
//! - On another endpoint (the route's `retry`, within its budget): a
//!   request that was never sent (the endpoint refused or did not accept
//!   the connection), whatever its method; an idempotent request without a
//!   body whose answer's status is in `retry.on_status`. Nothing whose
//!   body was sent, nothing that timed out waiting for its answer.
//!
//! A request without a body that asks for no upgrade goes through the
//! direct exchange (`upstreams/wire.rs`, in this task); any other through
//! hyper's client (and so does one that finds only an idle hyper
//! connection). Both follow the rules above.
//!
//! Every outcome feeds passive outlier detection.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::{Response, StatusCode};
use hyper::body::Incoming;

use crate::metrics;
use crate::routes::Route;
use crate::upstreams::{
    Acquired, Connection, Endpoint, Observed, Outstanding, Picked, RetryPolicy, RetryReason,
    UpstreamFailure, UpstreamPool, Wire, WireBody, is_idempotent, wire_response,
};

use super::ctx::RequestCtx;
use super::upstream_request::Outbound;

/// What the upstream answered, and the connection its body arrives on.
pub(super) enum Exchanged {
    /// Through hyper's client.
    Hyper(Response<Incoming>, Connection),
    /// Through the direct exchange.
    Wire(Response<WireBody>, Connection<Wire>),
}

impl Exchanged {
    /// The upstream's status.
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Exchanged::Hyper(response, _) => response.status(),
            Exchanged::Wire(response, _) => response.status(),
        }
    }

    /// The upstream's response fields.
    pub(super) fn headers(&self) -> &http::HeaderMap {
        match self {
            Exchanged::Hyper(response, _) => response.headers(),
            Exchanged::Wire(response, _) => response.headers(),
        }
    }

    fn track(&mut self, outstanding: Option<Outstanding>) {
        match self {
            Exchanged::Hyper(_, conn) => conn.track(outstanding),
            Exchanged::Wire(_, conn) => conn.track(outstanding),
        }
    }

    /// Give up this answer for another attempt: its connection goes back
    /// to the pool when its body is already complete.
    fn discard(self, pool: &UpstreamPool) {
        match self {
            Exchanged::Hyper(response, conn) => {
                if http_body::Body::is_end_stream(response.body()) {
                    pool.checkin(conn);
                }
            }
            Exchanged::Wire(response, mut conn) => {
                if conn.reusable_after(response.body()) {
                    pool.checkin_wire(conn);
                }
            }
        }
    }
}

/// A failed attempt, and whether the request (or part of it) was sent.
type Failed = (UpstreamFailure, bool);

/// Send `out` to a healthy endpoint of `pool`; the failure of the last
/// attempt otherwise.
pub(super) async fn forward(
    ctx: &mut RequestCtx<'_>,
    route: &Route,
    pool: &UpstreamPool,
    mut out: Outbound,
) -> Result<Exchanged, UpstreamFailure> {
    let retry = route.retry.as_ref();
    if let Some(policy) = retry {
        policy.record_request();
    }
    let mut tried: Vec<SocketAddr> = Vec::new();
    let mut endpoint = match pool.pick(&tried) {
        Picked::Endpoint(ep) => ep,
        other => return Err(unavailable(pool, &other)),
    };
    loop {
        ctx.log.upstream = Some(endpoint.addr);
        endpoint.count_request();
        let outstanding = pool.outstanding(&endpoint);
        // Made in place: a named future moved into the timeout would keep
        // a second slot of its size in this one (rust-lang/rust#62958).
        let result = tokio::time::timeout(
            route.response_timeout,
            exchange(ctx.worker, ctx.client_ip(), pool, &endpoint, &mut out),
        )
        .await
        .unwrap_or(Err((UpstreamFailure::ResponseTimeout, true)));
        match result {
            Ok(mut exchanged) => {
                let status = exchanged.status();
                pool.observe(
                    &endpoint,
                    if status.is_server_error() {
                        Observed::ServerError
                    } else {
                        Observed::Success
                    },
                );
                let again = retry
                    .filter(|p| p.retries_status(status, &out.method, out.replayable_body))
                    .and_then(|p| {
                        tried.push(endpoint.addr);
                        another(pool, p, &tried, RetryReason::Status)
                    });
                match again {
                    Some(next) => {
                        tracing::debug!(upstream = pool.name(), endpoint = %endpoint.addr, status = status.as_u16(), "retrying on another endpoint");
                        exchanged.discard(pool);
                        endpoint = next;
                    }
                    None => {
                        exchanged.track(outstanding);
                        return Ok(exchanged);
                    }
                }
            }
            Err((failure, sent)) => {
                if !failure.is_upstream_fault() {
                    return Err(failure);
                }
                metrics::upstream_error(pool.name(), failure.kind());
                pool.observe(
                    &endpoint,
                    if failure.is_connect() {
                        Observed::ConnectFailure
                    } else {
                        Observed::ServerError
                    },
                );
                tried.push(endpoint.addr);
                let again = retry
                    .filter(|_| !sent)
                    .and_then(|p| another(pool, p, &tried, RetryReason::Connect));
                match again {
                    Some(next) => endpoint = next,
                    None => {
                        tracing::warn!(upstream = pool.name(), endpoint = %endpoint.addr, kind = failure.kind(), "upstream request failed");
                        return Err(failure);
                    }
                }
            }
        }
    }
}

/// The endpoint to retry on: one not tried yet, while the request has
/// retries left and the route's budget allows one.
fn another(
    pool: &UpstreamPool,
    policy: &RetryPolicy,
    tried: &[SocketAddr],
    reason: RetryReason,
) -> Option<Arc<Endpoint>> {
    // `tried` holds the first attempt and every retry.
    if tried.len() > policy.attempts() as usize {
        return None;
    }
    let Picked::Endpoint(next) = pool.pick(tried) else {
        return None;
    };
    policy.try_retry(reason).then_some(next)
}

/// Why no endpoint could be picked, counted.
fn unavailable(pool: &UpstreamPool, picked: &Picked) -> UpstreamFailure {
    let failure = match picked {
        Picked::Empty => UpstreamFailure::NoEndpoint,
        _ => UpstreamFailure::NoHealthyEndpoint,
    };
    metrics::upstream_error(pool.name(), failure.kind());
    failure
}

/// One attempt on one endpoint: a place in the client's share of its
/// connections when the upstream sets one, a pooled or new connection, then the
/// exchange (once more on a fresh connection when a pooled one turns out
/// closed under it, as the module says).
async fn exchange(
    worker: usize,
    client: IpAddr,
    pool: &UpstreamPool,
    endpoint: &Endpoint,
    out: &mut Outbound,
) -> Result<Exchanged, Failed> {
    // The client's share first (`max_connections_per_client`): a request
    // waiting for it holds no place under the endpoint's cap. Boxed, like
    // the handshakes: this future is part of every request's, and most
    // upstreams set no share.
    let share = match pool.shares_clients() {
        true => Box::pin(pool.share(worker, endpoint.addr, client)).await,
        false => None,
    };
    if out.direct {
        let (acquired, reused) = pool
            .acquire_wire(worker, endpoint.addr)
            .await
            .map_err(|f| (f, false))?;
        return match acquired {
            Acquired::Wire(mut conn) => {
                conn.hold(share);
                send_wire(pool, endpoint, out, conn, !reused).await
            }
            Acquired::Hyper(mut conn) => {
                conn.hold(share);
                send_hyper(pool, endpoint, out, conn, !reused).await
            }
        };
    }
    let (mut conn, reused) = pool
        .acquire(worker, endpoint.addr, out.upgrade)
        .await
        .map_err(|f| (f, false))?;
    conn.hold(share);
    send_hyper(pool, endpoint, out, conn, !reused).await
}

/// The exchange through hyper's client on `conn` (`fresh`: new, not
/// reused).
async fn send_hyper(
    pool: &UpstreamPool,
    endpoint: &Endpoint,
    out: &mut Outbound,
    mut conn: Connection,
    mut fresh: bool,
) -> Result<Exchanged, Failed> {
    if conn.ready().await.is_err() {
        // Closed while idle: nothing was sent on it.
        conn = reconnect(pool, endpoint, conn).await?;
        fresh = true;
    }
    loop {
        let request = out.request(out.replayable_body);
        match conn.try_send_request(request).await {
            Ok(response) => return Ok(Exchanged::Hyper(response, conn)),
            Err(mut e) => {
                tracing::debug!(upstream = pool.name(), endpoint = %endpoint.addr, error = %e.error(), "upstream exchange failed");
                if let Some(request) = e.take_message() {
                    // Never written: it may go out again unchanged.
                    out.restore(request);
                    if fresh {
                        return Err((UpstreamFailure::Protocol, false));
                    }
                } else if fresh || !(out.replayable_body && is_idempotent(&out.method)) {
                    return Err((UpstreamFailure::exchange(out.fault.get()), true));
                }
                conn = reconnect(pool, endpoint, conn).await?;
                fresh = true;
            }
        }
    }
}

/// The direct exchange on `conn` (`fresh`: new, not reused) for a request
/// without a body: once more on a fresh connection when a reused one
/// fails under an idempotent request (the keep-alive race).
async fn send_wire(
    pool: &UpstreamPool,
    endpoint: &Endpoint,
    out: &Outbound,
    mut conn: Connection<Wire>,
    mut fresh: bool,
) -> Result<Exchanged, Failed> {
    let (method, target, headers) = out.head();
    loop {
        match conn.wire().exchange(method, target, headers).await {
            Ok(head) => return Ok(Exchanged::Wire(wire_response(head), conn)),
            Err(e) => {
                tracing::debug!(upstream = pool.name(), endpoint = %endpoint.addr, error = %e, "upstream exchange failed");
                if fresh || !is_idempotent(method) {
                    return Err((UpstreamFailure::Protocol, true));
                }
            }
        }
        conn = pool
            .reconnect_wire(endpoint.addr, conn)
            .await
            .map_err(|f| (f, false))?;
        fresh = true;
    }
}

/// A fresh connection to `endpoint` in place of `conn`, ready for a request.
async fn reconnect(
    pool: &UpstreamPool,
    endpoint: &Endpoint,
    conn: Connection,
) -> Result<Connection, Failed> {
    let mut conn = pool
        .reconnect(endpoint.addr, conn)
        .await
        .map_err(|f| (f, false))?;
    conn.ready()
        .await
        .map_err(|_| (UpstreamFailure::Protocol, false))?;
    Ok(conn)
}
