//! From the gateway's normalised path to the text NGINX calls `$uri`
//! (fully decoded), and back to a URI for `Location` and internal
//! redirects; the checks that keep a path inside its root.
//!
//! The gateway's normalisation (`crate::path`) has already decoded the
//! unreserved characters, removed dot segments and merged `//`; what is left
//! encoded is decoded here exactly once (so `%252e` is the file name `%2e`,
//! never `.`). A decoded segment that would hold a separator (`%2F`, `\`), a
//! NUL or another control character, or bytes that are not UTF-8 (overlong
//! forms such as `%c0%ae`) is refused: no file can be meant by it.

use std::fmt::Write as _;

use crate::path::hex;

/// Why a path cannot name a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a path starting with `/`, a `.`/`..` segment, an encoded
    /// separator, a backslash, a control character, a malformed escape or
    /// bytes that are not UTF-8: `400`.
    BadPath,
    /// A name starting with `.` where dotfiles are not served: `404`.
    Hidden,
}

/// `$uri`: `path` (normalised, starting with `/`) with every escape
/// decoded, checked segment by segment.
pub(crate) fn decode(path: &str) -> Result<String, Refusal> {
    if !path.starts_with('/') {
        return Err(Refusal::BadPath);
    }
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let decoded = decode_segment(segment)?;
        out.push_str(&decoded);
    }
    Ok(out)
}

fn decode_segment(segment: &str) -> Result<String, Refusal> {
    let bytes = segment.as_bytes();
    let mut raw = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) else {
                return Err(Refusal::BadPath);
            };
            raw.push(hi * 16 + lo);
            i += 3;
        } else {
            raw.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(raw).map_err(|_| Refusal::BadPath)?;
    if text == "." || text == ".." {
        return Err(Refusal::BadPath);
    }
    if text
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(Refusal::BadPath);
    }
    Ok(text)
}

/// Whether a segment is a name that is not served unless dotfiles are
/// (`.well-known`, RFC 8615, always is).
pub(crate) fn is_hidden(segment: &str) -> bool {
    segment.starts_with('.') && segment != ".well-known"
}

/// The segments of a decoded path, checked again (a `try_files` template
/// may have put text around `$uri`): no empty-name tricks, no `.`/`..`,
/// no separators or control characters, no hidden names unless allowed.
pub(crate) fn segments(decoded: &str, dotfiles: bool) -> Result<Vec<&str>, Refusal> {
    if !decoded.starts_with('/') {
        return Err(Refusal::BadPath);
    }
    let mut out = Vec::new();
    for s in decoded.split('/').filter(|s| !s.is_empty()) {
        if s == "." || s == ".." || s.chars().any(|c| c == '\\' || c.is_control()) {
            return Err(Refusal::BadPath);
        }
        if !dotfiles && is_hidden(s) {
            return Err(Refusal::Hidden);
        }
        out.push(s);
    }
    Ok(out)
}

/// Percent-encode a decoded path for a URI (`Location`, internal
/// redirects): unreserved characters and the sub-delimiters a path may
/// carry stay as they are, everything else (`%`, `?`, `#`, spaces,
/// non-ASCII) is escaped.
pub(crate) fn encode(decoded: &str) -> String {
    let mut out = String::with_capacity(decoded.len());
    for &b in decoded.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'/' | b'-'
                    | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A `try_files` candidate: `template` (a path) with `$uri` replaced by
/// `uri` (both decoded).
pub(crate) fn candidate(template: &str, uri: &str) -> String {
    template.replace("$uri", uri)
}

/// A `try_files` fallback URI, encoded: `$uri` replaced by `uri` in the
/// path; in the query `$args` and `$query_string` become `query` (raw, as
/// the client sent it) and `$uri` the encoded `uri`.
pub(crate) fn fallback_uri(template: &str, uri: &str, query: Option<&str>) -> String {
    let (path, q) = match template.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (template, None),
    };
    let mut out = encode(&candidate(path, uri));
    if let Some(q) = q {
        out.push('?');
        let args = query.unwrap_or("");
        let mut rest = q;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let var = &rest[i + 1..];
            let len = var
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(var.len());
            match &var[..len] {
                "args" | "query_string" => out.push_str(args),
                "uri" => out.push_str(&encode(uri)),
                other => {
                    out.push('$');
                    out.push_str(other);
                }
            }
            rest = &var[len..];
        }
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once() {
        assert_eq!(decode("/a%20b/c").as_deref(), Ok("/a b/c"));
        assert_eq!(decode("/%252e%252e/x").as_deref(), Ok("/%2e%2e/x"));
        assert_eq!(decode("/caf%C3%A9").as_deref(), Ok("/café"));
        assert_eq!(decode("/café/").as_deref(), Ok("/café/"));
        assert_eq!(decode("/").as_deref(), Ok("/"));
    }

    #[test]
    fn refuses_what_no_file_is() {
        for bad in [
            "a",
            "/a%2Fb",
            "/a%2fb",
            "/a%5Cb",
            "/a\\b",
            "/%00",
            "/a%0Ab",
            "/%2E%2E/x",
            "/%2e/x",
            "/..",
            "/x/.",
            "/%C0%AE%C0%AE/x",
            "/%E0%80%AE",
            "/%FF",
            "/%zz",
            "/%4",
        ] {
            assert_eq!(decode(bad), Err(Refusal::BadPath), "{bad}");
        }
    }

    #[test]
    fn hidden_names() {
        assert!(is_hidden(".env"));
        assert!(is_hidden(".git"));
        assert!(!is_hidden(".well-known"));
        assert!(!is_hidden("a.txt"));
        assert_eq!(segments("/a/.env", false), Err(Refusal::Hidden));
        assert_eq!(segments("/a/.env", true), Ok(vec!["a", ".env"]));
        assert_eq!(
            segments("/.well-known/x", false),
            Ok(vec![".well-known", "x"])
        );
        assert_eq!(segments("/a/../b", true), Err(Refusal::BadPath));
        assert_eq!(segments("a/b", true), Err(Refusal::BadPath));
        assert_eq!(segments("//a//b/", false), Ok(vec!["a", "b"]));
    }

    #[test]
    fn encodes_for_location() {
        assert_eq!(encode("/a b/c?d#e"), "/a%20b/c%3Fd%23e");
        assert_eq!(encode("/café/"), "/caf%C3%A9/");
        assert_eq!(encode("/100%"), "/100%25");
        assert_eq!(encode("/a-b_c.d~e/@x:y"), "/a-b_c.d~e/@x:y");
    }

    #[test]
    fn substitutes_uri_and_args() {
        assert_eq!(candidate("$uri", "/a b"), "/a b");
        assert_eq!(candidate("/cache$uri.html", "/a"), "/cache/a.html");
        assert_eq!(fallback_uri("$uri", "/a b", None), "/a%20b");
        assert_eq!(
            fallback_uri("/index.php?q=$uri&$args", "/a b", Some("x=1")),
            "/index.php?q=/a%20b&x=1"
        );
        assert_eq!(fallback_uri("/i?$args", "/a", None), "/i?");
        assert_eq!(fallback_uri("/i?$query_string", "/a", Some("k")), "/i?k");
    }
}
