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
mod facets;
mod health;
mod list;
mod list_cache;
mod metrics;
mod migrations;
mod placeholders;
mod read;
mod relevance;
mod search;
mod search_index;
mod stock;
mod tokens;
mod totals;
mod update;
