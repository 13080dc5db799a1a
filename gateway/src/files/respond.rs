//! A found file's answer: the precompressed sibling if the client takes
//! one, the preconditions (`304`, `412`), the range (`206`, `416`), the
//! headers NGINX sends (`Content-Type`, `Content-Length`, `Last-Modified`,
//! `ETag`, `Accept-Ranges`, `Expires`, `Cache-Control`), and the body.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use crate::config::files::FilesConfig;

use super::body::SMALL;
use super::conditional::{self, Precondition, RangeAnswer, Validators};
use super::encoding::{self, Coding};
use super::resolve::{Base, Lookup};
use super::{BodyPlan, Plan};

/// The `Content-Type` of `name` (by extension), or the configured default.
pub(crate) fn content_type(config: &FilesConfig, name: &Path) -> HeaderValue {
    mime_guess::from_path(name)
        .first_raw()
        .map(HeaderValue::from_static)
        .or_else(|| HeaderValue::from_str(&config.default_type).ok())
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"))
}

fn status(code: StatusCode) -> Plan {
    Plan::Status(code, HeaderMap::new())
}

/// The answer for the regular file `file` (canonical, under the root),
/// asked for as `name` (whose extension gives the type, as in NGINX: a
/// symlink `latest.js -> v2.bin` is JavaScript).
pub(crate) fn serve_file(
    base: &Base<'_>,
    config: &FilesConfig,
    method: &Method,
    headers: &HeaderMap,
    (name, file): (&str, PathBuf),
    now: SystemTime,
) -> Plan {
    let mut chosen: (PathBuf, Option<Coding>) = (file.clone(), None);
    // `Vary: Accept-Encoding` when the answer depends on it: a sibling
    // exists, whether or not this client takes it (as gzip_static with
    // gzip_vary on).
    let mut vary = false;
    if config.precompressed {
        let sibling = |coding: Coding| {
            let mut s = file.clone().into_os_string();
            s.push(coding.suffix());
            PathBuf::from(s)
        };
        for coding in encoding::preferred(headers) {
            if let Lookup::File(real) = base.lookup(&sibling(coding)) {
                chosen = (real, Some(coding));
                vary = true;
                break;
            }
        }
        vary = vary
            || encoding::ALL
                .iter()
                .any(|&c| std::fs::metadata(sibling(c)).is_ok_and(|m| m.is_file()));
    }
    let (path, coding) = chosen;
    let mut handle = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => return open_failed(&path, &e),
    };
    let meta = match handle.metadata() {
        Ok(m) if m.is_file() => m,
        Ok(_) => return status(StatusCode::NOT_FOUND),
        Err(e) => return open_failed(&path, &e),
    };
    let v = Validators::of(&meta);

    let mut out = HeaderMap::new();
    let validators = |out: &mut HeaderMap| {
        if let Ok(lm) = HeaderValue::from_str(&v.last_modified()) {
            out.insert(header::LAST_MODIFIED, lm);
        }
        if let Ok(tag) = HeaderValue::from_str(&v.etag()) {
            out.insert(header::ETAG, tag);
        }
        if let Some(c) = coding {
            out.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(c.token()),
            );
        }
        if vary {
            out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        }
        conditional::expires_headers(out, config.expires, config.cache_control.as_deref(), now);
    };

    match conditional::precondition(headers, &v) {
        Precondition::Failed => return status(StatusCode::PRECONDITION_FAILED),
        Precondition::NotModified => {
            validators(&mut out);
            return Plan::Serve(StatusCode::NOT_MODIFIED, out, BodyPlan::Empty);
        }
        Precondition::Serve => {}
    }

    // Ranges of a precompressed body are not offered (as `gzip_static`).
    let answer = if coding.is_some() {
        RangeAnswer::Whole
    } else {
        conditional::range(headers, &v)
    };
    let (code, start, len) = match answer {
        RangeAnswer::Unsatisfiable => {
            let mut h = HeaderMap::new();
            if let Ok(cr) = HeaderValue::from_str(&format!("bytes */{}", v.size)) {
                h.insert(header::CONTENT_RANGE, cr);
            }
            return Plan::Status(StatusCode::RANGE_NOT_SATISFIABLE, h);
        }
        RangeAnswer::Whole => (StatusCode::OK, 0, v.size),
        RangeAnswer::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
    };
    out.insert(header::CONTENT_TYPE, content_type(config, Path::new(name)));
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    validators(&mut out);
    if code == StatusCode::PARTIAL_CONTENT {
        if let Ok(cr) =
            HeaderValue::from_str(&format!("bytes {start}-{}/{}", start + len - 1, v.size))
        {
            out.insert(header::CONTENT_RANGE, cr);
        }
    } else if coding.is_none() {
        out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }

    if method == Method::HEAD || len == 0 {
        return Plan::Serve(code, out, BodyPlan::Empty);
    }
    if start > 0
        && let Err(e) = handle.seek(SeekFrom::Start(start))
    {
        return open_failed(&path, &e);
    }
    if len <= SMALL {
        let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        match (&mut handle).take(len).read_to_end(&mut buf) {
            Ok(n) if n as u64 == len => {
                return Plan::Serve(code, out, BodyPlan::Bytes(Bytes::from(buf)));
            }
            Ok(_) => {
                tracing::warn!(path = %path.display(), "files: the file shrank while it was read");
                return status(StatusCode::INTERNAL_SERVER_ERROR);
            }
            Err(e) => return open_failed(&path, &e),
        }
    }
    Plan::Serve(code, out, BodyPlan::File(handle, len))
}

fn open_failed(path: &Path, e: &std::io::Error) -> Plan {
    match e.kind() {
        std::io::ErrorKind::NotFound => status(StatusCode::NOT_FOUND),
        std::io::ErrorKind::PermissionDenied => status(StatusCode::FORBIDDEN),
        _ => {
            tracing::warn!(path = %path.display(), error = %e, "files: cannot read");
            status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}
