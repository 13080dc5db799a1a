//! Integration tests: the real service over HTTP, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL.

#[allow(dead_code)]
mod helpers;

mod health;
