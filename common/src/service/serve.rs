//! Serving a router with a bounded graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

/// Serve `router` on `listener` until `shutdown` resolves, then let
/// in-flight requests finish for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (fired_tx, fired_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = fired_tx.send(());
    };
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let deadline = async move {
        if fired_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(?grace, "shutdown grace period over; closing remaining connections");
            Ok(())
        }
    }
}

/// [`serve`], with the metrics listener running alongside until the
/// service has finished draining (so the drain itself can be scraped).
pub async fn serve_with_metrics(
    listener: TcpListener,
    router: Router,
    metrics: crate::metrics::listener::MetricsListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = tokio::spawn(metrics.serve(async move {
        let _ = stopped.await;
    }));
    let served = serve(listener, router, shutdown, grace).await;
    let _ = stop.send(());
    match metrics.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics listener failed"),
        Err(e) => tracing::warn!(error = %e, "metrics listener stopped abnormally"),
        Ok(Ok(())) => {}
    }
    served
}
