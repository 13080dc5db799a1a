//! Header rules: hop-by-hop removal (RFC 9110 §7.6.1) and the upgrade
//! headers put back, forwarding headers (believed only from trusted
//! proxies; `X-Real-IP` always the client's address, which the caller
//! works out: `client_addr.rs`) and the request id.

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

/// The value of `Upgrade` when `headers` ask to switch protocols (an
/// `Upgrade` header and `upgrade` among the `Connection` options), read
/// before [`strip_hop_by_hop`] removes both. `h2c` is never passed on: a
/// tunnel speaking HTTP/2 to the upstream would carry requests the gateway
/// never routed (h2c smuggling).
pub(crate) fn upgrade_protocol(headers: &HeaderMap) -> Option<HeaderValue> {
    let upgrade = headers.get(header::UPGRADE)?;
    let asked = headers
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .any(|option| option.trim_ascii().eq_ignore_ascii_case(b"upgrade"));
    let h2c = upgrade
        .as_bytes()
        .split(|&b| b == b',')
        .any(|p| p.trim_ascii().eq_ignore_ascii_case(b"h2c"));
    (asked && !h2c && !upgrade.as_bytes().trim_ascii().is_empty()).then(|| upgrade.clone())
}

/// Put back the two headers that ask for (or agree to) switching to
/// `protocol`, after [`strip_hop_by_hop`].
pub(crate) fn set_upgrade(headers: &mut HeaderMap, protocol: HeaderValue) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, protocol);
}

/// Remove the hop-by-hop headers and every header the `Connection` header names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    if headers.contains_key(header::CONNECTION) {
        // Read as bytes: a value with other bytes beside the names (obs-text)
        // still names its headers.
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .filter_map(|name| HeaderName::from_bytes(name.trim_ascii()).ok())
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
    /// Whether the connection is TLS (`X-Forwarded-Proto: https`, HSTS;
    /// no redirect to https).
    pub(crate) tls: bool,
}

impl Peer {
    /// The values for a connection from `ip`.
    pub(crate) fn new(ip: IpAddr) -> Self {
        let ip = ip.to_canonical();
        Peer {
            ip,
            value: shared_value(ip.to_string()),
            tls: false,
        }
    }

    /// The values for a TLS connection from `ip`.
    pub(crate) fn over_tls(ip: IpAddr) -> Self {
        Peer {
            tls: true,
            ..Peer::new(ip)
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
    /// The client's address as the gateway believes it (`X-Real-IP`).
    pub(crate) client: &'a HeaderValue,
    /// Whether the peer is a trusted proxy: its forwarding headers are
    /// kept and appended to.
    pub(crate) peer_trusted: bool,
    /// The client's host (`Host` or `:authority`).
    pub(crate) host: Option<&'a HeaderValue>,
    /// The prefix stripped, without trailing slash (`/users`), as a header
    /// value; `None` when nothing is stripped.
    pub(crate) prefix: Option<&'a HeaderValue>,
}

/// Set `X-Forwarded-*`, `X-Real-IP`; from an untrusted peer, the client's
/// own forwarding headers (and `Forwarded`) are discarded first.
/// `X-Real-IP` is always the client's address, whoever sent one.
pub(crate) fn set_forwarding(headers: &mut HeaderMap, f: &Forwarded<'_>) {
    if !f.peer_trusted {
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
    // X-Forwarded-For: one comma-separated list, the peer appended. Joined
    // as bytes, so a trusted proxy's entries are kept whatever they hold.
    let mut xff: Vec<u8> = Vec::new();
    for entry in headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .map(|v| v.as_bytes().trim_ascii())
        .filter(|v| !v.is_empty())
    {
        xff.extend_from_slice(entry);
        xff.extend_from_slice(b", ");
    }
    let xff = if xff.is_empty() {
        f.peer.value.clone()
    } else {
        xff.extend_from_slice(f.peer.value.as_bytes());
        // Valid bytes of valid values, joined by `, `: never refused.
        HeaderValue::from_bytes(&xff).unwrap_or_else(|_| f.peer.value.clone())
    };
    headers.insert(&X_FORWARDED_FOR, xff);
    headers.insert(&X_REAL_IP, f.client.clone());
    if !headers.contains_key(&X_FORWARDED_PROTO) {
        let proto = if f.peer.tls { "https" } else { "http" };
        headers.insert(&X_FORWARDED_PROTO, HeaderValue::from_static(proto));
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

    #[test]
    fn headers_named_beside_non_ascii_bytes_in_connection_are_removed() {
        // Found by `no_hop_by_hop_header_survives_and_every_other_one_does`:
        // a value that was not visible ASCII was skipped whole.
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_bytes(b"\xe9t\xe9, X-Secret").expect("obs-text is valid"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h);
        assert!(h.is_empty(), "{h:?}");
    }

    #[test]
    fn a_trusted_proxys_x_forwarded_for_entries_are_kept_whatever_their_bytes() {
        // Found by `x_forwarded_for_keeps_a_trusted_proxys_entries_and_appends_the_peer`:
        // entries that were not visible ASCII were dropped.
        let mut h = HeaderMap::new();
        h.append(&X_FORWARDED_FOR, HeaderValue::from_static("203.0.113.7"));
        h.append(
            &X_FORWARDED_FOR,
            HeaderValue::from_bytes(b" caf\xe9 ").expect("obs-text is valid"),
        );
        let peer = Peer::new(IpAddr::from([10, 0, 0, 1]));
        let forwarded = Forwarded {
            peer: &peer,
            client: &peer.value,
            peer_trusted: true,
            host: None,
            prefix: None,
        };
        set_forwarding(&mut h, &forwarded);
        assert_eq!(
            h.get(&X_FORWARDED_FOR).map(HeaderValue::as_bytes),
            Some(&b"203.0.113.7, caf\xe9, 10.0.0.1"[..])
        );
    }

    /// Properties over generated header sets: bounded (a few hundred cases
    /// each), part of the normal test run.
    mod properties {
        use std::collections::BTreeSet;

        use proptest::prelude::*;

        use super::super::*;

        /// The hop-by-hop headers of RFC 9110 §7.6.1 (and `Proxy-Connection`).
        const HOP_BY_HOP: [&str; 7] = [
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "transfer-encoding",
            "upgrade",
            "trailer",
        ];

        /// Names a request may carry or a `Connection` header may list.
        const NAMES: [&str; 8] = [
            "x-secret",
            "x-kept",
            "accept",
            "cookie",
            "x-forwarded-for",
            "keep-alive",
            "te",
            "upgrade",
        ];

        /// Any valid header value: visible ASCII, spaces, tabs, obs-text.
        fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
            prop::collection::vec(prop_oneof![0x20u8..0x7F, Just(b'\t'), 0x80u8..=0xFF], 0..24)
        }

        /// A `Connection` list item: a name in any case with optional
        /// whitespace around it, or junk (not a token, obs-text).
        fn connection_item() -> impl Strategy<Value = Vec<u8>> {
            let ows = prop::sample::select(vec!["", " ", "\t", "  \t"]);
            prop_oneof![
                3 => (prop::sample::select(NAMES.to_vec()), prop::collection::vec(any::<bool>(), 16), ows.clone(), ows)
                    .prop_map(|(name, upper, before, after)| {
                        let cased = name
                            .bytes()
                            .zip(upper.into_iter().cycle())
                            .map(|(b, up)| if up { b.to_ascii_uppercase() } else { b });
                        before.bytes().chain(cased).chain(after.bytes()).collect()
                    }),
                1 => value_bytes().prop_map(|v| v.into_iter().filter(|&b| b != b',').collect()),
            ]
        }

        /// A `Connection` header value: items joined by one or more commas.
        fn connection_value() -> impl Strategy<Value = Vec<u8>> {
            let comma = prop::sample::select(vec![",", ", ", ",,", " , "]);
            prop::collection::vec((connection_item(), comma), 0..5).prop_map(|items| {
                let mut v = Vec::new();
                for (i, (item, comma)) in items.into_iter().enumerate() {
                    if i > 0 {
                        v.extend_from_slice(comma.as_bytes());
                    }
                    v.extend(item);
                }
                v
            })
        }

        fn header_value(bytes: &[u8]) -> HeaderValue {
            HeaderValue::from_bytes(bytes).expect("generated values are valid")
        }

        /// The names a `Connection` value lists (lower case, trimmed).
        fn listed(value: &[u8]) -> BTreeSet<String> {
            value
                .split(|&b| b == b',')
                .map(|item| String::from_utf8_lossy(item.trim_ascii()).to_ascii_lowercase())
                .collect()
        }

        fn trimmed_entries(values: &[Vec<u8>]) -> Vec<Vec<u8>> {
            values
                .iter()
                .map(|v| v.trim_ascii().to_vec())
                .filter(|v| !v.is_empty())
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn no_hop_by_hop_header_survives_and_every_other_one_does(
                present in prop::collection::vec((prop::sample::select(NAMES.to_vec()), value_bytes()), 0..8),
                standard in prop::collection::vec(prop::sample::select(HOP_BY_HOP[1..].to_vec()), 0..4),
                connection in prop::collection::vec(connection_value(), 0..3),
            ) {
                let mut h = HeaderMap::new();
                for (name, value) in &present {
                    h.append(*name, header_value(value));
                }
                for name in &standard {
                    h.append(*name, HeaderValue::from_static("1"));
                }
                let mut named = BTreeSet::new();
                for value in &connection {
                    h.append(header::CONNECTION, header_value(value));
                    named.extend(listed(value));
                }
                let before = h.clone();
                strip_hop_by_hop(&mut h);
                for name in HOP_BY_HOP {
                    prop_assert!(!h.contains_key(name), "{} survived: {:?}", name, before);
                }
                for name in &named {
                    prop_assert!(!h.contains_key(name.as_str()), "{} (in Connection) survived: {:?}", name, before);
                }
                for name in before.keys() {
                    if !HOP_BY_HOP.contains(&name.as_str()) && !named.contains(name.as_str()) {
                        let kept: Vec<_> = h.get_all(name).iter().collect();
                        let sent: Vec<_> = before.get_all(name).iter().collect();
                        prop_assert_eq!(kept, sent, "{} was changed", name);
                    }
                }
            }

            #[test]
            fn x_forwarded_for_keeps_a_trusted_proxys_entries_and_appends_the_peer(
                earlier in prop::collection::vec(value_bytes(), 0..4),
                peer in any::<IpAddr>(),
                trusted in any::<bool>(),
            ) {
                let mut h = HeaderMap::new();
                for value in &earlier {
                    h.append(&X_FORWARDED_FOR, header_value(value));
                }
                let peer = Peer::new(peer);
                // Whoever the client is, X-Real-IP says what the gateway believes.
                let client = HeaderValue::from_static("192.0.2.99");
                set_forwarding(&mut h, &Forwarded { peer: &peer, client: &client, peer_trusted: trusted, host: None, prefix: None });
                let mut want = if trusted { trimmed_entries(&earlier) } else { Vec::new() };
                want.push(peer.value.as_bytes().to_vec());
                let sent: Vec<&[u8]> = h.get_all(&X_FORWARDED_FOR).iter().map(HeaderValue::as_bytes).collect();
                let joined = want.join(&b", "[..]);
                prop_assert_eq!(sent, vec![joined.as_slice()]);
                let real_ip = h.get(&X_REAL_IP).map(HeaderValue::as_bytes);
                prop_assert_eq!(real_ip, Some(&b"192.0.2.99"[..]));
            }
        }
    }
}
