//! Plumbing shared by every shop binary.
//!
//! Only what at least two crates use lives here: layered configuration,
//! RFC 9457 problem responses, strict request extractors, tracing setup,
//! database connection and migrations, health handlers, the shutdown signal,
//! forwarded-header helpers and access-token verification against a JWKS.

pub mod auth;
pub mod config;
pub mod db;
pub mod extract;
pub mod forwarded;
pub mod health;
pub mod problem;
pub mod service;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{ConfigError, Secret};
pub use problem::{FieldError, Problem};
