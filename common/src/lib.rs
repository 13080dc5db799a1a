//! Plumbing shared by the shop's binaries.
//!
//! Only what at least two crates use lives here. Without features it holds
//! what every binary needs, the gateway included: RFC 9457 problem details
//! ([`problem`]), layered configuration ([`config`]), tracing setup
//! ([`telemetry`]), the shutdown signal ([`shutdown`]), request-id
//! validation ([`service::is_valid_request_id`]), Prometheus metrics
//! ([`metrics`]) and the W3C `traceparent` ([`traceparent`]). The features add what only
//! the axum services share:
//!
//! * `service`: service settings and layers ([`service`]), strict extractors,
//!   the forwarded prefix, health endpoints, OpenAPI and Swagger UI serving,
//!   field errors, `Patch<T>` and shared field rules with their schemas
//!   ([`input`]) for request bodies;
//! * `db`: database connection, migrations and database errors as problems;
//! * `auth`: access-token verification against a JWKS and `AuthUser`;
//! * `testing`: a fresh database per test on SQLite and PostgreSQL.

pub mod config;
pub mod host;
pub mod metrics;
pub mod problem;
pub mod service;
pub mod shutdown;
pub mod telemetry;
pub mod traceparent;

#[cfg(feature = "service")]
pub mod api_docs;
#[cfg(feature = "auth")]
pub mod auth;
#[cfg(feature = "db")]
pub mod db;
#[cfg(feature = "service")]
pub mod extract;
#[cfg(feature = "service")]
pub mod fields;
#[cfg(feature = "service")]
pub mod forwarded;
#[cfg(feature = "service")]
pub mod health;
#[cfg(feature = "service")]
pub mod input;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{ConfigError, Secret};
pub use problem::{FieldError, Problem};
