//! ISO 4217 currency codes.

use std::fmt;

use serde::{Serialize, Serializer};

/// An active ISO 4217 alphabetic currency code (`USD`, `EUR`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(&'static str);

/// Active ISO 4217 codes (list one, 2024), including fund codes.
const CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UYW",
    "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR",
    "ZMW", "ZWG", "ZWL", "CLF", "COU", "MXV", "USN", "UYI", "CHE", "CHW", "BOV", "XDR", "XSU",
];

/// Why a currency was refused; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// Not three upper-case letters.
    #[error("must be an ISO 4217 code of 3 upper-case letters, such as \"USD\"")]
    Malformed,
    /// Well-formed but not an ISO 4217 code.
    #[error("is not an ISO 4217 currency code")]
    Unknown,
}

impl Currency {
    /// The default currency.
    pub const USD: Currency = Currency("USD");

    /// Accept an active ISO 4217 code; lower case is refused.
    pub fn parse(code: &str) -> Result<Currency, CurrencyError> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(CurrencyError::Malformed);
        }
        CODES
            .iter()
            .find(|known| **known == code)
            .map(|known| Currency(known))
            .ok_or(CurrencyError::Unknown)
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.0
    }

    /// The OpenAPI schema of a code in a request: one of the active codes
    /// (`null` too when `nullable`).
    pub fn schema(nullable: bool) -> utoipa::openapi::schema::ObjectBuilder {
        let codes = CODES.iter().map(|c| serde_json::Value::from(*c));
        let codes: Vec<serde_json::Value> = if nullable {
            codes.chain([serde_json::Value::Null]).collect()
        } else {
            codes.collect()
        };
        common::input::string(nullable)
            .enum_values(Some(codes))
            .examples(["USD"])
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iso_codes() {
        assert_eq!(Currency::parse("EUR").map(Currency::code), Ok("EUR"));
        assert_eq!(Currency::parse("JPY").map(Currency::code), Ok("JPY"));
    }

    #[test]
    fn refuses_malformed_and_unknown_codes() {
        assert_eq!(Currency::parse("usd"), Err(CurrencyError::Malformed));
        assert_eq!(Currency::parse("US"), Err(CurrencyError::Malformed));
        assert_eq!(Currency::parse("DOLLAR"), Err(CurrencyError::Malformed));
        assert_eq!(Currency::parse("XYZ"), Err(CurrencyError::Unknown));
    }

    #[test]
    fn codes_are_unique() {
        let mut codes = CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CODES.len());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn three_upper_case_letters(code: &str) -> bool {
            code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn only_three_upper_case_ascii_letters_are_accepted(code in any::<String>()) {
                if let Ok(currency) = Currency::parse(&code) {
                    prop_assert!(three_upper_case_letters(&code));
                    prop_assert_eq!(currency.code(), code.as_str());
                } else if !three_upper_case_letters(&code) {
                    prop_assert_eq!(Currency::parse(&code), Err(CurrencyError::Malformed));
                }
            }

            #[test]
            fn three_upper_case_letters_are_well_formed(code in "[A-Z]{3}") {
                prop_assert_ne!(Currency::parse(&code), Err(CurrencyError::Malformed));
                prop_assert_eq!(Currency::parse(&code).is_ok(), CODES.contains(&code.as_str()));
            }

            #[test]
            fn anything_near_a_code_is_malformed(code in "[A-Za-z]{0,5}") {
                let expected_malformed = !three_upper_case_letters(&code);
                prop_assert_eq!(
                    Currency::parse(&code) == Err(CurrencyError::Malformed),
                    expected_malformed
                );
            }
        }
    }
}
