//! `POST /auth/login`: email and password for a token pair, as JSON or as
//! the OAuth2 password form, with failed attempts throttled.

use axum::extract::{FromRequest, Request, State};
use axum::response::IntoResponse;
use common::Problem;
use common::extract::{has_content_type, parse_form, parse_json};
use common::fields::FieldErrors;
use serde::Deserialize;
use uuid::Uuid;

use super::TokenPair;
use crate::accounts;
use crate::client_ip::ClientIp;
use crate::current_user::deactivated;
use crate::domain::Email;
use crate::metrics::LoginOutcome;
use crate::refresh_tokens;
use crate::state::AppState;
use crate::throttle::ThrottleError;

/// JSON login (`Debug` in `redaction`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginJson {
    /// Email address (any case).
    #[schema(example = "ada@example.com", format = "idn-email", max_length = 254)]
    pub email: String,
    /// Password.
    #[schema(example = "correct horse battery", min_length = 1, max_length = 128)]
    pub password: String,
}

/// OAuth2 password grant (RFC 6749 §4.3), form-encoded; `username` is the
/// email. `grant_type`, `scope`, `client_id` and `client_secret` are
/// accepted for OAuth2 clients and otherwise ignored.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    /// The email address.
    #[schema(format = "idn-email", max_length = 254)]
    pub username: String,
    /// Password.
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    /// `password` when present.
    #[schema(nullable = false, schema_with = grant_type_schema)]
    pub grant_type: Option<String>,
    /// Ignored.
    #[allow(dead_code)] // accepted so OAuth2 clients are not refused
    #[schema(nullable = false)]
    pub scope: Option<String>,
    /// Ignored.
    #[allow(dead_code)]
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// Ignored.
    #[allow(dead_code)]
    #[schema(nullable = false)]
    pub client_secret: Option<String>,
}

fn grant_type_schema() -> utoipa::openapi::schema::Object {
    common::input::string(false)
        .enum_values(Some(["password"]))
        .description(Some("`password` when present."))
        .build()
}

/// Credentials from either body format.
pub struct Credentials {
    email: Email,
    password: String,
}

impl<S: Send + Sync> FromRequest<S> for Credentials {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = has_content_type(req.headers(), "application/json");
        let is_form = has_content_type(req.headers(), "application/x-www-form-urlencoded");
        if !is_json && !is_form {
            return Err(Problem::unsupported_media_type(
                "send application/json or application/x-www-form-urlencoded",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Problem::bad_request(format!("cannot read the request body: {e}")))?;
        let mut fields = FieldErrors::default();
        let (email_field, raw_email, password) = if is_json {
            let body: LoginJson = parse_json(&bytes)?;
            ("email", body.email, body.password)
        } else {
            let body: LoginForm = parse_form(&bytes)?;
            if body.grant_type.as_deref().is_some_and(|g| g != "password") {
                fields.reject("grant_type", "must be `password`");
            }
            ("username", body.username, body.password)
        };
        let email = fields.check(email_field, Email::parse(&raw_email));
        // Every stored password has at most 128 characters; longer input
        // cannot match and would only cost hashing time.
        let n = password.chars().count();
        if n == 0 || n > crate::domain::PASSWORD_MAX_CHARS {
            fields.reject("password", "must be 1 to 128 characters");
        }
        fields.finish()?;
        let email = email.ok_or_else(Problem::internal)?;
        Ok(Credentials { email, password })
    }
}

fn wrong_credentials() -> Problem {
    Problem::unauthorized("incorrect email or password")
}

/// Sign in.
///
/// Wrong email and wrong password get the same 401 after the same work.
/// Failed attempts are throttled per email and per client address (429
/// with `Retry-After`), across every replica.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body(content(
        (LoginJson = "application/json"),
        (LoginForm = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "Wrong email or password"),
        (status = 403, description = "The account is deactivated"),
        (status = 415, description = "Neither JSON nor a form"),
        (status = 422, description = "Malformed or unknown fields"),
        (status = 429, description = "Too many failed attempts",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    credentials: Credentials,
) -> Result<impl IntoResponse, Problem> {
    let Credentials { email, password } = credentials;
    let metrics = &state.metrics;
    state
        .throttle
        .reserve_password_attempt(email.as_str(), ip)
        .await
        .map_err(|e| {
            if matches!(e, ThrottleError::Refused(_)) {
                metrics.login(LoginOutcome::Throttled);
            }
            e.into_problem("too many failed sign-in attempts; try again later")
        })?;
    let account = accounts::find_by_email(&state.db, &email).await?;
    let stored = account.as_ref().map(|a| a.password_hash.as_str());
    // The attempt is already counted as a failure; only a right password
    // gives it back.
    let verified = state.hashing.verify(&password, stored).await?;
    let Some(account) = account.filter(|_| verified) else {
        metrics.login(LoginOutcome::BadCredentials);
        return Err(wrong_credentials());
    };
    state.throttle.password_accepted(email.as_str(), ip).await?;
    if !account.is_active {
        metrics.login(LoginOutcome::Deactivated);
        return Err(deactivated());
    }
    let access = state
        .issuer
        .issue(account.id, &account.email, accounts::role_of(&account))
        .map_err(|e| {
            tracing::error!(error = %e, "signing an access token");
            Problem::internal()
        })?;
    let refresh =
        refresh_tokens::issue(&state.db, account.id, Uuid::now_v7(), state.refresh_ttl).await?;
    metrics.login(LoginOutcome::Ok);
    Ok(super::token_response(access, refresh))
}
