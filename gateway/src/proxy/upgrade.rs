//! WebSocket and other HTTP/1.1 `Upgrade` requests, passed through both
//! ways on a route with `upgrades = true` (elsewhere the request goes
//! upstream as a plain one, without `Upgrade`, as NGINX sends it without
//! `proxy_set_header Upgrade`): the client's `Upgrade` and `Connection: upgrade` reach the
//! upstream; an upstream answering `101 Switching Protocols` gets its
//! `101` passed back, and once both sides have switched the two
//! connections are joined byte for byte ([`tunnel`]) until one side
//! closes, nothing moves either way for `timeouts.upgrade_idle`, or the
//! shutdown's grace period ends.
//!
//! An upstream that does not switch answers as it likes (its response
//! passes as any other and the client's connection stays HTTP). HTTP/2
//! clients cannot ask (RFC 9113 forbids `Upgrade`; extended CONNECT is not
//! offered), nor can HTTP/1.0 ones, and `h2c` is never passed on
//! ([`crate::headers::upgrade_protocol`]). The upstream connection leaves
//! its pool but keeps its place: a tunnel counts against
//! `max_connections_per_endpoint` until it closes (requests beyond the cap
//! wait in line, as they do for busy connections).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use common::Problem;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode, Version};
use hyper::body::Incoming;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use crate::headers;
use crate::stop::DrainGuard;
use crate::upstreams::Connection;

use super::{ClientConn, ResponseBody};

/// The shortest idle check interval.
const MIN_TICK: Duration = Duration::from_millis(10);

/// A request's wish to switch protocols, and the client's side of the
/// switch (ready once hyper has sent the `101`).
pub(super) struct Upgrade {
    protocol: HeaderValue,
    client: OnUpgrade,
}

impl Upgrade {
    /// The protocol asked for (`Upgrade` value), for the upstream request.
    pub(super) fn protocol(&self) -> &HeaderValue {
        &self.protocol
    }
}

/// The upgrade `parts` ask for, taken out of them: HTTP/1.1 with
/// `Connection: upgrade` and an `Upgrade` other than `h2c`.
pub(super) fn requested(parts: &mut http::request::Parts) -> Option<Upgrade> {
    // hyper leaves an `OnUpgrade` only on requests that ask (a look at
    // an empty extension map: the usual request pays no header lookup).
    if parts.version != Version::HTTP_11 || parts.extensions.get::<OnUpgrade>().is_none() {
        return None;
    }
    let protocol = headers::upgrade_protocol(&parts.headers)?;
    let client = parts.extensions.remove::<OnUpgrade>()?;
    Some(Upgrade { protocol, client })
}

/// The upstream answered `101`: pass it to the client and join both
/// connections once switched (on a task of their own, counted by the
/// worker's drain so the shutdown waits for it within its grace period). A `101` to a
/// request that did not ask is refused with `502`.
pub(super) fn switch(
    upgrade: Option<Upgrade>,
    mut response: Response<Incoming>,
    mut conn: Connection,
    idle: Duration,
    client_conn: &Arc<ClientConn>,
) -> Result<Response<ResponseBody>, Problem> {
    let Some(upgrade) = upgrade else {
        return Err(unasked());
    };
    let upstream = hyper::upgrade::on(&mut response);
    let (mut parts, _) = response.into_parts();
    let protocol = parts
        .headers
        .get(header::UPGRADE)
        .cloned()
        .unwrap_or_else(|| upgrade.protocol.clone());
    headers::strip_hop_by_hop(&mut parts.headers);
    headers::set_upgrade(&mut parts.headers, protocol);
    parts.version = Version::HTTP_11;
    let guard = client_conn.drain.guard();
    // A tunnel is not a request in progress (what the balancer compares),
    // but it keeps its place under `max_connections_per_endpoint`.
    conn.track(None);
    // The client's place under `limits.connections_per_client` stays taken.
    let client_conn = Arc::clone(client_conn);
    tokio::spawn(async move {
        let (client, upstream) = tokio::join!(upgrade.client, upstream);
        match (client, upstream) {
            (Ok(client), Ok(upstream)) => tunnel(client, upstream, idle, guard).await,
            (client, upstream) => tracing::debug!(
                client = ?client.err(),
                upstream = ?upstream.err(),
                "an upgrade did not complete"
            ),
        }
        // The tunnel is over (or never opened): its place under the
        // endpoint's cap is free again (dropped with the task too, when
        // the shutdown's grace period ends).
        drop(conn);
        drop(client_conn);
    });
    Ok(Response::from_parts(
        parts,
        ResponseBody::fixed(Bytes::new()),
    ))
}

/// The refusal of a `101` to a request that did not ask for an upgrade.
pub(super) fn unasked() -> Problem {
    Problem::new(
        StatusCode::BAD_GATEWAY,
        "the upstream switched protocols unasked",
    )
}

/// An upgraded connection, counted open until dropped: when its task is
/// dropped unfinished (the grace period ended), it counts as `shutdown`.
struct Open {
    reason: &'static str,
    _drain: DrainGuard,
}

impl Drop for Open {
    fn drop(&mut self) {
        crate::metrics::upgrade_closed(self.reason);
    }
}

/// Copy bytes both ways between `client` and `upstream` until one side
/// closes (its half-close is passed on), an error, or `idle` with nothing
/// moving.
async fn tunnel(client: Upgraded, upstream: Upgraded, idle: Duration, drain: DrainGuard) {
    crate::metrics::upgrade_opened();
    let mut open = Open {
        reason: "shutdown",
        _drain: drain,
    };
    let activity = AtomicU64::new(0);
    let mut client = Counted {
        io: TokioIo::new(client),
        activity: &activity,
    };
    let mut upstream = Counted {
        io: TokioIo::new(upstream),
        activity: &activity,
    };
    open.reason = tokio::select! {
        copied = tokio::io::copy_bidirectional(&mut client, &mut upstream) => match copied {
            Ok(_) => "closed",
            Err(e) => {
                tracing::debug!(error = %e, "upgraded connection ended with an error");
                "error"
            }
        },
        () = idle_for(&activity, idle) => "idle_timeout",
    };
}

/// Resolves once `activity` has not changed for `idle` (checked every
/// quarter of it).
async fn idle_for(activity: &AtomicU64, idle: Duration) {
    let tick = (idle / 4).max(MIN_TICK);
    let mut last = activity.load(Ordering::Relaxed);
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(tick).await;
        let now = activity.load(Ordering::Relaxed);
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= idle {
            return;
        }
    }
}

/// One side of a tunnel, counting the reads that brought bytes.
struct Counted<'a, T> {
    io: T,
    activity: &'a AtomicU64,
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<'_, T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<'_, T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
