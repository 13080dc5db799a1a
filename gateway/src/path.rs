//! Request path normalisation (RFC 3986 §6.2.2): the route is chosen from,
//! and the upstream receives, the normalised path.
//!
//! Percent-encoded unreserved characters are decoded (so `%2e` is `.`),
//! other escapes keep their encoding with upper-case hex (so `%2F` is never a
//! separator), `//` is merged and dot segments are removed.

/// Why a path is refused (`400`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PathError {
    /// Not an origin-form path starting with `/`.
    #[error("the request target must be a path starting with `/`")]
    NotAbsolute,
    /// A `%` not followed by two hex digits.
    #[error("the path contains a malformed percent-escape")]
    MalformedEscape,
    /// `%00` (a literal NUL cannot appear in a URI).
    #[error("the path contains a NUL character")]
    Nul,
    /// More `..` segments than there are segments to remove.
    #[error("the path climbs above `/`")]
    AboveRoot,
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Normalise `raw` (the path part of a request target, without the query).
pub(crate) fn normalize(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(PathError::NotAbsolute);
    }
    // Fast path: nothing to decode, merge or remove.
    if !bytes.contains(&b'%') && !raw.contains("//") && !raw.contains("/.") {
        if bytes.contains(&0) {
            return Err(PathError::Nul);
        }
        return Ok(raw.to_string());
    }

    let mut decoded = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) else {
                return Err(PathError::MalformedEscape);
            };
            let v = hi * 16 + lo;
            if v == 0 {
                return Err(PathError::Nul);
            }
            if is_unreserved(v) {
                decoded.push(char::from(v));
            } else {
                decoded.push('%');
                decoded.push(char::from(b"0123456789ABCDEF"[usize::from(hi)]));
                decoded.push(char::from(b"0123456789ABCDEF"[usize::from(lo)]));
            }
            i += 3;
        } else {
            if b == 0 {
                return Err(PathError::Nul);
            }
            // Non-ASCII bytes cannot occur in a parsed URI; keep them as-is.
            decoded.push(char::from(b));
            i += 1;
        }
    }

    let mut segments: Vec<&str> = Vec::new();
    let mut trailing_slash = decoded.ends_with('/');
    for seg in decoded.split('/') {
        match seg {
            "" => {}
            "." => trailing_slash = true,
            ".." => {
                if segments.pop().is_none() {
                    return Err(PathError::AboveRoot);
                }
                trailing_slash = true;
            }
            s => {
                segments.push(s);
                trailing_slash = false;
            }
        }
    }
    if decoded.ends_with('/') {
        trailing_slash = true;
    }
    let mut out = String::with_capacity(decoded.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing_slash || out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_table() {
        let cases: &[(&str, Result<&str, PathError>)] = &[
            ("/", Ok("/")),
            ("/users/", Ok("/users/")),
            ("/users/auth/login", Ok("/users/auth/login")),
            ("/users//auth", Ok("/users/auth")),
            ("//users///x//", Ok("/users/x/")),
            ("/users/../products/x", Ok("/products/x")),
            ("/users/./me", Ok("/users/me")),
            ("/users/a/..", Ok("/users/")),
            ("/users/a/.", Ok("/users/a/")),
            ("/users/%2e%2e/products/x", Ok("/products/x")),
            ("/users/%2E%2e/products/x", Ok("/products/x")),
            ("/users/.%2e/products/x", Ok("/products/x")),
            ("/users/%2e/me", Ok("/users/me")),
            ("/users/a%2Fb", Ok("/users/a%2Fb")),
            ("/users/a%2fb", Ok("/users/a%2Fb")),
            ("/users/..%2F..%2Fetc", Ok("/users/..%2F..%2Fetc")),
            ("/users/%7Ejohn", Ok("/users/~john")),
            ("/users/%41%42", Ok("/users/AB")),
            ("/users/%20x", Ok("/users/%20x")),
            ("/..", Err(PathError::AboveRoot)),
            ("/users/../../etc/passwd", Err(PathError::AboveRoot)),
            ("/%2e%2e/etc", Err(PathError::AboveRoot)),
            ("/users/%00", Err(PathError::Nul)),
            ("/users/%zz", Err(PathError::MalformedEscape)),
            ("/users/%4", Err(PathError::MalformedEscape)),
            ("/users/%", Err(PathError::MalformedEscape)),
            ("users", Err(PathError::NotAbsolute)),
            ("*", Err(PathError::NotAbsolute)),
        ];
        for (raw, want) in cases {
            assert_eq!(
                normalize(raw).as_deref().map_err(|e| *e),
                want.as_deref().map_err(|e| *e),
                "{raw}"
            );
        }
    }

    #[test]
    fn normalised_paths_never_contain_dot_segments() {
        for raw in ["/a/%2e%2E/b", "/a/./b/../c", "/a/.%2E/b", "/x/y/%2e/"] {
            let n = normalize(raw).expect("valid");
            assert!(n.split('/').all(|s| s != "." && s != ".."), "{raw} -> {n}");
        }
    }
}
