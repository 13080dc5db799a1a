//! Strict request extractors whose refusals are problem responses.
//!
//! Bodies are deserialised with the target type's own rules (services mark
//! request types `deny_unknown_fields`); a refusal names the offending field.

use axum::extract::{FromRequest, FromRequestParts, Request};
use http::header;
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::{FieldError, Problem};

/// A JSON body (`Content-Type: application/json`), refused with 415 / 400 / 422.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_content_type(req.headers(), "application/json") {
            return Err(Problem::unsupported_media_type(
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

/// Deserialise a JSON object body, naming the field that is wrong.
///
/// Every request body of the services is an object: any other JSON value is
/// refused (422) before serde sees it, since serde would otherwise accept an
/// array as a struct written field by field (`[null, null]`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => {
                    Problem::validation(vec![FieldError::new("body", "must be a JSON object")])
                }
                Err(syntax) => Problem::bad_request(format!("malformed JSON body: {syntax}")),
            },
        );
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                Problem::validation(vec![field_error(&path, &inner.to_string())])
            }
            _ => Problem::bad_request(format!("malformed JSON body: {inner}")),
        }
    })
}

/// Query parameters, refused with 422 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        parse_query(query).map(Query)
    }
}

/// Deserialise a query string, naming the parameter that is wrong.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Problem> {
    parse_form(query.as_bytes())
}

/// Deserialise an `application/x-www-form-urlencoded` body, naming the field.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        Problem::validation(vec![field_error(&path, &err.into_inner().to_string())])
    })
}

/// Whether the request's content type is `expected` (parameters ignored).
pub fn has_content_type(headers: &http::HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

fn body_rejection(rejection: axum::extract::rejection::BytesRejection) -> Problem {
    use axum::extract::rejection::BytesRejection;
    match rejection {
        BytesRejection::FailedToBufferBody(inner)
            if inner.status() == http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            Problem::new(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "request body is too large",
            )
        }
        other => Problem::bad_request(format!("cannot read the request body: {other}")),
    }
}

/// Turn a serde error at `path` into a field error. Unknown and missing
/// fields are reported by serde at the parent path with the name in
/// backticks; use that name instead.
fn field_error(path: &str, message: &str) -> FieldError {
    // serde_path_to_error puts an unknown field's own name in the path, but a
    // missing field's parent.
    let named = message.split('`').nth(1);
    let field = match (path, named) {
        ("." | "", Some(name)) if message.starts_with("unknown field") => name.to_string(),
        ("." | "", Some(name)) if message.starts_with("missing field") => name.to_string(),
        (parent, Some(name)) if message.starts_with("missing field") => format!("{parent}.{name}"),
        ("." | "", _) => "body".to_string(),
        (p, _) => p.to_string(),
    };
    let message = if message.starts_with("unknown field") {
        "is not an accepted field".to_string()
    } else if message.starts_with("missing field") {
        "is required".to_string()
    } else {
        // serde_json appends " at line 1 column 12"; clients need only the reason.
        message
            .split(" at line ")
            .next()
            .unwrap_or(message)
            .to_string()
    };
    FieldError { field, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Register {
        email: String,
        age: Option<u8>,
    }

    #[test]
    fn unknown_field_is_named() {
        let err =
            parse_json::<Register>(br#"{"email":"a@b.c","role":"admin"}"#).expect_err("unknown");
        assert_eq!(err.status, 422);
        assert_eq!(
            err.errors,
            vec![FieldError::new("role", "is not an accepted field")]
        );
    }

    #[test]
    fn missing_field_is_named() {
        let err = parse_json::<Register>(br#"{}"#).expect_err("missing");
        assert_eq!(err.errors, vec![FieldError::new("email", "is required")]);
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = parse_json::<Register>(br#"{"email":"x","age":"old"}"#).expect_err("type");
        assert_eq!(err.status, 422);
        assert_eq!(err.errors[0].field, "age");
    }

    #[test]
    fn any_other_json_value_than_an_object_is_refused() {
        for body in [
            &b"[null, null]"[..],
            b" [\"a@b.c\", 3]",
            b"null",
            b"\"a\"",
            b"7",
            b"true",
        ] {
            let err = parse_json::<Register>(body).expect_err("not an object");
            assert_eq!(err.status, 422, "{}", String::from_utf8_lossy(body));
            assert_eq!(
                err.errors,
                vec![FieldError::new("body", "must be a JSON object")]
            );
        }
        let err = parse_json::<Register>(b"[1,").expect_err("syntax");
        assert_eq!(err.status, 400);
        assert!(parse_json::<Register>(b" \n{\"email\":\"a@b.c\"}").is_ok());
    }

    #[test]
    fn syntax_error_is_400() {
        let err = parse_json::<Register>(br#"{"email":"#).expect_err("syntax");
        assert_eq!(err.status, 400);
    }

    #[test]
    fn query_errors_name_the_parameter() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Page {
            page: Option<u32>,
        }
        let err = parse_query::<Page>("page=first").expect_err("bad page");
        assert_eq!(err.errors[0].field, "page");
        let ok = parse_query::<Page>("page=2").expect("ok");
        assert_eq!(ok.page, Some(2));
    }
}
