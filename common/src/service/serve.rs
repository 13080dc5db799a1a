//! Serving a router with a drain before a bounded graceful shutdown.
//!
//! A replica told to stop must not close keep-alive connections under a
//! proxy that is writing a request on one of them at that instant (the
//! request is lost: a POST cannot be resent). So a stop happens in two
//! steps. First the drain: for [`StopTimes::drain_delay`] the service keeps
//! serving everything, `/ready` answers `503` (probes and balancers stop
//! sending new work) and every HTTP/1 response carries `Connection: close`,
//! so each connection a client uses is closed by that client after its
//! answer, never under a request. Then the graceful shutdown: no new
//! connections, in-flight requests finish within [`StopTimes::grace`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use http::{HeaderValue, Version, header};
use tokio::net::TcpListener;

/// How a service stops after its shutdown signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopTimes {
    /// Serving on while not ready, with `Connection: close`
    /// (`SHUTDOWN_DRAIN_DELAY`; zero skips the drain).
    pub drain_delay: Duration,
    /// In-flight requests' time to finish once the listener is closed
    /// (`SHUTDOWN_GRACE`).
    pub grace: Duration,
}

/// Whether the service is draining: set when the shutdown signal fires.
/// Every request carries it as an extension; `/ready` answers `503` while
/// it is set (see [`crate::health::ready`]).
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Whether the drain has begun.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn begin(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Serve `router` on `listener` until `shutdown` resolves, drain for
/// `times.drain_delay`, then let in-flight requests finish for at most
/// `times.grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    times: StopTimes,
) -> std::io::Result<()> {
    let draining = Draining::default();
    let router = router.layer(middleware::from_fn_with_state(
        draining.clone(),
        mark_draining,
    ));
    let (fired_tx, fired_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        draining.begin();
        if !times.drain_delay.is_zero() {
            tracing::info!(delay = ?times.drain_delay, "draining: not ready, closing each connection after its answer");
            tokio::time::sleep(times.drain_delay).await;
        }
        tracing::info!(grace = ?times.grace, "drain over; no new connections, waiting for in-flight requests");
        let _ = fired_tx.send(());
    };
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let deadline = async move {
        if fired_rx.await.is_ok() {
            tokio::time::sleep(times.grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(grace = ?times.grace, "shutdown grace period over; closing remaining connections");
            Ok(())
        }
    }
}

/// Hand the drain state to handlers and, while draining, close each
/// HTTP/1 connection after its response (HTTP/2 has no `Connection`
/// header; its connections get a GOAWAY at the graceful shutdown).
async fn mark_draining(State(draining): State<Draining>, mut req: Request, next: Next) -> Response {
    let http1 = req.version() <= Version::HTTP_11;
    req.extensions_mut().insert(draining.clone());
    let mut response = next.run(req).await;
    if http1 && draining.is_draining() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// [`serve`], with the metrics listener running alongside until the
/// service has finished draining (so the drain itself can be scraped).
pub async fn serve_with_metrics(
    listener: TcpListener,
    router: Router,
    metrics: crate::metrics::listener::MetricsListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    times: StopTimes,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = tokio::spawn(metrics.serve(async move {
        let _ = stopped.await;
    }));
    let served = serve(listener, router, shutdown, times).await;
    let _ = stop.send(());
    match metrics.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics listener failed"),
        Err(e) => tracing::warn!(error = %e, "metrics listener stopped abnormally"),
        Ok(Ok(())) => {}
    }
    served
}
