//! The users service: accounts, authentication, roles and the JWKS that
//! other services verify access tokens with (SPEC §4).
//!
//! [`Config`] loads the settings, [`Application::build`] connects and
//! migrates the database, prepares signing keys, ensures the configured
//! admin and binds the listener; [`Application::run`] serves until shutdown.

mod accounts;
mod admin;
mod admin_bootstrap;
mod auth;
mod client_ip;
mod config;
mod current_user;
mod domain;
mod entity;
mod jwks;
mod keys;
mod me;
mod metrics;
mod migration;
mod openapi;
mod passwords;
mod redact;
mod refresh_tokens;
mod routes;
mod startup;
mod state;
mod throttle;
mod user_view;

pub mod cli;

pub use client_ip::TrustedProxies;
pub use config::Config;
pub use keys::{PublicKey, SigningKey};
pub use migration::Migrator;
pub use startup::Application;
