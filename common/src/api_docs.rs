//! The services' OpenAPI plumbing: the document at `/openapi.json`, Swagger
//! UI under `/docs/` (vendored assets, nothing fetched at build or run
//! time), the `bearer` security scheme, and problem+json for every error
//! response.
//!
//! Both routes honour `X-Forwarded-Prefix`: behind the gateway the
//! document's server URL is `/users` and Swagger UI loads
//! `/users/openapi.json`, so "Try it out" reaches the service through the
//! gateway. Without the header the UI loads the document relative to itself
//! (`../openapi.json`), which works under any prefix.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::{HeaderValue, header};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Server};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::forwarded::ForwardedPrefix;
use crate::problem::{FieldError, PROBLEM_JSON, Problem};

/// Routes `/openapi.json`, `/docs` (redirect to `/docs/`) and `/docs/...`
/// (Swagger UI) for the document `api`, complete with its paths (from
/// `OpenApiRouter::split_for_parts`); its error responses get their
/// problem+json bodies here ([`ProblemResponses`]).
pub fn docs_router(mut api: OpenApi) -> Router {
    ProblemResponses.modify(&mut api);
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs_redirect))
        .route("/docs/", get(swagger_index))
        .route("/docs/{*file}", get(swagger_file))
        .with_state(Arc::new(api))
}

/// The document, its server URL set to the forwarded prefix.
async fn openapi_json(
    State(api): State<Arc<OpenApi>>,
    prefix: ForwardedPrefix,
) -> axum::Json<OpenApi> {
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
    swagger(&prefix, "")
}

async fn swagger_file(prefix: ForwardedPrefix, Path(file): Path<String>) -> Response {
    swagger(&prefix, &file)
}

/// One Swagger UI file; its initializer points at the document as the
/// client must request it.
fn swagger(prefix: &ForwardedPrefix, file: &str) -> Response {
    let document = if prefix.0.is_empty() {
        "../openapi.json".to_string()
    } else {
        prefix.link("/openapi.json")
    };
    let config = utoipa_swagger_ui::Config::from(document)
        .try_it_out_enabled(true)
        .persist_authorization(true);
    match utoipa_swagger_ui::serve(file, Arc::new(config)) {
        Ok(Some(found)) => {
            let content_type = HeaderValue::from_str(&found.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            let mut response = (
                [(header::CONTENT_TYPE, content_type)],
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
            Problem::internal().into_response()
        }
    }
}

/// Declares the `bearer` security scheme (an access token from the users
/// service) that handlers name with `security(("bearer" = []))`.
#[derive(Debug, Clone, Copy)]
pub struct BearerAuth {
    /// Where a client gets a token, as this service's readers see it.
    pub description: &'static str,
}

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(self.description))
                    .build(),
            ),
        );
    }
}

/// Every error is `application/problem+json` (RFC 9457): this modifier
/// declares the `Problem` and `FieldError` schemas and gives every 4xx/5xx
/// response that has no body of its own a problem+json body, so handlers
/// document an error with its status and meaning only:
/// `(status = 404, description = "No such product")`.
///
/// [`docs_router`] applies it to the finished document: an `OpenApi`
/// derive's `modifiers(...)` run before the routers add their paths.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .schemas
            .entry(Problem::name().into_owned())
            .or_insert_with(Problem::schema);
        components
            .schemas
            .entry(FieldError::name().into_owned())
            .or_insert_with(FieldError::schema);
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
                &mut item.query,
            ];
            let extra = item.additional_operations.values_mut();
            for operation in operations.into_iter().flatten().chain(extra) {
                if operation.request_body.is_some() {
                    document_body_refusals(&mut operation.responses);
                }
                for (status, response) in &mut operation.responses.responses {
                    let is_error = status.starts_with('4') || status.starts_with('5');
                    if let (true, RefOr::T(response)) = (is_error, response)
                        && response.content.is_empty()
                    {
                        response.content.insert(
                            PROBLEM_JSON.to_string(),
                            RefOr::T(Content::new(Some(Ref::from_schema_name(Problem::name())))),
                        );
                    }
                }
            }
        }
    }
}

/// Every operation that reads a body answers `400` when the body is not
/// well-formed and `415` when its `Content-Type` is not one it reads (the
/// strict extractors in [`crate::extract`] do, before any handler runs), so
/// the document says so for each of them instead of every handler repeating
/// it. A handler that documents either status keeps its own description.
fn document_body_refusals(responses: &mut utoipa::openapi::Responses) {
    for (status, description) in [
        (
            "400",
            "The body is not well-formed (for example malformed JSON)",
        ),
        (
            "415",
            "The body's `Content-Type` is not one this operation reads",
        ),
    ] {
        responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(utoipa::openapi::Response::new(description)));
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    use super::*;

    /// Documents `GET /thing`: found, or one of two problems.
    #[utoipa::path(get, path = "/thing", responses(
        (status = 200, description = "Found", body = String),
        (status = 304, description = "Unchanged"),
        (status = 404, description = "No such thing"),
        (status = 429, description = "Slow down",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
    #[allow(dead_code)]
    fn thing() {}

    /// Documents `POST /thing`: created, or a conflict.
    #[utoipa::path(post, path = "/thing", request_body = String, responses(
        (status = 201, description = "Created"),
        (status = 415, description = "Only text/plain"),
    ))]
    #[allow(dead_code)]
    fn create_thing() {}

    #[derive(utoipa::OpenApi)]
    #[openapi(paths(thing, create_thing), modifiers(&ProblemResponses))]
    struct Doc;

    #[test]
    fn operations_with_a_body_document_its_400_and_415_as_problems() {
        let doc = serde_json::to_value(Doc::openapi()).expect("json");
        let post = &doc["paths"]["/thing"]["post"]["responses"];
        for status in ["400", "415"] {
            assert_eq!(
                post[status]["content"][PROBLEM_JSON]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{status}"
            );
        }
        assert_eq!(post["415"]["description"], "Only text/plain");
        let get = &doc["paths"]["/thing"]["get"]["responses"];
        assert!(get.get("400").is_none() && get.get("415").is_none());
    }

    #[test]
    fn error_responses_get_a_problem_body_and_others_are_left_alone() {
        let doc = serde_json::to_value(Doc::openapi()).expect("json");
        let responses = &doc["paths"]["/thing"]["get"]["responses"];
        for status in ["404", "429"] {
            assert_eq!(
                responses[status]["content"][PROBLEM_JSON]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{status}"
            );
        }
        assert_eq!(
            responses["429"]["headers"]["Retry-After"]["schema"]["type"],
            "integer"
        );
        assert!(responses["200"]["content"]["text/plain"].is_object());
        assert!(responses["304"].get("content").is_none());
        let schemas = &doc["components"]["schemas"];
        assert!(schemas["Problem"].is_object() && schemas["FieldError"].is_object());
    }
}
