//! HTTP caching of list pages (RFC 9110 §8.8, RFC 9111).
//!
//! A page carries a weak `ETag` computed from its JSON body, so it changes
//! with anything a write changes in it (an item, the total, a facet count):
//! the first read after a write gets the new tag, and `If-None-Match` with
//! the current tag gets `304` without the body. Anonymous reads may be
//! kept by any cache for [`ANONYMOUS_MAX_AGE`] seconds (a shopper may see a
//! page up to that old); a request with `Authorization` (staff checking
//! their own writes) gets `private, no-cache`, so it is always revalidated.
//! `Vary: Authorization` keeps the two apart in shared caches.

use std::hash::{DefaultHasher, Hasher};

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::super::etag;

/// How long an anonymous list page may be reused without asking, in seconds.
pub const ANONYMOUS_MAX_AGE: u32 = 5;

/// The weak tag of a body. `DefaultHasher::new()` is the same function in
/// every process of one build, so replicas agree on tags.
pub(super) fn weak_tag(body: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    hasher.write(body);
    format!("W/\"{:016x}{:08x}\"", hasher.finish(), body.len())
}

/// `200` with the body, or `304` when `If-None-Match` names its tag; both
/// with `ETag`, `Cache-Control` and `Vary`.
pub(super) fn respond(body: Bytes, request: &HeaderMap) -> Response {
    let tag = weak_tag(&body);
    let cache_control = if request.contains_key(header::AUTHORIZATION) {
        HeaderValue::from_static("private, no-cache")
    } else {
        HeaderValue::from_str(&format!("public, max-age={ANONYMOUS_MAX_AGE}"))
            .unwrap_or(HeaderValue::from_static("no-cache"))
    };
    let headers = [
        (
            header::ETAG,
            HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("W/\"0\"")),
        ),
        (header::CACHE_CONTROL, cache_control),
        (header::VARY, HeaderValue::from_static("Authorization")),
    ];
    if etag::none_match(request, &tag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let json = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (headers, [json], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, HeaderValue::from_str(value).expect("value"));
        }
        headers
    }

    #[test]
    fn the_tag_is_weak_and_follows_the_body() {
        let a = weak_tag(b"{\"total\":1}");
        assert!(a.starts_with("W/\""));
        assert_eq!(a, weak_tag(b"{\"total\":1}"));
        assert_ne!(a, weak_tag(b"{\"total\":2}"));
    }

    #[test]
    fn a_current_tag_gets_304_and_a_stale_one_the_body() {
        let body = Bytes::from_static(b"{}");
        let tag = weak_tag(&body);
        let fresh = respond(body.clone(), &request(&[(header::IF_NONE_MATCH, &tag)]));
        assert_eq!(fresh.status(), StatusCode::NOT_MODIFIED);
        let strong = tag.trim_start_matches("W/").to_string();
        let also = respond(body.clone(), &request(&[(header::IF_NONE_MATCH, &strong)]));
        assert_eq!(also.status(), StatusCode::NOT_MODIFIED);
        let stale = respond(body, &request(&[(header::IF_NONE_MATCH, "W/\"old\"")]));
        assert_eq!(stale.status(), StatusCode::OK);
    }

    #[test]
    fn only_anonymous_reads_may_be_reused_without_asking() {
        let anonymous = respond(Bytes::from_static(b"{}"), &HeaderMap::new());
        assert_eq!(
            anonymous.headers()[header::CACHE_CONTROL],
            "public, max-age=5"
        );
        let staff = respond(
            Bytes::from_static(b"{}"),
            &request(&[(header::AUTHORIZATION, "Bearer x")]),
        );
        assert_eq!(staff.headers()[header::CACHE_CONTROL], "private, no-cache");
        assert_eq!(staff.headers()[header::VARY], "Authorization");
    }
}
