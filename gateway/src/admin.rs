//! The admin listener (never published): `/healthz`, `/readyz`,
//! `/metrics` and `/config`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::body::ResponseBody;
use crate::state::Shared;
use common::Problem;

/// Serve the admin endpoints until `stop` flips.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = crate::stopped(&mut stop) => return,
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
                async move { Ok::<_, Infallible>(route(&shared, &req)) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10));
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                () = crate::stopped(&mut stop) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
}

fn route(shared: &Shared, req: &Request<Incoming>) -> Response<ResponseBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return problem(Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "the admin endpoints answer GET only",
        ));
    }
    match req.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n", "text/plain; charset=utf-8"),
        "/readyz" => {
            if shared.draining.load(Ordering::Relaxed) {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "draining\n",
                    "text/plain; charset=utf-8",
                )
            } else {
                text(StatusCode::OK, "ready\n", "text/plain; charset=utf-8")
            }
        }
        "/metrics" => match crate::metrics::install() {
            Some(handle) => text(
                StatusCode::OK,
                handle.render(),
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            None => problem(Problem::unavailable(
                "another metrics recorder is installed in this process",
            )),
        },
        "/config" => {
            let active = shared.active.load();
            // The configuration holds no secrets (credentials in upstream URLs
            // are refused at validation), so it is shown whole.
            let body = serde_json::to_vec_pretty(&*active.config).unwrap_or_default();
            text(StatusCode::OK, body, "application/json")
        }
        other => problem(Problem::not_found(format!(
            "no admin endpoint `{other}` (try /healthz, /readyz, /metrics, /config)"
        ))),
    }
}

fn text(
    status: StatusCode,
    body: impl Into<Bytes>,
    content_type: &'static str,
) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::fixed(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn problem(p: Problem) -> Response<ResponseBody> {
    crate::failure::render(p, &crate::headers::new_request_id(), "")
}
