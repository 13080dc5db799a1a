//! Ed25519 signing keys: where they come from, the JWKS that publishes them
//! and the access tokens they sign.
//!
//! The `kid` of a key is its RFC 7638 JWK thumbprint, so it never needs
//! configuring and is the same wherever the key is loaded.

mod access_token;
mod ed25519;
mod source;

pub use access_token::{AccessToken, TokenIssuer};
pub use ed25519::{PublicKey, SigningKey};
pub use source::{KeyRing, load_key_ring};
