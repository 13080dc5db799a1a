//! The admin listener (never published): a plain HTTP/1.1 server on its
//! own port, serving [`endpoints`]. It outlives the public listener's drain,
//! so `/readyz` can say `503` meanwhile.

mod endpoints;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::state::Shared;
use crate::stop::Stop;

/// Serve the admin endpoints until `stop`.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: Stop) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.stopped() => return,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(endpoints::route(&shared, &req)) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10));
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                () = stop.stopped() => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
}
