//! `/health` (liveness) and `/ready` (readiness: the database answers).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::problem::Problem;

/// Body of a successful health or readiness check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthStatus {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Routes `/health` and `/ready` for a service backed by `db`.
pub fn router<S: Clone + Send + Sync + 'static>(db: DatabaseConnection) -> Router<S> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(db)
}

/// Liveness: the process is serving requests.
pub async fn health() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// Readiness: the database answers a ping.
pub async fn ready(State(db): State<DatabaseConnection>) -> Result<Json<HealthStatus>, Problem> {
    match db.ping().await {
        Ok(()) => Ok(Json(HealthStatus { status: "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(Problem::unavailable("the database is not reachable"))
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
