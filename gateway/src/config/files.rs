//! A static-files content handler's settings (NGINX's `root` / `alias`,
//! `index`, `try_files`, `expires`, `gzip_static`): the table as written
//! ([`FilesSection`]), its validated form ([`FilesConfig`], what `/config`
//! shows and what `crate::files::serve` reads) and the check between.
//!
//! ```toml
//! [routes.files]                 # wherever the route table puts it
//! root = "/srv/shop"             # or alias = "/srv/shop/assets/"
//! index = ["index.html"]
//! try_files = ["$uri", "$uri/", "/index.html"]   # last: a URI, "@name" or "=404"
//! expires = "7d"                 # "off", "epoch", "max", "-1h", ...
//! cache_control = "public"
//! precompressed = true           # .br / .zst / .gz siblings
//! dotfiles = false
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Checker, ConfigError};

/// The files table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilesSection {
    /// The directory the whole URI is appended to (`root`).
    pub(crate) root: Option<String>,
    /// The directory that replaces the route's prefix (`alias`).
    pub(crate) alias: Option<String>,
    /// File names tried, in order, for a URI ending with `/` (default
    /// `["index.html"]`; `[]` for none).
    pub(crate) index: Option<Vec<String>>,
    /// `try_files`: candidates (`$uri`, `$uri/`, `/literal`), then the
    /// fallback (a URI, `@name` or `=code`).
    #[serde(default)]
    pub(crate) try_files: Vec<String>,
    /// `expires`: `off` (default), `epoch`, `max`, or a duration such as
    /// `30s`, `12h`, `7d`, `-1h`.
    pub(crate) expires: Option<String>,
    /// Extra `Cache-Control` directives (`public`, `immutable`), after the
    /// `max-age` that `expires` sets.
    pub(crate) cache_control: Option<String>,
    /// Serve `.br`, `.zst`, `.gz` siblings to clients that accept them.
    pub(crate) precompressed: Option<bool>,
    /// Serve names starting with `.` (default false; `.well-known` always is).
    pub(crate) dotfiles: Option<bool>,
    /// The type of files whose extension is unknown (default
    /// `application/octet-stream`).
    pub(crate) default_type: Option<String>,
}

/// Where files come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FilesBase {
    /// `root`: the file is `root` + the whole URI.
    Root(PathBuf),
    /// `alias`: the file is `alias` + the URI after the route's prefix.
    Alias(PathBuf),
}

impl FilesBase {
    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        match self {
            FilesBase::Root(p) | FilesBase::Alias(p) => p,
        }
    }
}

/// One `try_files` candidate: text with `$uri` substituted; `dir` when it
/// ended with `/` (a directory is looked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TryCandidate {
    /// The template without its trailing `/` (`$uri`, `/maintenance.html`).
    pub(crate) template: String,
    /// Whether a directory (rather than a file) is looked for.
    pub(crate) dir: bool,
}

/// What happens when no `try_files` candidate exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TryFallback {
    /// An internal redirect to this URI (`$uri` substituted; may carry a
    /// `?query`): the router matches it again.
    Uri(String),
    /// The named route (`@app`, stored without the `@`).
    Named(String),
    /// Answer with this status (`=404`).
    Status(u16),
}

/// `try_files` validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TryFiles {
    /// The candidates, in order.
    pub(crate) candidates: Vec<TryCandidate>,
    /// The last entry.
    pub(crate) fallback: TryFallback,
}

/// `expires` validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Expires {
    /// No `Expires` or `Cache-Control` from the files handler.
    Off,
    /// `Expires: Thu, 01 Jan 1970 00:00:01 GMT`, `Cache-Control: no-cache`.
    Epoch,
    /// `Expires: Thu, 31 Dec 2037 23:55:55 GMT`, `Cache-Control: max-age=315360000`.
    Max,
    /// Now plus this many seconds (negative: in the past, `no-cache`).
    Seconds(i64),
}

/// A validated static-files handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FilesConfig {
    /// Root or alias (absolute, an existing directory when checked).
    pub(crate) base: FilesBase,
    /// Index file names.
    pub(crate) index: Vec<String>,
    /// `try_files`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) try_files: Option<TryFiles>,
    /// `expires`.
    pub(crate) expires: Expires,
    /// Extra `Cache-Control` directives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cache_control: Option<String>,
    /// Precompressed siblings served.
    pub(crate) precompressed: bool,
    /// Dotfiles served.
    pub(crate) dotfiles: bool,
    /// Type for unknown extensions.
    pub(crate) default_type: String,
}

/// Validate a files table at `key` (e.g. `routes[2].files`).
pub(in crate::config) fn validate(
    c: &Checker<'_>,
    key: &str,
    s: &FilesSection,
) -> Result<FilesConfig, ConfigError> {
    let base = match (&s.root, &s.alias) {
        (Some(_), Some(_)) => {
            return Err(c.err(
                format!("{key}.alias"),
                "give either `root` or `alias`, not both",
            ));
        }
        (None, None) => {
            return Err(c.err(
                format!("{key}.root"),
                "required: the directory files are served from (or `alias`)",
            ));
        }
        (Some(root), None) => FilesBase::Root(directory(c, &format!("{key}.root"), root)?),
        (None, Some(alias)) => FilesBase::Alias(directory(c, &format!("{key}.alias"), alias)?),
    };
    let index = match &s.index {
        None => vec!["index.html".to_string()],
        Some(names) => {
            let mut out = Vec::with_capacity(names.len());
            for (i, n) in names.iter().enumerate() {
                file_name(n).map_err(|p| c.err(format!("{key}.index[{i}]"), p))?;
                out.push(n.clone());
            }
            out
        }
    };
    let try_files = if s.try_files.is_empty() {
        None
    } else {
        Some(try_files(c, &format!("{key}.try_files"), &s.try_files)?)
    };
    let expires = match &s.expires {
        None => Expires::Off,
        Some(text) => parse_expires(text).map_err(|p| c.err(format!("{key}.expires"), p))?,
    };
    let cache_control = match s.cache_control.as_deref().map(str::trim) {
        None => None,
        Some("") => return Err(c.err(format!("{key}.cache_control"), "must not be empty")),
        Some(v) => {
            if http::HeaderValue::from_str(v).is_err() || !v.is_ascii() {
                return Err(c.err(
                    format!("{key}.cache_control"),
                    format!("`{v}` is not a valid header value"),
                ));
            }
            if expires != Expires::Off
                && v.split(',')
                    .any(|d| d.trim().to_ascii_lowercase().starts_with("max-age"))
            {
                return Err(c.err(
                    format!("{key}.cache_control"),
                    "`max-age` comes from `expires`; give it in one place",
                ));
            }
            Some(v.to_string())
        }
    };
    let default_type = match s.default_type.as_deref().map(str::trim) {
        None => "application/octet-stream".to_string(),
        Some(t) => {
            let valid = t
                .split_once('/')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
                && http::HeaderValue::from_str(t).is_ok();
            if !valid {
                return Err(c.err(
                    format!("{key}.default_type"),
                    format!("`{t}` is not a media type (e.g. application/octet-stream)"),
                ));
            }
            t.to_string()
        }
    };
    Ok(FilesConfig {
        base,
        index,
        try_files,
        expires,
        cache_control,
        precompressed: s.precompressed.unwrap_or(false),
        dotfiles: s.dotfiles.unwrap_or(false),
        default_type,
    })
}

/// An absolute path to an existing directory.
fn directory(c: &Checker<'_>, key: &str, text: &str) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(text);
    if text.is_empty() || !path.is_absolute() {
        return Err(c.err(key, format!("`{text}` must be an absolute path")));
    }
    if text.contains('\0') {
        return Err(c.err(key, "must not contain a NUL character"));
    }
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(path),
        Ok(_) => Err(c.err(key, format!("`{text}` is not a directory"))),
        Err(e) => Err(c.err(key, format!("`{text}`: {e}"))),
    }
}

/// A plain file name: no separators, not `.` / `..`, no NUL.
fn file_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("`{name}` is not a file name"));
    }
    if name.contains(['/', '\\', '\0']) {
        return Err(format!(
            "`{name}` must be a plain file name (no `/`, `\\` or NUL)"
        ));
    }
    Ok(())
}

fn try_files(c: &Checker<'_>, key: &str, entries: &[String]) -> Result<TryFiles, ConfigError> {
    let Some((last, candidates)) = entries.split_last() else {
        return Err(c.err(key, "give at least one candidate and a fallback"));
    };
    if candidates.is_empty() {
        return Err(c.err(
            key,
            "give at least one candidate and a fallback (e.g. [\"$uri\", \"=404\"])",
        ));
    }
    let mut out = Vec::with_capacity(candidates.len());
    for (i, e) in candidates.iter().enumerate() {
        let k = format!("{key}[{i}]");
        uri_template(e).map_err(|p| c.err(&k, p))?;
        let (template, dir) = match e.strip_suffix('/') {
            Some(t) if !t.is_empty() => (t.to_string(), true),
            _ => (e.clone(), false),
        };
        if template.contains('?') {
            return Err(c.err(&k, "only the fallback may carry a `?query`"));
        }
        out.push(TryCandidate { template, dir });
    }
    let k = format!("{key}[{}]", candidates.len());
    let fallback = if let Some(code) = last.strip_prefix('=') {
        match code.parse::<u16>() {
            Ok(n) if (200..=599).contains(&n) => TryFallback::Status(n),
            _ => {
                return Err(c.err(
                    &k,
                    format!("`{last}`: a status is `=` and a code from 200 to 599 (e.g. =404)"),
                ));
            }
        }
    } else if let Some(name) = last.strip_prefix('@') {
        if name.is_empty()
            || !name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
        {
            return Err(c.err(&k, format!("`{last}` is not a route name (e.g. @app)")));
        }
        TryFallback::Named(name.to_string())
    } else {
        uri_template(last).map_err(|p| c.err(&k, p))?;
        TryFallback::Uri(last.clone())
    };
    Ok(TryFiles {
        candidates: out,
        fallback,
    })
}

/// A URI template: starts with `/` or `$uri`, and names no variable but
/// `$uri` and (in a query) `$args` / `$query_string`.
fn uri_template(text: &str) -> Result<(), String> {
    if !(text.starts_with('/') || text.starts_with("$uri")) {
        return Err(format!(
            "`{text}` must start with `/` or `$uri` (or be `@name` / `=code` as the last entry)"
        ));
    }
    if text.contains(['\0', '\\', '#']) || text.chars().any(char::is_whitespace) {
        return Err(format!("`{text}` contains a character a URI cannot have"));
    }
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (text, None),
    };
    if path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(format!("`{text}` must not contain `.` or `..` segments"));
    }
    if let Some(name) = variables(path).find(|n| *n != "uri") {
        return Err(format!(
            "`${name}` is not known here (a path may use `$uri`)"
        ));
    }
    if let Some(name) = query
        .into_iter()
        .flat_map(variables)
        .find(|n| !matches!(*n, "args" | "query_string" | "uri"))
    {
        return Err(format!(
            "`${name}` is not known here (a query may use `$args`, `$query_string`, `$uri`)"
        ));
    }
    Ok(())
}

/// The names of the `$variables` in `text`.
fn variables(text: &str) -> impl Iterator<Item = &str> {
    text.split('$').skip(1).map(|after| {
        let len = after
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
            .unwrap_or(after.len());
        &after[..len]
    })
}

/// `off`, `epoch`, `max`, or `[-]N[unit]` with NGINX's units (`ms` is
/// refused: `max-age` counts seconds).
pub(crate) fn parse_expires(text: &str) -> Result<Expires, String> {
    let t = text.trim();
    match t {
        "off" => return Ok(Expires::Off),
        "epoch" => return Ok(Expires::Epoch),
        "max" => return Ok(Expires::Max),
        _ => {}
    }
    let (negative, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let (n, unit) = body.split_at(digits);
    let bad =
        || format!("`{text}` is not `off`, `epoch`, `max` or a duration (e.g. 30s, 12h, 7d, -1h)");
    let n: i64 = n.parse().map_err(|_| bad())?;
    let scale: i64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        "M" => 2_592_000,
        "y" => 31_536_000,
        _ => return Err(bad()),
    };
    // Up to 68 years keeps `now + n` inside every clock we meet.
    let secs = n
        .checked_mul(scale)
        .filter(|s| *s <= 68 * 31_536_000)
        .ok_or_else(|| format!("`{text}` is too long (at most 68 years; or `max`)"))?;
    Ok(Expires::Seconds(if negative { -secs } else { secs }))
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
