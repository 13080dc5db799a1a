//! `/openapi.json` (server URL = the forwarded prefix, so "Try it out" works
//! through the gateway) and Swagger UI under `/docs/` with vendored assets.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use common::Problem;
use common::forwarded::ForwardedPrefix;
use http::header;
use utoipa::openapi::OpenApi;
use utoipa::openapi::server::Server;

#[derive(Clone)]
struct Docs {
    openapi: Arc<OpenApi>,
    ui: Arc<utoipa_swagger_ui::Config<'static>>,
}

/// Routes `/openapi.json`, `/docs` (redirect) and `/docs/...`.
pub fn router(openapi: OpenApi) -> Router {
    // Relative, so the UI finds the document under any prefix
    // (`/products/docs/` -> `/products/openapi.json`).
    let ui = utoipa_swagger_ui::Config::from("../openapi.json");
    let docs = Docs {
        openapi: Arc::new(openapi),
        ui: Arc::new(ui),
    };
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_redirect))
        .route("/docs/", get(swagger_index))
        .route("/docs/{*file}", get(swagger_file))
        .with_state(docs)
}

async fn openapi_json(State(docs): State<Docs>, prefix: ForwardedPrefix) -> Response {
    let mut openapi = (*docs.openapi).clone();
    let url = if prefix.0.is_empty() {
        "/".to_string()
    } else {
        prefix.0.clone()
    };
    openapi.servers = Some(vec![Server::new(url)]);
    axum::Json(openapi).into_response()
}

async fn docs_redirect(prefix: ForwardedPrefix) -> Redirect {
    Redirect::permanent(&prefix.link("/docs/"))
}

async fn swagger_index(State(docs): State<Docs>) -> Response {
    serve_file("", &docs)
}

async fn swagger_file(State(docs): State<Docs>, Path(file): Path<String>) -> Response {
    serve_file(&file, &docs)
}

fn serve_file(file: &str, docs: &Docs) -> Response {
    match utoipa_swagger_ui::serve(file, docs.ui.clone()) {
        Ok(Some(found)) => {
            let mut response = (
                [(header::CONTENT_TYPE, found.content_type)],
                found.bytes.into_owned(),
            )
                .into_response();
            if found.gzpipped {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    http::HeaderValue::from_static("gzip"),
                );
            }
            response
        }
        Ok(None) => Problem::not_found("no such documentation file").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render Swagger UI");
            Problem::internal().into_response()
        }
    }
}
