//! The OpenAPI document (`/openapi.json`) and Swagger UI (`/docs`).
//!
//! Both honour `X-Forwarded-Prefix`: behind the gateway the document's
//! server URL is `/users` and Swagger UI loads `/users/openapi.json`, so
//! "Try it out" reaches the service through the gateway.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use common::forwarded::ForwardedPrefix;
use common::health::HealthStatus;
use common::{FieldError, Problem};
use http::{HeaderValue, header};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, Server};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The document's fixed parts; paths come from the resource routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Users service",
        description = "Accounts, authentication, roles and the JWKS of the shop. \
            Every error is `application/problem+json` (RFC 9457).",
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "auth", description = "Registration, login, token refresh, logout"),
        (name = "me", description = "The signed-in user's own account"),
        (name = "admin", description = "User administration (admins only)"),
        (name = "keys", description = "Public keys that verify access tokens"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /auth/login` (EdDSA-signed JWT).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Liveness: the process is serving requests.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Alive", body = HealthStatus)))]
#[allow(dead_code)] // documents common::health::health
fn health() {}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "The database is not reachable", body = Problem, content_type = "application/problem+json"),
    ))]
#[allow(dead_code)] // documents common::health::ready
fn ready() {}

/// The health endpoints' documentation (they are served by `common`).
pub fn health_paths() -> OpenApiRouter<AppState> {
    #[derive(OpenApi)]
    #[openapi(paths(health, ready))]
    struct HealthDoc;
    OpenApiRouter::with_openapi(HealthDoc::openapi())
}

/// `/openapi.json` and Swagger UI under `/docs`.
pub fn docs_router(api: OpenApiDoc) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_redirect))
        .route("/docs/", get(swagger_index))
        .route("/docs/{*file}", get(swagger_file))
        .with_state(Arc::new(api))
}

/// The document, its server URL set to the forwarded prefix.
async fn openapi_json(
    State(api): State<Arc<OpenApiDoc>>,
    prefix: ForwardedPrefix,
) -> axum::Json<OpenApiDoc> {
    let mut api = (*api).clone();
    let url = if prefix.0.is_empty() {
        "/".to_string()
    } else {
        prefix.0.clone()
    };
    api.servers = Some(vec![Server::new(url)]);
    axum::Json(api)
}

async fn docs_redirect(prefix: ForwardedPrefix) -> Redirect {
    Redirect::permanent(&prefix.link("/docs/"))
}

async fn swagger_index(prefix: ForwardedPrefix) -> Response {
    swagger(prefix, "")
}

async fn swagger_file(prefix: ForwardedPrefix, Path(file): Path<String>) -> Response {
    swagger(prefix, &file)
}

fn swagger(prefix: ForwardedPrefix, file: &str) -> Response {
    let config = utoipa_swagger_ui::Config::from(prefix.link("/openapi.json"))
        .try_it_out_enabled(true)
        .persist_authorization(true);
    match utoipa_swagger_ui::serve(file, Arc::new(config)) {
        Ok(Some(found)) => {
            let mut response = (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(&found.content_type)
                        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                )],
                found.bytes.into_owned(),
            )
                .into_response();
            if found.gzpipped {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => Problem::not_found("no such documentation file").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "serving Swagger UI");
            (StatusCode::INTERNAL_SERVER_ERROR, Problem::internal()).into_response()
        }
    }
}
