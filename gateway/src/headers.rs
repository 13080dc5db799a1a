//! Header rules: hop-by-hop removal (RFC 9110 §7.6.1), forwarding headers
//! (believed only from trusted proxies) and the request id.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use ipnet::IpNet;

/// `X-Request-Id`.
pub(crate) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// `X-Forwarded-For`.
pub(crate) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub(crate) static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub(crate) static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
/// `X-Forwarded-Prefix`.
pub(crate) static X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");
/// `X-Real-IP`.
pub(crate) static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Remove the hop-by-hop headers and every header the `Connection` header names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    if headers.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
        headers.remove(header::CONNECTION);
    }
    for name in [
        &KEEP_ALIVE,
        &PROXY_CONNECTION,
        &header::TE,
        &header::TRANSFER_ENCODING,
        &header::UPGRADE,
        &header::TRAILER,
    ] {
        headers.remove(name);
    }
}

/// The request id to use: the client's when valid, else a fresh one.
///
/// A `HeaderValue` rather than a `String`: the client's value shares the
/// request head's buffer, and clones (upstream request, response, access log)
/// cost a reference count, not an allocation.
pub(crate) fn request_id(headers: &HeaderMap) -> HeaderValue {
    match headers.get(&X_REQUEST_ID) {
        Some(v) if common::service::is_valid_request_id(v.as_bytes()) => v.clone(),
        _ => new_request_id(),
    }
}

/// A fresh random (version 4) UUID for a request id.
///
/// `Uuid::new_v4` asks the OS for randomness on every call (a syscall per
/// request); ids only need to be unique, so each thread seeds a splitmix64
/// generator from the OS once and draws from it.
pub(crate) fn new_request_id() -> HeaderValue {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    fn next(state: &Cell<u64>) -> u64 {
        let mut z = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let (hi, lo) = STATE.with(|s| (next(s), next(s)));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut buf);
    shared_value(buf)
}

/// A header value in one reference-counted allocation, so that its clones
/// allocate nothing (`HeaderValue::from_str` copies into a buffer that
/// allocates again on its first clone).
pub(crate) fn shared_value<T>(owner: T) -> HeaderValue
where
    T: AsRef<[u8]> + Send + 'static,
{
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(owner))
        .unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// The header values derived from a client connection's peer address,
/// computed once per connection rather than once per request.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// The TCP peer.
    pub(crate) ip: IpAddr,
    /// The peer as a header value (`X-Real-IP`, `X-Forwarded-For`).
    pub(crate) value: HeaderValue,
}

impl Peer {
    /// The values for a connection from `ip`.
    pub(crate) fn new(ip: IpAddr) -> Self {
        let ip = ip.to_canonical();
        Peer {
            ip,
            value: shared_value(ip.to_string()),
        }
    }
}

/// Whether `peer` (canonical: IPv4-mapped addresses as IPv4) is one of the
/// trusted proxies.
pub(crate) fn is_trusted(peer: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&peer))
}

/// What the upstream is told about the original request.
pub(crate) struct Forwarded<'a> {
    /// The TCP peer.
    pub(crate) peer: &'a Peer,
    /// Whether the peer is a trusted proxy (under the active table).
    pub(crate) trusted: bool,
    /// The client's host (`Host` or `:authority`).
    pub(crate) host: Option<&'a HeaderValue>,
    /// The prefix stripped, without trailing slash (`/users`), as a header
    /// value; `None` when nothing is stripped.
    pub(crate) prefix: Option<&'a HeaderValue>,
}

/// Set `X-Forwarded-*`, `X-Real-IP`; from an untrusted peer, the client's
/// own forwarding headers (and `Forwarded`) are discarded first.
pub(crate) fn set_forwarding(headers: &mut HeaderMap, f: &Forwarded<'_>) {
    if !f.trusted {
        for name in [
            &X_FORWARDED_FOR,
            &X_FORWARDED_PROTO,
            &X_FORWARDED_HOST,
            &X_FORWARDED_PREFIX,
            &X_REAL_IP,
            &header::FORWARDED,
        ] {
            headers.remove(name);
        }
    }
    // X-Forwarded-For: one comma-separated list, the peer appended.
    let previous: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let xff = if previous.is_empty() {
        Some(f.peer.value.clone())
    } else {
        let peer = f.peer.value.to_str().unwrap_or_default();
        HeaderValue::from_str(&format!("{}, {peer}", previous.join(", "))).ok()
    };
    if let Some(v) = xff {
        headers.insert(&X_FORWARDED_FOR, v);
    }
    if !headers.contains_key(&X_REAL_IP) {
        headers.insert(&X_REAL_IP, f.peer.value.clone());
    }
    if !headers.contains_key(&X_FORWARDED_PROTO) {
        headers.insert(&X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    if !headers.contains_key(&X_FORWARDED_HOST)
        && let Some(host) = f.host
    {
        headers.insert(&X_FORWARDED_HOST, host.clone());
    }
    if let Some(prefix) = f.prefix {
        let outer = headers
            .get(&X_FORWARDED_PREFIX)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().trim_end_matches('/'))
            .filter(|v| !v.is_empty());
        let value = match outer {
            // A trusted proxy in front stripped its own prefix first.
            Some(outer) => {
                HeaderValue::from_str(&format!("{outer}{}", prefix.to_str().unwrap_or_default()))
                    .ok()
            }
            None => Some(prefix.clone()),
        };
        if let Some(v) = value {
            headers.insert(&X_FORWARDED_PREFIX, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_named_headers_are_removed_with_the_standard_set() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("x-kept"));
    }

    #[test]
    fn invalid_request_ids_are_replaced() {
        let mut h = HeaderMap::new();
        h.insert(&X_REQUEST_ID, HeaderValue::from_static("abc.DEF_1-2"));
        assert_eq!(request_id(&h), "abc.DEF_1-2");
        h.insert(&X_REQUEST_ID, HeaderValue::from_static("has space"));
        assert_ne!(request_id(&h), "has space");
        let long = "a".repeat(129);
        h.insert(&X_REQUEST_ID, HeaderValue::from_str(&long).expect("value"));
        assert_eq!(request_id(&h).len(), 36);
        h.remove(&X_REQUEST_ID);
        assert_eq!(request_id(&h).len(), 36);
    }

    #[test]
    fn generated_request_ids_are_distinct_v4_uuids() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        for id in [a, b] {
            let id = id.to_str().expect("ascii").to_string();
            let parsed = uuid::Uuid::parse_str(&id).expect("uuid");
            assert_eq!(parsed.get_version_num(), 4);
            assert!(common::service::is_valid_request_id(id.as_bytes()));
        }
    }
}
