//! Numbers in request bodies, read from the text the client wrote.
//!
//! serde_json hands a visitor an `f64` for any number with a fraction or
//! beyond `u64`, so `19.999999999999999999` would arrive as `20.0` and
//! `1e400` would not arrive at all. Fields that must be exact take the
//! value's own JSON text instead (serde_json's `RawValue`) and parse that.

use std::fmt;
use std::ops::RangeInclusive;

use serde::de::{Error, Expected, Unexpected};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// A JSON value that is a number or a string, as written.
pub(crate) enum Literal {
    /// A number's text, e.g. `19.990`, `-1`, `1e400`.
    Number(String),
    /// A string's (unescaped) contents.
    Text(String),
}

/// Read the next value as a [`Literal`]; anything else is refused with
/// "invalid type ..., expected `expected`" (a `422` naming the field).
pub(crate) fn literal<'de, D: Deserializer<'de>>(
    deserializer: D,
    expected: &dyn Expected,
) -> Result<Literal, D::Error> {
    let raw = Box::<RawValue>::deserialize(deserializer)?;
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str(text)
            .map(Literal::Text)
            .map_err(D::Error::custom),
        Some(b'-' | b'0'..=b'9') => Ok(Literal::Number(text.to_string())),
        Some(b't' | b'f') => Err(D::Error::invalid_type(
            Unexpected::Bool(text == "true"),
            expected,
        )),
        Some(b'[') => Err(D::Error::invalid_type(Unexpected::Seq, expected)),
        Some(b'{') => Err(D::Error::invalid_type(Unexpected::Map, expected)),
        _ => Err(D::Error::invalid_type(Unexpected::Unit, expected)),
    }
}

/// A whole number as written in JSON, not yet range-checked; any size, so
/// an out-of-range value is refused by [`WholeNumber::in_range`] with the
/// range rather than by the JSON reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholeNumber(String);

impl WholeNumber {
    /// The value, if it is a whole number within `range`; else the message
    /// for the client. As in JSON Schema, a number is whole by its value,
    /// not its spelling: `20.0` and `2e1` are 20, `2.5` is not whole.
    pub fn in_range(&self, range: RangeInclusive<i64>) -> Result<i64, String> {
        whole_value(&self.0)
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                )
            })
    }
}

/// The integer a JSON number's text denotes, if it is whole and fits an
/// `i64`; computed on the digits, never through a float.
fn whole_value(text: &str) -> Option<i64> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.strip_prefix('+').unwrap_or(e).parse::<i32>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = [whole, fraction].concat();
    if whole.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    // Where the decimal point falls within `significant` once the exponent
    // moves it; every digit after it must be zero.
    let leading_zeros = digits.len() - significant.len();
    let point = i64::from(exponent) + whole.len() as i64 - leading_zeros as i64;
    let significant = significant.trim_end_matches('0');
    if point < significant.len() as i64 {
        return None;
    }
    // An i64 has at most 19 digits.
    if point > 19 {
        return None;
    }
    let zeros = "0".repeat(point as usize - significant.len());
    let magnitude: i128 = format!("{significant}{zeros}").parse().ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

struct AWholeNumber;

impl Expected for AWholeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }
}

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match literal(deserializer, &AWholeNumber)? {
            Literal::Number(text) => Ok(WholeNumber(text)),
            Literal::Text(text) => Err(D::Error::invalid_type(
                Unexpected::Str(&text),
                &AWholeNumber,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(json: &str) -> WholeNumber {
        serde_json::from_str(json).expect("a number")
    }

    #[test]
    fn whole_numbers_of_any_size_are_read_and_range_checked() {
        assert_eq!(whole("42").in_range(0..=100), Ok(42));
        assert_eq!(whole("-5").in_range(-10..=10), Ok(-5));
        for out in [
            "101",
            "-1",
            "9223372036854775808",
            "1e400",
            "1.5",
            "1.05e1",
            "1e-1",
        ] {
            assert_eq!(
                whole(out).in_range(0..=100),
                Err("must be a whole number from 0 to 100".to_string()),
                "{out}"
            );
        }
    }

    #[test]
    fn a_number_is_whole_by_its_value_not_its_spelling() {
        for (json, value) in [
            ("20.0", 20),
            ("-826.000", -826),
            ("2e1", 20),
            ("2E+1", 20),
            ("1.5e1", 15),
            ("1500e-2", 15),
            ("0.0", 0),
            ("-0", 0),
            ("0e999999", 0),
            ("100", 100),
            ("0.001e5", 100),
        ] {
            assert_eq!(whole(json).in_range(-1000..=1000), Ok(value), "{json}");
        }
        assert_eq!(
            whole("9223372036854775807").in_range(i64::MIN..=i64::MAX),
            Ok(i64::MAX)
        );
        assert_eq!(
            whole("-9.223372036854775808e18").in_range(i64::MIN..=i64::MAX),
            Ok(i64::MIN)
        );
        assert!(whole("9.3e18").in_range(i64::MIN..=i64::MAX).is_err());
        assert!(whole("1e2147483647").in_range(i64::MIN..=i64::MAX).is_err());
    }

    #[test]
    fn strings_and_other_types_are_not_whole_numbers() {
        for json in ["\"5\"", "true", "[1]", "{}"] {
            let err = serde_json::from_str::<WholeNumber>(json).expect_err(json);
            assert!(err.to_string().contains("expected a whole number"), "{err}");
        }
    }
}
