//! The static-files content handler: NGINX's `root` / `alias`, `index`,
//! `try_files`, the static module's answers (`301` to the directory's
//! slash, `403` for a directory without index, `304`, `206`, `412`, `416`,
//! `405`), `expires` and `gzip_static`-like precompressed siblings.
//!
//! The router calls [`serve`] with a validated
//! [`FilesConfig`](crate::config::files::FilesConfig) and the request, and
//! gets a [`FilesOutcome`]: a response to send (its body a [`FileBody`]), or
//! an instruction only the router can carry out: an internal redirect
//! (`try_files` fallback URI, matched again), a named route, or a status
//! for the router to render (problem+json or an error page, with the
//! headers given: `Location` for `301`, `Content-Range` for `416`,
//! `Allow` for `405`).
//!
//! All the file-system work of one request (the `try_files` and index
//! look-ups, opening, and reading a small file) runs in one blocking task;
//! larger files stream in chunks ([`body`]). Paths never leave the root
//! ([`resolve`]).

mod body;
mod conditional;
mod encoding;
mod resolve;
mod respond;
mod uri;

#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use crate::config::files::{FilesConfig, TryFallback};

pub(crate) use body::FileBody;

use resolve::{Base, Lookup};
use uri::Refusal;

/// The request as the files handler sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileRequest<'a> {
    /// The method (`GET` and `HEAD` are served; `POST` to a file is `405`,
    /// as NGINX; anything else `405`).
    pub(crate) method: &'a Method,
    /// The path as the router matched it: normalised by
    /// `crate::path::normalize` (after any rewrite), route prefix included.
    pub(crate) path: &'a str,
    /// The raw query, without `?` (kept on `301` and `$args`).
    pub(crate) query: Option<&'a str>,
    /// The route's (location's) prefix: what `alias` replaces.
    pub(crate) prefix: &'a str,
    /// The client's headers (conditionals, `Range`, `Accept-Encoding`).
    pub(crate) headers: &'a HeaderMap,
}

/// What the files handler decided.
#[derive(Debug)]
pub(crate) enum FilesOutcome {
    /// Send this response (`200`, `206`, `304`; `HEAD` has an empty body
    /// and the `Content-Length` of the `GET`).
    Response(Response<FileBody>),
    /// Answer with this status, rendered by the router (error pages apply),
    /// with these headers added: `301` (`Location`, relative, query kept;
    /// `Expires`/`Cache-Control` per `expires`),
    /// `400`, `403`, `404`, `405` (`Allow`), `412`, `416`
    /// (`Content-Range`), `500`, or a `try_files` `=code`.
    Status(StatusCode, HeaderMap),
    /// `try_files` fell back to this URI (path normalised as the gateway
    /// normalises, `?query` possible): match it again, as an internal
    /// redirect.
    Internal(String),
    /// `try_files` fell back to this named route (without `@`).
    Named(String),
}

/// What the blocking part decided: the head, and where the body comes from.
#[derive(Debug)]
pub(crate) enum Plan {
    /// A response.
    Serve(StatusCode, HeaderMap, BodyPlan),
    /// [`FilesOutcome::Status`].
    Status(StatusCode, HeaderMap),
    /// [`FilesOutcome::Internal`].
    Internal(String),
    /// [`FilesOutcome::Named`].
    Named(String),
}

/// The body of a [`Plan::Serve`].
#[derive(Debug)]
pub(crate) enum BodyPlan {
    /// None.
    Empty,
    /// Read already (a small file).
    Bytes(Bytes),
    /// This many bytes of the file, from its current position.
    File(std::fs::File, u64),
}

/// The request headers the files handler reads (copied into the blocking
/// task; values are reference-counted).
const READ: [header::HeaderName; 7] = [
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_UNMODIFIED_SINCE,
    header::RANGE,
    header::IF_RANGE,
    header::ACCEPT_ENCODING,
];

/// Serve `req` from `config`'s directory.
pub(crate) async fn serve(config: &Arc<FilesConfig>, req: &FileRequest<'_>) -> FilesOutcome {
    let mut headers = HeaderMap::new();
    for name in READ {
        for v in req.headers.get_all(&name) {
            headers.append(name.clone(), v.clone());
        }
    }
    let config = Arc::clone(config);
    let method = req.method.clone();
    let path = req.path.to_string();
    let query = req.query.map(str::to_string);
    let prefix = req.prefix.to_string();
    let planned = tokio::task::spawn_blocking(move || {
        let req = FileRequest {
            method: &method,
            path: &path,
            query: query.as_deref(),
            prefix: &prefix,
            headers: &headers,
        };
        plan(&config, &req, SystemTime::now())
    })
    .await;
    match planned {
        Ok(plan) => outcome(plan),
        Err(e) => {
            tracing::error!(error = %e, "files: the blocking task failed");
            FilesOutcome::Status(StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new())
        }
    }
}

fn outcome(plan: Plan) -> FilesOutcome {
    match plan {
        Plan::Serve(status, headers, body) => {
            let body = match body {
                BodyPlan::Empty => FileBody::empty(),
                BodyPlan::Bytes(b) => FileBody::bytes(b),
                BodyPlan::File(f, len) => FileBody::file(f, len),
            };
            let mut response = Response::new(body);
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            FilesOutcome::Response(response)
        }
        Plan::Status(s, h) => FilesOutcome::Status(s, h),
        Plan::Internal(u) => FilesOutcome::Internal(u),
        Plan::Named(n) => FilesOutcome::Named(n),
    }
}

fn status(code: StatusCode) -> Plan {
    Plan::Status(code, HeaderMap::new())
}

fn refused(r: Refusal) -> Plan {
    match r {
        Refusal::BadPath => status(StatusCode::BAD_REQUEST),
        Refusal::Hidden => status(StatusCode::NOT_FOUND),
    }
}

/// The whole decision, synchronously (file-system calls included): what
/// [`serve`] runs on the blocking pool.
pub(crate) fn plan(config: &FilesConfig, req: &FileRequest<'_>, now: SystemTime) -> Plan {
    let decoded = match uri::decode(req.path) {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    // The client's own path is checked for hidden names even when a
    // try_files fallback would answer.
    if let Err(r) = uri::segments(&decoded, config.dotfiles) {
        return refused(r);
    }
    let Some(base) = Base::open(config, req.prefix) else {
        return status(StatusCode::NOT_FOUND);
    };
    let mut target = decoded.clone();
    if let Some(tf) = &config.try_files {
        let hit = tf.candidates.iter().find_map(|c| {
            let name = uri::candidate(&c.template, &decoded);
            match (base.find(&name), c.dir) {
                (Lookup::File(_), false) | (Lookup::Dir, true) => Some(name),
                _ => None,
            }
        });
        match hit {
            Some(name) => target = name,
            None => {
                return match &tf.fallback {
                    TryFallback::Status(code) => {
                        status(StatusCode::from_u16(*code).unwrap_or(StatusCode::NOT_FOUND))
                    }
                    TryFallback::Named(n) => Plan::Named(n.clone()),
                    TryFallback::Uri(t) => {
                        Plan::Internal(uri::fallback_uri(t, &decoded, req.query))
                    }
                };
            }
        }
    }
    content(&base, config, req, &target, now)
}

/// NGINX's content phase for `target`: the index module for a URI ending
/// with `/`, the static module otherwise.
fn content(
    base: &Base<'_>,
    config: &FilesConfig,
    req: &FileRequest<'_>,
    target: &str,
    now: SystemTime,
) -> Plan {
    let method = req.method;
    if !matches!(*method, Method::GET | Method::HEAD | Method::POST) {
        return not_allowed();
    }
    if target.ends_with('/') {
        for name in &config.index {
            if let Lookup::File(file) = base.find(&format!("{target}{name}")) {
                if *method == Method::POST {
                    return not_allowed();
                }
                return respond::serve_file(base, config, method, req.headers, (name, file), now);
            }
        }
        return match base.find(target) {
            Lookup::Dir => status(StatusCode::FORBIDDEN),
            _ => status(StatusCode::NOT_FOUND),
        };
    }
    match base.find(target) {
        Lookup::File(file) => {
            if *method == Method::POST {
                return not_allowed();
            }
            respond::serve_file(base, config, method, req.headers, (target, file), now)
        }
        Lookup::Dir => {
            let mut location = uri::encode(target);
            location.push('/');
            if let Some(q) = req.query.filter(|q| !q.is_empty()) {
                location.push('?');
                location.push_str(q);
            }
            let mut h = HeaderMap::new();
            match HeaderValue::from_str(&location) {
                Ok(v) => {
                    h.insert(header::LOCATION, v);
                    // NGINX's expires applies to this 301 too.
                    conditional::expires_headers(
                        &mut h,
                        config.expires,
                        config.cache_control.as_deref(),
                        now,
                    );
                    Plan::Status(StatusCode::MOVED_PERMANENTLY, h)
                }
                Err(_) => status(StatusCode::BAD_REQUEST),
            }
        }
        Lookup::Missing | Lookup::Refused => status(StatusCode::NOT_FOUND),
    }
}

fn not_allowed() -> Plan {
    let mut h = HeaderMap::new();
    h.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    Plan::Status(StatusCode::METHOD_NOT_ALLOWED, h)
}
