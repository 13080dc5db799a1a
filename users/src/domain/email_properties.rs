//! Property tests of the email parser, bounded to 256 cases each so the
//! suite stays fast.

use proptest::prelude::*;

use super::email::{Email, fold};

fn bounded() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text shaped like an address, mixing case, decomposed and compatibility
/// characters, punycode and the characters an address must not contain.
fn address_like() -> impl Strategy<Value = String> {
    "[ ]?[a-zA-Z0-9ÜüÄäÏïß.+_\u{308}\u{301}ＡＢ＠Ⅻ -]{1,20}[@＠][a-zA-Z0-9äÄÉé.\u{308}ｃ_-]{1,20}\\.(com|COM|ｃｏｍ|xn--exmple-cua|de|1)[ ]?"
}

proptest! {
    #![proptest_config(bounded())]

    #[test]
    fn parsing_never_panics_on_arbitrary_text(raw in any::<String>()) {
        let _ = Email::parse(&raw);
    }

    #[test]
    fn parsing_never_panics_on_address_like_text(raw in address_like()) {
        let _ = Email::parse(&raw);
    }

    #[test]
    fn a_parsed_address_parses_back_to_itself(raw in address_like()) {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert_eq!(Email::parse(&email.to_string()), Ok(email));
        }
    }

    #[test]
    fn folding_is_idempotent(raw in any::<String>()) {
        let once = fold(&raw);
        prop_assert_eq!(fold(&once), once);
    }

    #[test]
    fn folding_address_like_text_is_idempotent(raw in address_like()) {
        let once = fold(&raw);
        prop_assert_eq!(fold(&once), once);
    }

    #[test]
    fn a_normalised_address_is_already_folded(raw in address_like()) {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert_eq!(fold(email.as_str()), email.as_str());
        }
    }
}
