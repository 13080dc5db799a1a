//! What every axum service shares: the base settings, the request-context
//! middleware (request id, problem rendering, access log) and serving with a
//! bounded graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::config::{LogFormat, Secret, duration};
use crate::db::DbSettings;
use crate::problem::{PROBLEM_JSON, Problem};

/// The request id header.
pub const X_REQUEST_ID: &str = "x-request-id";

/// Development (generated keys, demo data allowed) or production (every
/// secret must be configured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    /// Local runs and tests.
    #[default]
    Development,
    /// Deployed: missing secrets stop start-up.
    Production,
}

/// Settings every service has, by environment variable name.
#[derive(Debug, Clone, Deserialize)]
pub struct BaseConfig {
    /// `LISTEN_ADDR`: where the service listens (default `0.0.0.0:8000`).
    #[serde(default = "default_listen")]
    pub listen_addr: SocketAddr,
    /// `APP_ENV`: `development` (default) or `production`.
    #[serde(default)]
    pub app_env: AppEnv,
    /// `DATA_DIR`: where local files live (SQLite, generated keys); default `./data`.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: `sqlite://...` or `postgres://...`; default a SQLite
    /// file in `DATA_DIR` named after the service.
    #[serde(default)]
    pub database_url: Option<Secret>,
    /// `DATABASE_MAX_CONNECTIONS`: pool size (default 10).
    #[serde(default = "default_max_connections")]
    pub database_max_connections: u32,
    /// `DATABASE_CONNECT_TIMEOUT`: per attempt (default 5s).
    #[serde(default = "default_connect_timeout", deserialize_with = "duration")]
    pub database_connect_timeout: Duration,
    /// `DATABASE_STARTUP_TIMEOUT`: how long start-up keeps retrying an
    /// unreachable database (default 60s).
    #[serde(default = "default_startup_timeout", deserialize_with = "duration")]
    pub database_startup_timeout: Duration,
    /// `LOG_FORMAT`: `pretty` (default) or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// `RUST_LOG`: tracing filter (default `info`).
    #[serde(default = "default_log")]
    pub rust_log: String,
    /// `REQUEST_TIMEOUT`: longest a handler may run (default 30s).
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// `BODY_LIMIT`: largest request body in bytes (default 1 MiB).
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// `SHUTDOWN_GRACE`: how long in-flight requests may finish after
    /// SIGTERM (default 20s).
    #[serde(default = "default_grace", deserialize_with = "duration")]
    pub shutdown_grace: Duration,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8000))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_max_connections() -> u32 {
    10
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_startup_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_log() -> String {
    "info".to_string()
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_body_limit() -> usize {
    1024 * 1024
}
fn default_grace() -> Duration {
    Duration::from_secs(20)
}

impl BaseConfig {
    /// Database settings; `service` names the default SQLite file.
    pub fn db(&self, service: &str) -> DbSettings {
        let url = self.database_url.clone().unwrap_or_else(|| {
            Secret::new(format!("sqlite://{}/{service}.db", self.data_dir.display()))
        });
        DbSettings {
            url,
            max_connections: self.database_max_connections,
            connect_timeout: self.database_connect_timeout,
            startup_timeout: self.database_startup_timeout,
        }
    }
}

/// Wrap a service's routes with the shared layers: 404/405/413/timeout as
/// problems, the body limit, the handler timeout and the request context.
pub fn apply_layers(router: Router, config: &BaseConfig) -> Router {
    router
        .fallback(|| async { Problem::not_found("no such resource") })
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(middleware::from_fn(request_context))
}

/// Whether `id` is an acceptable request id: 1-128 of `A-Z a-z 0-9 . _ -`.
pub fn is_valid_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The request id of the current request (request extension).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Request id in and out, every error as problem+json with that id, one
/// access-log line per request.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(X_REQUEST_ID)
        .map(HeaderValue::as_bytes)
        .filter(|v| is_valid_request_id(v))
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header_value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    req.headers_mut().insert(X_REQUEST_ID, header_value.clone());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let instance = format!(
        "{}{}",
        crate::forwarded::prefix(req.headers()),
        req.uri().path()
    );

    let response = next.run(req).await;
    let mut response = render_problem(response, &id, &instance);
    response.headers_mut().insert(X_REQUEST_ID, header_value);
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %instance,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

fn render_problem(response: Response, id: &str, instance: &str) -> Response {
    let status = response.status();
    let problem = match response.extensions().get::<Problem>() {
        Some(p) => p.clone(),
        None if status.as_u16() >= 400 && !is_problem(&response) => default_problem(status),
        None => return response,
    };
    let problem = problem.with_request_id(id).with_instance(instance);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, Body::from(problem.body())).into_response()
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

fn default_problem(status: StatusCode) -> Problem {
    let detail = match status {
        StatusCode::NOT_FOUND => "no such resource",
        StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed on this resource",
        StatusCode::PAYLOAD_TOO_LARGE => "request body is too large",
        StatusCode::SERVICE_UNAVAILABLE => "the request could not be completed in time",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported content type",
        _ => status.canonical_reason().unwrap_or("error"),
    };
    Problem::new(status, detail)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_checked() {
        assert!(is_valid_request_id(b"abc-123_x.y"));
        assert!(!is_valid_request_id(b""));
        assert!(!is_valid_request_id(b"has space"));
        assert!(!is_valid_request_id(&[b'a'; 129]));
        assert!(is_valid_request_id(&[b'a'; 128]));
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;
    use crate::config::{Sources, load};

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Flattened {
        #[serde(flatten)]
        base: BaseConfig,
    }

    #[test]
    fn base_config_defaults() {
        let c: BaseConfig = load(&Sources::only(Vec::<(String, String)>::new())).expect("defaults");
        assert_eq!(c.listen_addr.port(), 8000);
        assert_eq!(c.app_env, AppEnv::Development);
        assert_eq!(c.body_limit, 1024 * 1024);
        assert!(c.db("users").url.expose().ends_with("data/users.db"));
    }

    #[test]
    fn each_invalid_base_setting_names_its_variable() {
        for (var, value) in [
            ("LISTEN_ADDR", "nowhere"),
            ("APP_ENV", "staging"),
            ("DATABASE_MAX_CONNECTIONS", "many"),
            ("DATABASE_CONNECT_TIMEOUT", "soon"),
            ("DATABASE_STARTUP_TIMEOUT", "-1"),
            ("LOG_FORMAT", "xml"),
            ("REQUEST_TIMEOUT", "forever"),
            ("BODY_LIMIT", "huge"),
            ("SHUTDOWN_GRACE", "later"),
        ] {
            let err = load::<BaseConfig>(&Sources::only([(var, value)])).expect_err(var);
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid configuration: {var}: ")),
                "{var}: {err}"
            );
            let err = load::<Flattened>(&Sources::only([(var, value)])).expect_err(var);
            assert!(err.to_string().contains(var), "flattened {var}: {err}");
        }
    }
}
