//! An exact, non-negative price with at most two decimal places.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

    /// Parse a decimal text such as `19.99`, `20` or `0.5`. Signs other
    /// than a leading `-` (which is refused as negative), exponents, spaces
    /// and digit separators are not accepted.
    pub fn parse(text: &str) -> Result<Price, PriceError> {
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || (unsigned.contains('.') && fraction.is_empty())
        {
            return Err(PriceError::NotANumber);
        }
        let value = Decimal::from_str(text).map_err(|_| PriceError::TooLarge)?;
        Price::from_decimal(value)
    }

    /// Accept an exact decimal value.
    pub fn from_decimal(value: Decimal) -> Result<Price, PriceError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(PriceError::Negative);
        }
        let value = value.normalize();
        if value.scale() > 2 {
            return Err(PriceError::TooPrecise);
        }
        let minor = value
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|m| i64::try_from(m).ok())
            .ok_or(PriceError::TooLarge)?;
        Price::from_minor_units(minor)
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

    /// The exact decimal value, scale 2.
    pub fn as_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
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

/// A price as a client sent it: a JSON string or number, not yet checked.
/// Numbers are taken by their shortest decimal form, so `19.99` is exactly
/// 19.99, never 19.989999...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceInput(pub String);

impl PriceInput {
    /// Check it.
    pub fn parse(&self) -> Result<Price, PriceError> {
        Price::parse(&self.0)
    }
}

impl<'de> Deserialize<'de> for PriceInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = PriceInput;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number or a string such as \"19.99\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PriceInput, E> {
                Ok(PriceInput(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PriceInput, E> {
                Ok(PriceInput(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PriceInput, E> {
                Ok(PriceInput(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<PriceInput, E> {
                // Rust prints the shortest text that reads back as `v`,
                // without an exponent: what the client wrote.
                Ok(PriceInput(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
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
    fn serialises_as_a_string() {
        let price = Price::parse("7.5").expect("price");
        assert_eq!(serde_json::to_string(&price).expect("json"), "\"7.50\"");
    }
}
