//! The globs of `include` (`conf.d/*.conf`, `sites-enabled/*`): `*`, `?`
//! and `[...]` in any path component, results sorted as glob(3) sorts
//! them; hidden files only when the pattern's component starts with `.`.

use std::path::{Component, Path, PathBuf};

/// Whether `pattern` has glob characters (NGINX's test).
pub fn has_wildcards(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// The existing files matching `pattern`, sorted.
pub fn expand(pattern: &Path) -> Vec<PathBuf> {
    let mut current = vec![PathBuf::new()];
    for component in pattern.components() {
        let text = match component {
            Component::Normal(c) => c.to_string_lossy().into_owned(),
            other => {
                current.iter_mut().for_each(|p| p.push(other.as_os_str()));
                continue;
            }
        };
        if !has_wildcards(&text) {
            current.iter_mut().for_each(|p| p.push(&text));
            continue;
        }
        let mut next = Vec::new();
        for dir in &current {
            let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.') || text.starts_with('.'))
                .filter(|n| matches(text.as_bytes(), n.as_bytes()))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| dir.join(n)));
        }
        current = next;
    }
    current.retain(|p| p.is_file());
    current
}

/// Whether `name` matches the glob `pattern` (one path component).
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => {
            (0..=name.len()).any(|i| matches(rest, name.get(i..).unwrap_or_default()))
        }
        Some((b'?', rest)) => !name.is_empty() && matches(rest, name.get(1..).unwrap_or_default()),
        Some((b'[', rest)) => match (class(rest), name.split_first()) {
            (Some((set, negated, after)), Some((&c, tail))) => {
                set_contains(set, c) != negated && matches(after, tail)
            }
            (None, Some((&c, tail))) => c == b'[' && matches(rest, tail),
            (_, None) => false,
        },
        Some((&p, rest)) => {
            name.first() == Some(&p) && matches(rest, name.get(1..).unwrap_or_default())
        }
    }
}

/// A `[...]` class after its `[`: its members, whether negated, what follows.
fn class(rest: &[u8]) -> Option<(&[u8], bool, &[u8])> {
    let (negated, body) = match rest.first() {
        Some(b'!' | b'^') => (true, rest.get(1..)?),
        _ => (false, rest),
    };
    // A `]` first is a member, not the end.
    let end = body.iter().skip(1).position(|&c| c == b']')? + 1;
    Some((body.get(..end)?, negated, body.get(end + 1..)?))
}

fn set_contains(set: &[u8], c: u8) -> bool {
    let mut i = 0;
    while let Some(&a) = set.get(i) {
        if set.get(i + 1) == Some(&b'-')
            && let Some(&b) = set.get(i + 2)
        {
            if (a..=b).contains(&c) {
                return true;
            }
            i += 3;
            continue;
        }
        if a == c {
            return true;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_glob3() {
        assert!(matches(b"*.conf", b"a.conf"));
        assert!(!matches(b"*.conf", b"a.conf.bak"));
        assert!(matches(b"?.c*", b"a.conf"));
        assert!(matches(b"[ab].conf", b"b.conf"));
        assert!(!matches(b"[!ab].conf", b"b.conf"));
        assert!(matches(b"[a-c]x", b"cx"));
        assert!(matches(b"*", b""));
        assert!(!matches(b"[", b"a"));
        assert!(matches(b"[", b"["));
    }
}
