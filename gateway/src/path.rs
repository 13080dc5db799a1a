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

/// The value of one hex digit.
pub(crate) fn hex(b: u8) -> Option<u8> {
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

    if bytes.contains(&0) {
        return Err(PathError::Nul);
    }
    let mut decoded = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
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
            // Copied up to the next escape as text: `%` is ASCII, so this
            // cuts on a character boundary and keeps non-ASCII text (which
            // the `http` crate accepts in paths) as it came.
            let end = bytes[i..]
                .iter()
                .position(|&b| b == b'%')
                .map_or(bytes.len(), |n| i + n);
            decoded.push_str(&raw[i..end]);
            i = end;
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

    #[test]
    fn non_ascii_text_passes_through_unchanged_beside_escapes() {
        // Found by `is_idempotent`: bytes were copied one by one as chars,
        // so `é` became `Ã©` whenever the slow path ran.
        assert_eq!(normalize("/%2F/café/").as_deref(), Ok("/%2F/café/"));
        assert_eq!(normalize("/a//日本/./%41").as_deref(), Ok("/a/日本/A"));
    }

    /// Properties over generated paths: bounded (a few hundred cases each),
    /// part of the normal test run.
    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        /// Path pieces that are well formed and exercise every rule: dot
        /// segments plain and encoded, encoded slashes, unreserved and
        /// reserved escapes in either case, non-ASCII text. (Plain
        /// strategies, not regexes: they stay fast in a debug build.)
        fn piece() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(vec![
                    "", ".", "..", "%2e", "%2E", ".%2e", "%2E%2e", "%2F", "%2f", "..%2F..", "a",
                    "b", "x.y", "~u", "-", "café", "日本",
                ])
                .prop_map(str::to_string),
                (1..=255u8, any::<bool>()).prop_map(|(b, upper)| if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }),
            ]
        }

        /// A piece that makes the whole path malformed.
        fn bad_piece() -> impl Strategy<Value = String> {
            prop::sample::select(vec!["%", "%4", "%zz", "%g1", "%00", "%%41", "\0"])
                .prop_map(str::to_string)
        }

        /// A request path built from `pieces`, with `/`, `//` or nothing
        /// between them (so pieces also run together).
        fn path_of(pieces: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
            let sep = prop::sample::select(vec!["/", "//", ""]);
            prop::collection::vec((pieces, sep), 0..10).prop_map(|parts| {
                let mut p = "/".to_string();
                for (piece, sep) in parts {
                    p.push_str(&piece);
                    p.push_str(sep);
                }
                p
            })
        }

        /// A well-formed request path.
        fn path() -> impl Strategy<Value = String> {
            path_of(piece())
        }

        /// A request path with at least one malformed piece in it.
        fn bad_path() -> impl Strategy<Value = String> {
            (path(), bad_piece(), path()).prop_map(|(a, bad, b)| format!("{a}{bad}{b}"))
        }

        /// Every `%` starts two hex digits, and nothing is NUL.
        fn well_formed(raw: &str) -> bool {
            let b = raw.as_bytes();
            !raw.contains('\0')
                && !raw.contains("%00")
                && b.iter().enumerate().all(|(i, &c)| {
                    c != b'%'
                        || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                })
        }

        /// Whether a well-formed path's `..` segments (`%2e` counted as
        /// `.`) outnumber the segments before them at some point.
        fn climbs_above_root(raw: &str) -> bool {
            let decoded = raw.replace("%2e", ".").replace("%2E", ".");
            let mut depth = 0i64;
            for seg in decoded.split('/') {
                match seg {
                    "" | "." => {}
                    ".." => {
                        depth -= 1;
                        if depth < 0 {
                            return true;
                        }
                    }
                    _ => depth += 1,
                }
            }
            false
        }

        fn no_dot_segments(n: &str) -> bool {
            n.split('/').all(|s| s != "." && s != "..") && !n.to_ascii_lowercase().contains("%2e")
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn never_panics_on_any_text(raw in any::<String>()) {
                let _ = normalize(&raw);
                let _ = normalize(&format!("/{raw}"));
            }

            #[test]
            fn never_panics_on_any_bytes(raw in prop::collection::vec(any::<u8>(), 0..64)) {
                let mut raw = String::from_utf8_lossy(&raw).into_owned();
                let _ = normalize(&raw);
                raw.insert(0, '/');
                let _ = normalize(&raw);
            }

            #[test]
            fn is_idempotent(raw in prop_oneof![path(), bad_path()]) {
                if let Ok(n) = normalize(&raw) {
                    prop_assert_eq!(normalize(&n), Ok(n.clone()), "{} -> {}", raw, n);
                }
            }

            #[test]
            fn output_starts_with_a_slash_and_has_no_dot_segments(raw in prop_oneof![path(), bad_path()]) {
                if let Ok(n) = normalize(&raw) {
                    prop_assert!(n.starts_with('/'), "{} -> {}", raw, n);
                    prop_assert!(no_dot_segments(&n), "{} -> {}", raw, n);
                }
            }

            #[test]
            fn refuses_exactly_the_paths_that_climb_above_root(raw in path()) {
                prop_assert!(well_formed(&raw), "{}", raw);
                let result = normalize(&raw);
                if climbs_above_root(&raw) {
                    prop_assert_eq!(result, Err(PathError::AboveRoot), "{}", raw);
                } else {
                    prop_assert!(result.is_ok(), "{} -> {:?}", raw, result);
                }
            }

            #[test]
            fn malformed_escapes_and_nul_are_refused(raw in bad_path()) {
                prop_assert!(!well_formed(&raw), "{}", raw);
                let result = normalize(&raw);
                prop_assert!(
                    matches!(result, Err(PathError::MalformedEscape | PathError::Nul)),
                    "{} -> {:?}", raw, result
                );
            }

            #[test]
            fn encoded_slashes_stay_encoded_and_never_separate(
                segments in prop::collection::vec(
                    prop::sample::select(vec!["a", "bc", "%2F", "%2f", "x%2F..", "..%2f..", "%2F%2e%2e"]),
                    1..8,
                )
            ) {
                // Without dot segments, every segment survives as it is.
                let raw = format!("/{}", segments.join("/"));
                let n = normalize(&raw).map_err(|e| TestCaseError::fail(format!("{raw}: {e}")))?;
                prop_assert_eq!(n.split('/').count(), raw.split('/').count(), "{} -> {}", raw, n);
                prop_assert_eq!(n.matches("%2F").count(), raw.to_ascii_uppercase().matches("%2F").count());
                prop_assert!(!n.contains("%2f"), "{}", n);
            }
        }
    }
}
