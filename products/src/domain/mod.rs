//! Domain types that can only be constructed valid.
