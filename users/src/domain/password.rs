//! A password a user may choose.

use std::fmt;

/// A password of 8 to 128 characters. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 8;
/// Most characters a password may have (bounds the hashing work).
pub const MAX_CHARS: usize = 128;

impl Password {
    /// Accept `raw` if it has 8 to 128 characters (Unicode scalar values).
    pub fn parse(raw: &str) -> Result<Password, String> {
        let n = raw.chars().count();
        if n < MIN_CHARS {
            Err(format!("must be at least {MIN_CHARS} characters"))
        } else if n > MAX_CHARS {
            Err(format!("must be at most {MAX_CHARS} characters"))
        } else if raw.trim().is_empty() {
            Err("must not be only whitespace".to_string())
        } else {
            Ok(Password(raw.to_string()))
        }
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse("         ").is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let p = Password::parse("hunter2hunter2").expect("valid");
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
