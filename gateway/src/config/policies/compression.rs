//! `[routes.compression]`: which encodings the gateway may apply to the
//! route's responses (gzip, brotli, zstd; the client's `Accept-Encoding`
//! chooses), to which content types, above which size, at which level.

use serde::{Deserialize, Serialize};

use super::super::error::{Checker, ConfigError};
use super::super::units::SizeText;

/// Default smallest body compressed (a declared `Content-Length` below it
/// is sent as it is; an undeclared length is compressed).
pub(crate) const DEFAULT_MIN_SIZE: u64 = 1024;

/// Content types compressed by default (`type/*` and `+suffix` patterns
/// allowed): text and the structured formats the APIs answer with.
const DEFAULT_TYPES: &[&str] = &[
    "text/*",
    "application/json",
    "application/*+json",
    "application/javascript",
    "application/xml",
    "application/*+xml",
    "application/x-ndjson",
    "image/svg+xml",
];

/// An encoding the gateway can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) enum Algorithm {
    /// `gzip` (flate2).
    #[serde(rename = "gzip")]
    Gzip,
    /// `br` (brotli).
    #[serde(rename = "br")]
    Brotli,
    /// `zstd`.
    #[serde(rename = "zstd")]
    Zstd,
}

impl Algorithm {
    /// The `Content-Encoding` token.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Algorithm::Gzip => "gzip",
            Algorithm::Brotli => "br",
            Algorithm::Zstd => "zstd",
        }
    }
}

/// `[routes.compression]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompressionSection {
    /// Encodings offered, preferred first when the client likes several
    /// equally (default `["zstd", "br", "gzip"]`).
    pub(crate) algorithms: Option<Vec<String>>,
    /// Smallest body compressed (default 1KiB).
    pub(crate) min_size: Option<SizeText>,
    /// Content types compressed (default: text and JSON/XML/JS/SVG).
    pub(crate) types: Option<Vec<String>>,
    /// gzip level 1-9 (default 6).
    pub(crate) gzip_level: Option<u32>,
    /// brotli quality 0-11 (default 4).
    pub(crate) brotli_level: Option<u32>,
    /// zstd level 1-19 (default 3).
    pub(crate) zstd_level: Option<i32>,
}

/// A validated compression policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CompressionConfig {
    /// Offered encodings, preferred first.
    pub(crate) algorithms: Vec<Algorithm>,
    /// Smallest declared length compressed.
    pub(crate) min_size: u64,
    /// Lower-case type patterns.
    pub(crate) types: Vec<String>,
    /// gzip level.
    pub(crate) gzip_level: u32,
    /// brotli quality.
    pub(crate) brotli_level: u32,
    /// zstd level.
    pub(crate) zstd_level: i32,
}

/// Validate `[routes.compression]`.
pub(super) fn validate(
    c: &Checker<'_>,
    key: &str,
    s: &CompressionSection,
) -> Result<CompressionConfig, ConfigError> {
    let mut algorithms = Vec::new();
    let listed = s
        .algorithms
        .clone()
        .unwrap_or_else(|| vec!["zstd".into(), "br".into(), "gzip".into()]);
    if listed.is_empty() {
        return Err(c.err(
            format!("{key}.algorithms"),
            "at least one of gzip, br, zstd is required (remove the table to turn compression off)",
        ));
    }
    for (i, a) in listed.iter().enumerate() {
        let k = format!("{key}.algorithms[{i}]");
        let algorithm = match a.trim().to_ascii_lowercase().as_str() {
            "gzip" => Algorithm::Gzip,
            "br" | "brotli" => Algorithm::Brotli,
            "zstd" => Algorithm::Zstd,
            _ => return Err(c.err(k, format!("`{a}` is not an encoding (gzip, br, zstd)"))),
        };
        if algorithms.contains(&algorithm) {
            return Err(c.err(k, format!("`{a}` is listed twice")));
        }
        algorithms.push(algorithm);
    }
    let mut types = Vec::new();
    match &s.types {
        None => types.extend(DEFAULT_TYPES.iter().map(|t| (*t).to_string())),
        Some(listed) => {
            if listed.is_empty() {
                return Err(c.err(
                    format!("{key}.types"),
                    "at least one content type is required",
                ));
            }
            for (i, t) in listed.iter().enumerate() {
                let lower = t.trim().to_ascii_lowercase();
                let valid = lower.split_once('/').is_some_and(|(ty, sub)| {
                    let token = |s: &str| {
                        !s.is_empty()
                            && s.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-*".contains(&b))
                    };
                    token(ty) && ty != "*" && token(sub)
                });
                if !valid {
                    return Err(c.err(
                        format!("{key}.types[{i}]"),
                        format!("`{t}` is not a content type pattern (e.g. text/*, application/json, application/*+json)"),
                    ));
                }
                types.push(lower);
            }
        }
    }
    let level = |field: &str, value: Option<u32>, default: u32, max: u32, min: u32| {
        let v = value.unwrap_or(default);
        if v < min || v > max {
            return Err(c.err(
                format!("{key}.{field}"),
                format!("{v} is out of range ({min} to {max})"),
            ));
        }
        Ok(v)
    };
    let gzip_level = level("gzip_level", s.gzip_level, 6, 9, 1)?;
    let brotli_level = level("brotli_level", s.brotli_level, 4, 11, 0)?;
    let zstd_level = s.zstd_level.unwrap_or(3);
    if !(1..=19).contains(&zstd_level) {
        return Err(c.err(
            format!("{key}.zstd_level"),
            format!("{zstd_level} is out of range (1 to 19)"),
        ));
    }
    Ok(CompressionConfig {
        algorithms,
        min_size: c.size(&format!("{key}.min_size"), &s.min_size, DEFAULT_MIN_SIZE)?,
        types,
        gzip_level,
        brotli_level,
        zstd_level,
    })
}
