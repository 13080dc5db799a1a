//! Integration tests: the real service over HTTP, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL.

mod helpers;
mod jwks_fixture;

mod bounds;
mod categories;
mod create;
mod delete;
mod demo;
mod docs;
mod health;
mod list;
mod migrations;
mod placeholders;
mod read;
mod stock;
mod tokens;
mod update;
