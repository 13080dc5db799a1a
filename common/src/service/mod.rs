//! Request ids (every component) and, with the `service` feature, what every
//! axum service shares: the base settings ([`BaseConfig`]), the shared layers
//! (request id, problem rendering, access log, body limit, timeout) and
//! serving with a drain and a bounded graceful shutdown.

#[cfg(feature = "service")]
pub mod drain;
#[cfg(feature = "service")]
mod layers;
#[cfg(feature = "service")]
mod placeholder_secrets;
#[cfg(feature = "service")]
mod serve;
#[cfg(all(test, feature = "db"))]
mod serve_tests;
#[cfg(feature = "service")]
mod settings;

#[cfg(feature = "service")]
pub use layers::{apply_layers, request_context};
#[cfg(feature = "service")]
pub use placeholder_secrets::refuse_placeholder_secrets;
#[cfg(feature = "service")]
pub use serve::{Draining, StopTimes, serve, serve_with_metrics};
#[cfg(feature = "service")]
pub use settings::{AppEnv, BaseConfig, MAX_DRAIN_DELAY};

/// The request id header.
pub const X_REQUEST_ID: &str = "x-request-id";

/// Whether `id` is an acceptable request id: 1-128 of `A-Z a-z 0-9 . _ -`.
pub fn is_valid_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_checked() {
        assert!(is_valid_request_id(b"abc-123_x.y"));
        assert!(!is_valid_request_id(b""));
        assert!(!is_valid_request_id(b"has space"));
        assert!(!is_valid_request_id(&[b'a'; 129]));
        assert!(is_valid_request_id(&[b'a'; 128]));
    }
}
