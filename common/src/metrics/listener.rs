//! The metrics listener: `GET /metrics` in the Prometheus text format on
//! its own address (`METRICS_LISTEN_ADDR`), which the gateway never routes.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use http::header;
use tokio::net::TcpListener;

use super::Registry;

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A bound metrics listener.
#[derive(Debug)]
pub struct MetricsListener {
    listener: TcpListener,
    registry: Registry,
}

impl MetricsListener {
    /// Bind `addr` (port 0 picks a free port) to serve `registry`.
    pub async fn bind(addr: SocketAddr, registry: Registry) -> std::io::Result<MetricsListener> {
        let listener = TcpListener::bind(addr).await?;
        Ok(MetricsListener { listener, registry })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until `shutdown` resolves, folding histogram samples every
    /// few seconds meanwhile.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let upkeep = self.registry.clone();
        let upkeep = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                upkeep.upkeep();
            }
        });
        let router = Router::new()
            .route("/metrics", get(render))
            .with_state(self.registry);
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        upkeep.abort();
        served
    }
}

async fn render(State(registry): State<Registry>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], registry.render())
}
