//! Validators, preconditions, ranges and `expires`, against the answers
//! Debian's NGINX 1.22 gave (see `files/tests/nginx.rs` for the live
//! comparison).

use super::*;

const V: Validators = Validators {
    size: 12,
    // Fri, 02 Jan 2026 03:04:05 GMT
    mtime: 1_767_323_045,
};
const DATE: &str = "Fri, 02 Jan 2026 03:04:05 GMT";

fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut m = HeaderMap::new();
    for (k, v) in pairs {
        m.append(*k, HeaderValue::from_str(v).expect("value"));
    }
    m
}

#[test]
fn validators_in_nginx_format() {
    assert_eq!(V.etag(), "\"695735a5-c\"");
    assert_eq!(V.last_modified(), DATE);
}

#[test]
fn preconditions() {
    use Precondition::*;
    let cases: &[(&[(&str, &str)], Precondition)] = &[
        (&[], Serve),
        (&[("if-none-match", "\"695735a5-c\"")], NotModified),
        (&[("if-none-match", "W/\"695735a5-c\"")], NotModified),
        (&[("if-none-match", "\"a\", \"695735a5-c\"")], NotModified),
        (&[("if-none-match", "*")], NotModified),
        (&[("if-none-match", "\"x\"")], Serve),
        (&[("if-modified-since", DATE)], NotModified),
        // Exact, as NGINX's default: a later date is not "not modified".
        (
            &[("if-modified-since", "Fri, 02 Jan 2026 03:04:06 GMT")],
            Serve,
        ),
        (&[("if-modified-since", "garbage")], Serve),
        // If-None-Match wins over If-Modified-Since.
        (
            &[("if-none-match", "\"x\""), ("if-modified-since", DATE)],
            Serve,
        ),
        (&[("if-match", "\"x\"")], Failed),
        (&[("if-match", "W/\"695735a5-c\"")], Failed),
        (&[("if-match", "\"695735a5-c\"")], Serve),
        (&[("if-match", "*")], Serve),
        (
            &[("if-unmodified-since", "Thu, 02 Jan 2025 03:04:05 GMT")],
            Failed,
        ),
        (&[("if-unmodified-since", DATE)], Serve),
        // A wrong day of the week is forgiven, as NGINX does.
        (
            &[("if-unmodified-since", "Mon, 02 Jan 2025 03:04:05 GMT")],
            Failed,
        ),
        (
            &[("if-modified-since", "Mon, 02 Jan 2026 03:04:05 GMT")],
            NotModified,
        ),
    ];
    for (headers, want) in cases {
        assert_eq!(precondition(&h(headers), &V), *want, "{headers:?}");
    }
}

#[test]
fn ranges() {
    use RangeAnswer::*;
    let part = |start, end| Part { start, end };
    let cases: &[(&str, RangeAnswer)] = &[
        ("bytes=0-3", part(0, 3)),
        ("bytes=-3", part(9, 11)),
        ("bytes=5-", part(5, 11)),
        ("bytes=5-100", part(5, 11)),
        ("bytes=0-0", part(0, 0)),
        ("bytes=-100", part(0, 11)),
        ("BYTES=1-2", part(1, 2)),
        ("bytes=20-30", Unsatisfiable),
        ("bytes=12-", Unsatisfiable),
        ("bytes=3-1", Unsatisfiable),
        ("bytes=-0", Unsatisfiable),
        ("bytes=x", Unsatisfiable),
        ("bytes=", Unsatisfiable),
        ("bytes=1-2-3", Unsatisfiable),
        ("bytes=+1-2", Unsatisfiable),
        ("items=0-1", Whole),
        ("bytes=0-1,4-5", Whole),
        ("bytes=0-1,0-1", Whole),
    ];
    for (value, want) in cases {
        assert_eq!(range(&h(&[("range", value)]), &V), *want, "{value}");
    }
    assert_eq!(range(&h(&[]), &V), Whole);
    let empty = Validators { size: 0, mtime: 1 };
    assert_eq!(range(&h(&[("range", "bytes=0-")]), &empty), Unsatisfiable);
    assert_eq!(range(&h(&[("range", "bytes=-1")]), &empty), Unsatisfiable);
}

#[test]
fn if_range() {
    use RangeAnswer::*;
    let with = |cond: &str| range(&h(&[("range", "bytes=0-1"), ("if-range", cond)]), &V);
    assert_eq!(with("\"695735a5-c\""), Part { start: 0, end: 1 });
    assert_eq!(with(DATE), Part { start: 0, end: 1 });
    assert_eq!(with("\"zz\""), Whole);
    assert_eq!(with("W/\"695735a5-c\""), Whole);
    assert_eq!(with("Fri, 02 Jan 2026 03:04:06 GMT"), Whole);
}

#[test]
fn expires_arithmetic() {
    let now = UNIX_EPOCH + Duration::from_secs(1_796_649_162);
    let run = |e: Expires, extra: Option<&str>| {
        let mut m = HeaderMap::new();
        expires_headers(&mut m, e, extra, now);
        (
            m.get(header::EXPIRES)
                .map(|v| v.to_str().unwrap_or("").to_string()),
            m.get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap_or("").to_string()),
        )
    };
    let s = |x: &str| Some(x.to_string());
    assert_eq!(run(Expires::Off, None), (None, None));
    assert_eq!(run(Expires::Off, Some("public")), (None, s("public")));
    assert_eq!(
        run(Expires::Seconds(3600), None),
        (s("Mon, 07 Dec 2026 14:12:42 GMT"), s("max-age=3600"))
    );
    assert_eq!(
        run(Expires::Seconds(3600), Some("public, immutable")),
        (
            s("Mon, 07 Dec 2026 14:12:42 GMT"),
            s("max-age=3600, public, immutable")
        )
    );
    assert_eq!(
        run(Expires::Seconds(0), None),
        (s("Mon, 07 Dec 2026 13:12:42 GMT"), s("max-age=0"))
    );
    assert_eq!(
        run(Expires::Seconds(-3600), None),
        (s("Mon, 07 Dec 2026 12:12:42 GMT"), s("no-cache"))
    );
    assert_eq!(
        run(Expires::Epoch, None),
        (s("Thu, 01 Jan 1970 00:00:01 GMT"), s("no-cache"))
    );
    assert_eq!(
        run(Expires::Max, None),
        (s("Thu, 31 Dec 2037 23:55:55 GMT"), s("max-age=315360000"))
    );
}
