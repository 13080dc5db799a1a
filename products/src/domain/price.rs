//! An exact, non-negative price with at most two decimal places.

use std::fmt;

use serde::de::Expected;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::json_number::{Literal, literal};

/// A price: exact decimal, `>= 0`, at most 2 decimal places, at most
/// [`Price::MAX`]. Stored as integer minor units; serialised as a string
/// with two decimals (`"19.99"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(i64);

/// Why a price was refused; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// Not a decimal number at all.
    #[error("must be a decimal number such as \"19.99\"")]
    NotANumber,
    /// Below zero.
    #[error("must not be negative")]
    Negative,
    /// More than two decimal places.
    #[error("must have at most 2 decimal places")]
    TooPrecise,
    /// Above the maximum.
    #[error("must be at most 99999999.99")]
    TooLarge,
}

impl Price {
    /// Free.
    pub const ZERO: Price = Price(0);

    /// The largest accepted price in minor units (99,999,999.99).
    pub const MAX_MINOR: i64 = 9_999_999_999;

    /// Parse a decimal text such as `19.99`, `20` or `0.5`, digit by
    /// digit (never through a float or a rounding decimal type): trailing
    /// zeros after the point are insignificant (`1.230` is 1.23), any other
    /// third decimal is refused. A leading `-` is refused as negative;
    /// other signs, exponents, spaces and digit separators are not numbers.
    pub fn parse(text: &str) -> Result<Price, PriceError> {
        let unsigned = text.strip_prefix('-');
        let digits = unsigned.unwrap_or(text);
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || (digits.contains('.') && fraction.is_empty())
        {
            return Err(PriceError::NotANumber);
        }
        if unsigned.is_some() {
            return Err(PriceError::Negative);
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 2 {
            return Err(PriceError::TooPrecise);
        }
        let whole = whole.trim_start_matches('0');
        // At most 8 digits before the point: anything longer is over MAX.
        if whole.len() > 8 {
            return Err(PriceError::TooLarge);
        }
        let number = |s: &str| s.parse::<i64>().map_err(|_| PriceError::NotANumber);
        let whole = if whole.is_empty() { 0 } else { number(whole)? };
        let cents = number(&format!("{fraction:0<2}"))?;
        Price::from_minor_units(whole * 100 + cents)
    }

    /// A price from integer minor units (cents).
    pub fn from_minor_units(minor: i64) -> Result<Price, PriceError> {
        match minor {
            m if m < 0 => Err(PriceError::Negative),
            m if m > Self::MAX_MINOR => Err(PriceError::TooLarge),
            m => Ok(Price(m)),
        }
    }

    /// The price in minor units (1999 for 19.99), as stored.
    pub fn minor_units(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The text of an accepted price, as a regular expression: digits, at most
/// 8 of them significant before the point, at most 2 significant after it.
/// It is what [`Price::parse`] accepts, stated for the OpenAPI document.
pub const TEXT_PATTERN: &str = r"^0*[0-9]{1,8}(\.[0-9]{1,2}0*)?$";

/// The OpenAPI schema of a price in a request body: a string of
/// [`TEXT_PATTERN`], or a JSON number from 0 to the maximum in steps of
/// 0.01 (taken by its own text, so `19.99` is exact).
pub fn input_schema(description: &str) -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let text = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(TEXT_PATTERN))
        .examples(["19.99"]);
    let number = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0))
        .maximum(Some(99_999_999.99))
        .multiple_of(Some(0.01));
    AnyOfBuilder::new()
        .item(text)
        .item(number)
        .description(Some(description))
        .into()
}

/// A price as a client sent it: a JSON string or number, not yet checked.
/// A number is taken by its own text (see [`super::json_number`]), so
/// `19.99` is exactly 19.99 and `19.999999999999999999` is refused for its
/// third decimal rather than rounded to 20.00 by a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceInput(pub String);

impl PriceInput {
    /// Check it.
    pub fn parse(&self) -> Result<Price, PriceError> {
        Price::parse(&self.0)
    }
}

struct ADecimal;

impl Expected for ADecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number or a string such as \"19.99\"")
    }
}

impl<'de> Deserialize<'de> for PriceInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match literal(deserializer, &ADecimal)? {
            // JSON's `-0` (or `-0.0`) is zero, not a negative number.
            Literal::Number(text) => match text.strip_prefix('-') {
                Some(zero) if zero.bytes().all(|b| matches!(b, b'0' | b'.')) => {
                    Ok(PriceInput(zero.to_string()))
                }
                _ => Ok(PriceInput(text)),
            },
            Literal::Text(text) => Ok(PriceInput(text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_up_to_two_decimals_and_prints_two() {
        assert_eq!(
            Price::parse("19.99").map(|p| p.to_string()),
            Ok("19.99".into())
        );
        assert_eq!(
            Price::parse("20").map(|p| p.to_string()),
            Ok("20.00".into())
        );
        assert_eq!(Price::parse("0.5").map(|p| p.minor_units()), Ok(50));
        assert_eq!(Price::parse("0").map(|p| p.to_string()), Ok("0.00".into()));
        assert_eq!(Price::parse("1.230").map(|p| p.minor_units()), Ok(123));
    }

    #[test]
    fn refuses_negative_imprecise_huge_and_malformed() {
        assert_eq!(Price::parse("-1"), Err(PriceError::Negative));
        assert_eq!(Price::parse("1.999"), Err(PriceError::TooPrecise));
        assert_eq!(Price::parse("100000000"), Err(PriceError::TooLarge));
        assert_eq!(
            Price::parse("99999999999999999999999999999999999"),
            Err(PriceError::TooLarge)
        );
        for bad in [
            "", "abc", "1e3", "1_000", " 1", "1.", ".5", "+1", "1,5", "NaN",
        ] {
            assert_eq!(Price::parse(bad), Err(PriceError::NotANumber), "{bad}");
        }
    }

    #[test]
    fn numbers_in_json_are_read_exactly() {
        let input: PriceInput = serde_json::from_str("19.99").expect("number");
        assert_eq!(input.parse().map(|p| p.minor_units()), Ok(1999));
        let input: PriceInput = serde_json::from_str("0.1").expect("number");
        assert_eq!(input.parse().map(|p| p.minor_units()), Ok(10));
        let input: PriceInput = serde_json::from_str("\"5.00\"").expect("string");
        assert_eq!(input.parse().map(|p| p.minor_units()), Ok(500));
        assert!(serde_json::from_str::<PriceInput>("true").is_err());
    }

    #[test]
    fn digits_beyond_any_decimal_precision_are_refused_not_rounded() {
        assert_eq!(
            Price::parse("1.00000000000000000000000000001"),
            Err(PriceError::TooPrecise)
        );
        assert_eq!(
            Price::parse("19.990000000000000000000000000000"),
            Ok(Price(1999))
        );
    }

    #[test]
    fn json_numbers_are_read_from_their_text_not_through_f64() {
        let input: PriceInput = serde_json::from_str("19.999999999999999999").expect("number");
        assert_eq!(input.parse(), Err(PriceError::TooPrecise));
        let input: PriceInput = serde_json::from_str("1e2").expect("number");
        assert_eq!(input.parse(), Err(PriceError::NotANumber));
        let input: PriceInput =
            serde_json::from_str("123456789012345678901234567890").expect("number");
        assert_eq!(input.parse(), Err(PriceError::TooLarge));
    }

    #[test]
    fn parse_accepts_exactly_the_documented_text_pattern() {
        // Each text with whether TEXT_PATTERN matches it (checked with a
        // regular-expression engine when the table was written).
        assert_eq!(TEXT_PATTERN, r"^0*[0-9]{1,8}(\.[0-9]{1,2}0*)?$");
        for (text, matches) in [
            ("0", true),
            ("00", true),
            ("19.99", true),
            ("1.230", true),
            ("1.5", true),
            ("0.05", true),
            ("99999999.99", true),
            ("000099999999", true),
            ("123456789", false),
            ("1.", false),
            (".5", false),
            ("-1", false),
            ("-0", false),
            ("1.234", false),
            ("1.2301", false),
            ("1.0050", false),
            ("1.000000", true),
            ("+1", false),
            ("1e2", false),
            (" 1", false),
            ("1 ", false),
            ("1,5", false),
            ("١", false),
            ("0x10", false),
            ("", false),
            (".", false),
        ] {
            assert_eq!(Price::parse(text).is_ok(), matches, "{text:?}");
        }
    }

    #[test]
    fn json_negative_zero_is_zero_but_a_negative_zero_string_is_refused() {
        for json in ["-0", "-0.0", "-0.00"] {
            let input: PriceInput = serde_json::from_str(json).expect("a number");
            assert_eq!(input.parse(), Ok(Price::ZERO), "{json}");
        }
        let input: PriceInput = serde_json::from_str("\"-0\"").expect("a string");
        assert_eq!(input.parse(), Err(PriceError::Negative));
    }

    #[test]
    fn serialises_as_a_string() {
        let price = Price::parse("7.5").expect("price");
        assert_eq!(serde_json::to_string(&price).expect("json"), "\"7.50\"");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn every_price_reads_back_from_its_display(minor in 0..=Price::MAX_MINOR) {
                let price = Price::from_minor_units(minor).expect("in range");
                let text = price.to_string();
                let (_, decimals) = text.split_once('.').expect("a point");
                prop_assert_eq!(decimals.len(), 2);
                prop_assert_eq!(Price::parse(&text), Ok(price));
            }

            #[test]
            fn parsing_any_text_never_panics(text in any::<String>()) {
                let _ = Price::parse(&text);
            }

            #[test]
            fn an_accepted_decimal_has_at_most_two_significant_decimals_and_no_sign(
                text in "-?[0-9]{1,12}(\\.[0-9]{1,8})?",
            ) {
                if let Ok(price) = Price::parse(&text) {
                    prop_assert!(!text.starts_with('-'));
                    let fraction = text.split_once('.').map_or("", |(_, f)| f);
                    prop_assert!(fraction.trim_end_matches('0').len() <= 2);
                    prop_assert_eq!(Price::parse(&price.to_string()), Ok(price));
                }
            }

            #[test]
            fn a_third_significant_decimal_is_always_refused(
                whole in 0u64..100_000_000,
                decimals in "[0-9]{2,30}[1-9]",
            ) {
                let text = format!("{whole}.{decimals}");
                prop_assert_eq!(Price::parse(&text), Err(PriceError::TooPrecise));
            }

            #[test]
            fn a_negative_price_is_always_refused(text in "-[0-9]{1,12}(\\.[0-9]{1,4})?") {
                prop_assert_eq!(Price::parse(&text), Err(PriceError::Negative));
            }

            #[test]
            fn a_json_number_reaches_the_parser_as_written(
                text in "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?",
            ) {
                let input: PriceInput = serde_json::from_str(&text).expect("a JSON number");
                // Negative zero (`-0`, `-0.00`) is zero; the rest as written.
                let zero = text.strip_prefix('-').filter(|z| z.bytes().all(|b| matches!(b, b'0' | b'.')));
                prop_assert_eq!(input.0, zero.unwrap_or(&text));
            }
        }
    }
}
