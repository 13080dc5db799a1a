//! `/health` (liveness) and `/ready` (readiness: the database answers and
//! the service is not draining before a stop),
//! documented for OpenAPI, and the probe behind the binaries' `healthcheck`
//! subcommand.

use axum::Json;
use serde::Serialize;

/// Body of a successful health or readiness check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthStatus {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Routes `/health` and `/ready` with their documentation, for any service
/// state that can hand out the database connection.
#[cfg(feature = "db")]
pub fn router<S>() -> utoipa_axum::router::OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    sea_orm::DatabaseConnection: axum::extract::FromRef<S>,
{
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// Liveness: the process is serving requests.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Alive", body = HealthStatus)))]
pub async fn health() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// Readiness: the service is not stopping and the database answers.
#[cfg(feature = "db")]
#[utoipa::path(get, path = "/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "The database is not reachable, or the service is stopping (draining after SIGTERM)"),
    ))]
pub async fn ready(
    axum::extract::State(db): axum::extract::State<sea_orm::DatabaseConnection>,
    draining: Option<axum::Extension<crate::service::Draining>>,
) -> Result<Json<HealthStatus>, crate::Problem> {
    if draining.is_some_and(|d| d.is_draining()) {
        return Err(crate::Problem::unavailable("the service is shutting down"));
    }
    match db.ping().await {
        Ok(()) => Ok(Json(HealthStatus { status: "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(crate::Problem::unavailable("the database is not reachable"))
        }
    }
}

/// The binaries' `healthcheck` subcommand (Docker `HEALTHCHECK`, no curl in
/// the images): `Ok` when `GET http://127.0.0.1:{port}/health` answers 200
/// within three seconds, else why not.
pub async fn probe(port: u16) -> Result<(), String> {
    let url = format!("http://127.0.0.1:{port}/health");
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    if response.status() == reqwest::StatusCode::OK {
        Ok(())
    } else {
        Err(format!("unhealthy: {url} answered {}", response.status()))
    }
}
