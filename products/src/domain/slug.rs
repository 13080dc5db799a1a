//! URL names of products.

use std::fmt;

use serde::{Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A slug: 1-200 characters of `a-z 0-9` in words joined by single `-`
/// (`blue-widget-x`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

/// Why a slug was refused; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// Not of the slug form.
    #[error(
        "must be 1 to 200 characters of a-z and 0-9 in words joined by single hyphens, such as \"blue-widget-x\""
    )]
    Malformed,
}

/// The longest slug, in characters (all ASCII).
pub const MAX_LEN: usize = 200;

/// The slug form as a regular expression (with [`MAX_LEN`] as `maxLength`).
pub const PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

/// The slug of a title with no letter or digit to keep (`"!!!"`, `"日本"`).
pub const FALLBACK: &str = "product";

impl Slug {
    /// Accept a slug exactly as given.
    pub fn parse(text: &str) -> Result<Slug, SlugError> {
        let well_formed = !text.is_empty()
            && text.len() <= MAX_LEN
            && text
                .split('-')
                .all(|word| !word.is_empty() && word.bytes().all(is_slug_byte));
        if well_formed {
            Ok(Slug(text.to_string()))
        } else {
            Err(SlugError::Malformed)
        }
    }

    /// Derive a slug from a title: lower-cased, ASCII-folded (accents
    /// dropped, `ß` -> `ss`), every run of other characters one `-`,
    /// trimmed, cut at 200 characters on a word boundary; [`FALLBACK`] when
    /// nothing is left (the title has no letter or digit in Latin script).
    pub fn derive(title: &str) -> Slug {
        let mut slug = String::with_capacity(title.len());
        let mut pending_dash = false;
        for c in title.nfkd().filter(|c| !is_combining_mark(*c)) {
            let folded = fold(c);
            for c in folded.chars() {
                let c = c.to_ascii_lowercase();
                if c.is_ascii_alphanumeric() {
                    if pending_dash && !slug.is_empty() {
                        slug.push('-');
                    }
                    pending_dash = false;
                    slug.push(c);
                } else {
                    pending_dash = true;
                }
            }
        }
        if slug.len() > MAX_LEN {
            slug.truncate(MAX_LEN);
            if let Some(cut) = slug.rfind('-') {
                slug.truncate(cut);
            }
        }
        if slug.is_empty() {
            slug.push_str(FALLBACK);
        }
        Slug(slug)
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_slug_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// ASCII for letters that have no decomposition; others pass unchanged.
fn fold(c: char) -> std::borrow::Cow<'static, str> {
    let s = match c {
        'ß' => "ss",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'ø' => "o",
        'Ø' => "O",
        'đ' | 'ð' => "d",
        'Đ' | 'Ð' => "D",
        'ł' => "l",
        'Ł' => "L",
        'þ' => "th",
        'Þ' => "TH",
        'ı' => "i",
        other => return std::borrow::Cow::Owned(other.to_string()),
    };
    std::borrow::Cow::Borrowed(s)
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Slug {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(title: &str) -> String {
        Slug::derive(title).to_string()
    }

    #[test]
    fn derives_from_titles() {
        assert_eq!(derived("Blue Widget X"), "blue-widget-x");
        assert_eq!(derived("  --Hello,   World!--  "), "hello-world");
        assert_eq!(derived("Crème Brûlée Set"), "creme-brulee-set");
        assert_eq!(derived("Straße & Øl"), "strasse-ol");
        assert_eq!(derived("USB-C 65W Charger"), "usb-c-65w-charger");
        assert_eq!(derived("ﬁne ①"), "fine-1");
    }

    #[test]
    fn long_titles_are_cut_on_a_word_boundary() {
        let slug = derived(&"word ".repeat(100));
        assert!(slug.len() <= 200);
        assert!(slug.ends_with("word"));
    }

    #[test]
    fn titles_without_latin_letters_or_digits_get_the_fallback() {
        assert_eq!(derived("!!!"), FALLBACK);
        assert_eq!(derived("日本"), FALLBACK);
        assert_eq!(
            Slug::parse(FALLBACK).map(|s| s.to_string()),
            Ok(FALLBACK.into())
        );
    }

    #[test]
    fn given_slugs_must_already_be_well_formed() {
        assert!(Slug::parse("blue-widget-2").is_ok());
        for bad in ["", "Blue", "a--b", "-a", "a-", "a b", "é", &"a".repeat(201)] {
            assert_eq!(Slug::parse(bad), Err(SlugError::Malformed), "{bad}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn is_slug_form(slug: &str) -> bool {
            !slug.is_empty()
                && slug.len() <= MAX_LEN
                && slug.bytes().all(|b| is_slug_byte(b) || b == b'-')
                && !slug.starts_with('-')
                && !slug.ends_with('-')
                && !slug.contains("--")
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn a_derived_slug_is_in_slug_form(title in any::<String>()) {
                let slug = Slug::derive(&title);
                prop_assert!(is_slug_form(slug.as_str()), "{:?} -> {:?}", title, slug);
                prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
            }

            #[test]
            fn a_derived_slug_is_in_slug_form_for_wordy_titles(
                title in "[ -~À-ɏ]{0,300}",
            ) {
                let slug = Slug::derive(&title);
                prop_assert!(is_slug_form(slug.as_str()), "{:?} -> {:?}", title, slug);
            }

            #[test]
            fn deriving_is_idempotent(title in any::<String>()) {
                let slug = Slug::derive(&title);
                prop_assert_eq!(Slug::derive(slug.as_str()), slug.clone());
            }

            #[test]
            fn parsing_accepts_exactly_the_slug_form(text in "[a-z0-9-]{0,210}|.{0,20}") {
                prop_assert_eq!(Slug::parse(&text).is_ok(), is_slug_form(&text), "{:?}", text);
            }
        }
    }
}
