//! Domain values that can only be built valid ("parse, don't validate"):
//! request bodies are parsed into these once, at the edge, and every invalid
//! field is reported together (`common::fields::FieldErrors`).

mod email;
#[cfg(test)]
mod email_properties;
mod password;
mod profile;

pub use email::{Email, fold};
pub use password::{MAX_CHARS as PASSWORD_MAX_CHARS, Password};
pub use profile::{AvatarUrl, PersonName};
