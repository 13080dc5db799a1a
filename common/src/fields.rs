//! Parsing request bodies into domain values: every invalid field is
//! collected and reported together (one 422), and a partial update tells an
//! absent field from an explicit `null`.

use serde::{Deserialize, Deserializer};

use crate::problem::{FieldError, Problem};

/// Collects field errors while a request is parsed into domain values.
#[derive(Debug, Default)]
pub struct FieldErrors {
    errors: Vec<FieldError>,
}

impl FieldErrors {
    /// The value of `parsed`, or `None` with its error recorded for `field`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed.map_err(|e| self.reject(field, e.to_string())).ok()
    }

    /// Record that `field` is invalid for a reason that is not a parse error.
    pub fn reject(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Record that the required `field` is missing.
    pub fn missing(&mut self, field: &str) {
        self.reject(field, "is required");
    }

    /// `Ok` when nothing was invalid, else a 422 listing every field.
    pub fn finish(self) -> Result<(), Problem> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(self.errors))
        }
    }
}

/// A field of a partial update (`PATCH`): absent, explicitly `null`, or a
/// value. Use it with `#[serde(default)]` so an absent field is
/// [`Patch::Absent`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not in the body: unchanged.
    #[default]
    Absent,
    /// `null`: cleared (where the field may be cleared).
    Null,
    /// A new value.
    Value(T),
}

impl<T> Patch<T> {
    /// The change asked for: `None` when absent, `Some(None)` to clear,
    /// `Some(Some(value))` to set.
    pub fn into_change(self) -> Option<Option<T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(v) => Some(Some(v)),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(v) => Patch::Value(v),
            None => Patch::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Changes {
        #[serde(default)]
        brand: Patch<String>,
    }

    #[test]
    fn absent_null_and_value_are_told_apart() {
        let parse = |json: &str| serde_json::from_str::<Changes>(json).expect("json").brand;
        assert_eq!(parse("{}"), Patch::Absent);
        assert_eq!(parse(r#"{"brand":null}"#), Patch::Null);
        assert_eq!(
            parse(r#"{"brand":"Acme"}"#),
            Patch::Value("Acme".to_string())
        );
        assert_eq!(parse("{}").into_change(), None);
        assert_eq!(parse(r#"{"brand":null}"#).into_change(), Some(None));
    }

    #[test]
    fn every_invalid_field_is_listed() {
        let mut fields = FieldErrors::default();
        assert_eq!(fields.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(fields.check("b", "x".parse::<u8>()), None);
        fields.missing("c");
        fields.reject("d", "must not be null");
        let problem = fields.finish().expect_err("invalid");
        let named: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["b", "c", "d"]);
        assert_eq!(problem.errors[1].message, "is required");
        assert!(FieldErrors::default().finish().is_ok());
    }
}
