//! `POST /auth/register`: anyone may create a customer account, a few an
//! hour from one client address.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use common::Problem;
use common::auth::Role;
use common::extract::Json;
use common::fields::FieldErrors;
use common::forwarded::ForwardedPrefix;
use http::header;
use serde::Deserialize;

use crate::accounts::{self, NewAccount};
use crate::client_ip::ClientIp;
use crate::domain::{Email, Password, PersonName};
use crate::metrics::RegistrationOutcome;
use crate::state::AppState;
use crate::throttle::ThrottleError;
use crate::user_view::UserView;

/// A registration. There is no `role`: every new account is a customer,
/// and unknown fields are refused. (`Debug` in `redaction`.)
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Email address, unique case-insensitively (Unicode allowed; stored
    /// NFKC-normalised and lower-cased, the domain in Unicode form).
    #[schema(example = "ada@example.com", format = "idn-email", max_length = 254)]
    pub email: String,
    /// 8 to 128 characters.
    #[schema(example = "correct horse battery", min_length = 8, max_length = 128)]
    pub password: String,
    /// Given name.
    #[schema(schema_with = PersonName::first_name_schema)]
    pub first_name: Option<String>,
    /// Family name.
    #[schema(schema_with = PersonName::last_name_schema)]
    pub last_name: Option<String>,
}

/// Create a customer account.
#[utoipa::path(
    post,
    path = "/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new account", body = UserView,
            headers(("Location" = String, description = "The account's URL"))),
        (status = 409, description = "The email is taken"),
        (status = 415, description = "Not JSON"),
        (status = 422, description = "Invalid or unknown fields (e.g. `role`)"),
        (status = 429, description = "Too many registrations from this client address",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    prefix: ForwardedPrefix,
    Json(body): Json<RegisterRequest>,
) -> Result<impl IntoResponse, Problem> {
    let mut fields = FieldErrors::default();
    let email = fields.check("email", Email::parse(&body.email));
    let password = fields.check("password", Password::parse(&body.password));
    let first_name = body
        .first_name
        .as_deref()
        .and_then(|n| fields.check("first_name", PersonName::parse(n)));
    let last_name = body
        .last_name
        .as_deref()
        .and_then(|n| fields.check("last_name", PersonName::parse(n)));
    fields.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(Problem::internal()); // unreachable: `finish` refused missing values
    };

    // Every valid attempt counts, a taken email too: each costs a lookup
    // and an Argon2 hash, and a 409 tells whether an email has an account.
    let metrics = &state.metrics;
    state.throttle.reserve_registration(ip).await.map_err(|e| {
        if matches!(e, ThrottleError::Refused(_)) {
            metrics.registration(RegistrationOutcome::Throttled);
        }
        e.into_problem("too many registrations; try again later")
    })?;
    // Checked before hashing so a taken email costs no Argon2 work; the
    // unique index still decides races.
    if accounts::find_by_email(&state.db, &email).await?.is_some() {
        metrics.registration(RegistrationOutcome::EmailTaken);
        return Err(Problem::conflict(
            "an account with this email already exists",
        ));
    }
    let password_hash = state.hashing.hash(&password).await?;
    let row = accounts::create(
        &state.db,
        NewAccount {
            email,
            password_hash,
            first_name: first_name.map(PersonName::into_inner),
            last_name: last_name.map(PersonName::into_inner),
            role: Role::Customer,
        },
    )
    .await?;
    metrics.registration(RegistrationOutcome::Created);
    let location = prefix.link(&format!("/{}", row.id));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(UserView::from(row)),
    ))
}
