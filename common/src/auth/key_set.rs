//! The users service's public keys as a verifier holds them, and how they
//! are fetched: the JWKS body and the `Cache-Control: max-age` that says how
//! long it may be trusted without asking again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::CACHE_CONTROL;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm};

use super::jwks_client::{FetchError, JwksClient};

/// Usable verification keys by `kid`.
pub(crate) type Keys = Arc<HashMap<String, DecodingKey>>;

/// The EdDSA keys of `set` that carry a `kid`; others are ignored.
pub(crate) fn usable_keys(set: &JwkSet) -> Keys {
    Arc::new(
        set.keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, usable_key(jwk)?)))
            .collect(),
    )
}

fn usable_key(jwk: &Jwk) -> Option<DecodingKey> {
    if let Some(alg) = jwk.common.key_algorithm
        && alg != KeyAlgorithm::EdDSA
    {
        return None;
    }
    match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(_) => DecodingKey::from_jwk(jwk).ok(),
        _ => None,
    }
}

/// A key set as fetched, with how long its publisher lets it be cached.
pub(crate) struct Fetched {
    /// The keys.
    pub keys: Keys,
    /// From `Cache-Control`; `None` when the response did not say.
    pub max_age: Option<Duration>,
}

/// Fetch the JWKS at `url`.
pub(crate) async fn fetch(client: &JwksClient, url: &str) -> Result<Fetched, FetchError> {
    let (headers, body) = client.get(url).await?;
    let max_age = max_age(&headers);
    let set = serde_json::from_slice::<JwkSet>(&body)?;
    Ok(Fetched {
        keys: usable_keys(&set),
        max_age,
    })
}

/// How long a response may be reused according to its `Cache-Control`:
/// `max-age=N` gives N seconds, `no-cache` / `no-store` give zero; `None`
/// when no header (or no usable directive) says.
pub(crate) fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut found = None;
    for directive in headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
    {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=")
            && let Ok(seconds) = seconds.trim_matches('"').parse::<u64>()
        {
            found = Some(Duration::from_secs(seconds));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(CACHE_CONTROL, v.parse().expect("header"));
        }
        map
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age(&headers(&["public, max-age=300"])),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            max_age(&headers(&["Max-Age=\"60\""])),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            max_age(&headers(&["public", "max-age=5"])),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn no_cache_and_no_store_mean_zero() {
        assert_eq!(
            max_age(&headers(&["max-age=300, no-store"])),
            Some(Duration::ZERO)
        );
        assert_eq!(max_age(&headers(&["no-cache"])), Some(Duration::ZERO));
    }

    #[test]
    fn without_a_usable_directive_the_publisher_did_not_say() {
        assert_eq!(max_age(&headers(&[])), None);
        assert_eq!(max_age(&headers(&["public"])), None);
        assert_eq!(max_age(&headers(&["max-age=soon"])), None);
    }
}
