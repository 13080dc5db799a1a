//! The users service: accounts, authentication, roles and the JWKS that
//! other services verify access tokens with (SPEC §4).
//!
//! [`Config`] loads the settings, [`Application::build`] connects and
//! migrates the database, prepares signing keys, ensures the configured
//! admin and binds the listener; [`Application::run`] serves until shutdown.

mod accounts;
mod admin_bootstrap;
mod config;
mod domain;
mod entity;
mod jwks;
mod keys;
mod migration;
mod passwords;
mod routes;
mod startup;
mod state;
mod throttle;

pub mod cli;

pub use config::Config;
pub use keys::{PublicKey, SigningKey};
pub use migration::Migrator;
pub use startup::Application;
