//! The catalogue: products, their listing, reading, creation, changes and
//! removal.

pub mod entity;
pub mod etag;
pub mod index;
pub mod input;
mod input_schema;
pub mod list;
pub mod product;
pub mod read;
pub mod store;
pub mod write;
