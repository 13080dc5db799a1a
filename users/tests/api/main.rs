//! Integration tests: the real service on port 0 with a fresh database per
//! test, over real HTTP, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

mod helpers;

mod admin;
mod bootstrap;
mod client_address;
mod docs;
mod emails;
mod health;
mod jwks;
mod login;
mod logout;
mod me;
mod metrics;
mod password;
mod placeholders;
mod refresh;
mod register;
mod register_throttling;
mod startup;
mod throttling;
mod tokens;
