//! The products service: catalogue, search, exact money and atomic stock.
//!
//! Paths are served without the `/products` prefix (the gateway strips it).
//! Product ids are integers assigned by the database (`Location:
//! /products/42`). See `docs/PRODUCTS.md` for the API and configuration.

#![allow(clippy::result_large_err)] // `Problem` is the shared error type; its size is `common`'s choice.

pub mod catalogue;
pub mod categories;
pub mod cli;
mod config;
mod custom_plans;
pub mod demo;
pub mod domain;
pub mod metrics;
pub mod migration;
mod openapi;
pub mod page_cache;
mod routes;
mod startup;
mod state;
pub mod stock;
pub mod synthetic;

pub use config::Config;
pub use startup::Application;
