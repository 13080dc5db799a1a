//! Human-friendly durations (`"30s"`) and sizes (`"1MiB"`) in the config
//! file, and how `/config` shows durations.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

/// A duration as written in the file: whole seconds (`30`) or text with a
/// unit (`"500ms"`, `"30s"`, `"5m"`, `"1h"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DurationText {
    /// Whole seconds.
    Secs(u64),
    /// A number with a unit.
    Text(String),
}

/// The longest duration any setting takes: a year. Longer values are
/// refused at validation, so no timer anywhere overflows `Instant` (a
/// `client_idle = "999999999999h"` used to pass `gateway check` and then
/// kill a worker's parking task).
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

impl DurationText {
    /// The duration, or why the text is not one (or is over
    /// [`MAX_DURATION`]).
    pub(crate) fn parse(&self) -> Result<Duration, String> {
        let d = match self {
            DurationText::Secs(s) => Duration::from_secs(*s),
            DurationText::Text(t) => common::config::parse_duration(t)?,
        };
        if d > MAX_DURATION {
            return Err(format!(
                "{} is longer than the longest duration a setting takes (365 days)",
                self.as_written()
            ));
        }
        Ok(d)
    }

    /// The value as the file wrote it.
    fn as_written(&self) -> String {
        match self {
            DurationText::Secs(s) => format!("{s}s"),
            DurationText::Text(t) => format!("`{t}`"),
        }
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumberOrText {
            expecting: "a duration: whole seconds (30) or text with a unit (\"500ms\", \"30s\", \"5m\", \"1h\")",
            number: DurationText::Secs,
            text: DurationText::Text,
        })
    }
}

/// A size in bytes as written in the file: a number (`1048576`) or text with
/// a unit (`"1MiB"`, `"32KiB"`, `"512B"`, `"1MB"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SizeText {
    /// Bytes.
    Bytes(u64),
    /// A number with a unit.
    Text(String),
}

impl SizeText {
    /// The size in bytes, or why the text is not one.
    pub(crate) fn parse(&self) -> Result<u64, String> {
        match self {
            SizeText::Bytes(n) => Ok(*n),
            SizeText::Text(t) => parse_size(t),
        }
    }
}

impl<'de> Deserialize<'de> for SizeText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumberOrText {
            expecting: "a size in bytes: a number (1048576) or text with a unit (\"1MiB\", \"32KiB\", \"1MB\")",
            number: SizeText::Bytes,
            text: SizeText::Text,
        })
    }
}

/// Reads a non-negative integer or a string. Written by hand rather than
/// `#[serde(untagged)]`, whose refusal ("data did not match any variant of
/// untagged enum") names neither the value nor what was expected.
struct NumberOrText<T> {
    expecting: &'static str,
    number: fn(u64) -> T,
    text: fn(String) -> T,
}

impl<T> Visitor<'_> for NumberOrText<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok((self.number)(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(n) => Ok((self.number)(n)),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.text)(v.to_string()))
    }
}

/// Parse `"1MiB"`, `"32KiB"`, `"1MB"`, `"512B"` or a bare number of bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (n, unit) = common::config::number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a size (expected e.g. 1MiB, 32KiB, 4096)"))?;
    let factor: u64 = match unit {
        "" | "B" => 1,
        "KiB" => 1024,
        "MiB" => 1024 * 1024,
        "GiB" => 1024 * 1024 * 1024,
        "KB" | "kB" => 1000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}` (use B, KiB, MiB, GiB, KB, MB or GB)"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A duration as `/config` shows it: `"1500ms"`.
pub(super) fn serialize_millis<S: serde::Serializer>(
    d: &Duration,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{}ms", d.as_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_binary_and_decimal_units() {
        assert_eq!(parse_size("1MiB"), Ok(1024 * 1024));
        assert_eq!(parse_size("32KiB"), Ok(32 * 1024));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("17"), Ok(17));
        assert!(parse_size("1 parsec").is_err());
        assert!(parse_size("big").is_err());
    }
}
