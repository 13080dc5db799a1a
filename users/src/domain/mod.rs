//! Domain values that can only be built valid ("parse, don't validate"):
//! request bodies are parsed into these once, at the edge, and every invalid
//! field is reported together.

mod email;
mod password;
mod profile;

pub use email::Email;
pub use password::{MAX_CHARS as PASSWORD_MAX_CHARS, Password};
pub use profile::{AvatarUrl, PersonName};

use common::FieldError;

/// Collects field errors while parsing a request into domain values.
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Parse `value` for `field`, remembering the error if it is invalid.
    pub fn parse<T>(&mut self, field: &str, value: Result<T, String>) -> Option<T> {
        match value {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.push(FieldError::new(field, message));
                None
            }
        }
    }

    /// Record an error that is not the result of a parse.
    pub fn reject(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// `Ok` when nothing was invalid, else a 422 listing every field.
    pub fn finish(self) -> Result<(), common::Problem> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(common::Problem::validation(self.errors))
        }
    }
}
