//! sea-orm entities of the users database.

pub mod refresh_token;
pub mod user;
