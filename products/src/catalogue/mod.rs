//! The catalogue: products, their listing, reading, creation, changes and
//! removal.

pub mod entity;
