//! `Debug` for the auth request and response bodies, without their
//! passwords and tokens (they reach logs and panic messages via `{:?}`).

use std::fmt;

use super::TokenPair;
use super::login::{LoginForm, LoginJson};
use super::register::RegisterRequest;
use super::session::RefreshRequest;
use crate::redact::Redacted;

impl fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("email", &self.email)
            .field("password", &Redacted)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .finish()
    }
}

impl fmt::Debug for LoginJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginJson")
            .field("email", &self.email)
            .field("password", &Redacted)
            .finish()
    }
}

impl fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .field("password", &Redacted)
            .field("grant_type", &self.grant_type)
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| Redacted),
            )
            .finish()
    }
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("refresh_token", &Redacted)
            .finish()
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &Redacted)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &Redacted)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "hunter2-s3cret";

    fn assert_hidden(value: &impl fmt::Debug) {
        let printed = format!("{value:?}");
        assert!(!printed.contains(SECRET), "secret printed: {printed}");
        assert!(printed.contains("[redacted]"), "{printed}");
    }

    #[test]
    fn a_registration_prints_no_password() {
        assert_hidden(&RegisterRequest {
            email: "ada@example.com".into(),
            password: SECRET.into(),
            first_name: None,
            last_name: None,
        });
    }

    #[test]
    fn a_json_login_prints_no_password() {
        assert_hidden(&LoginJson {
            email: "ada@example.com".into(),
            password: SECRET.into(),
        });
    }

    #[test]
    fn a_form_login_prints_no_password_or_client_secret() {
        let form = LoginForm {
            username: "ada@example.com".into(),
            password: SECRET.into(),
            grant_type: Some("password".into()),
            scope: None,
            client_id: Some("app".into()),
            client_secret: Some(format!("{SECRET}-client")),
        };
        assert_hidden(&form);
    }

    #[test]
    fn refresh_and_logout_bodies_print_no_token() {
        assert_hidden(&RefreshRequest {
            refresh_token: SECRET.into(),
        });
    }

    #[test]
    fn a_token_pair_prints_no_token() {
        assert_hidden(&TokenPair {
            access_token: format!("{SECRET}-access"),
            token_type: "bearer",
            expires_in: 900,
            refresh_token: SECRET.into(),
        });
    }
}
