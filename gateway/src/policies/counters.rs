//! The policies' metrics: names, descriptions, and the handles each policy
//! resolves once per route table (so a request increments an atomic and
//! looks nothing up).

use metrics::Counter;

/// `gateway_rate_limited_total{route}`: requests refused with `429`.
pub(crate) const RATE_LIMITED: &str = "gateway_rate_limited_total";
/// `gateway_rate_limit_evictions_total{route}`: buckets dropped before
/// they were full again, to keep at most `max_keys`.
pub(crate) const RATE_LIMIT_EVICTIONS: &str = "gateway_rate_limit_evictions_total";
/// `gateway_cors_preflights_total{route,result}`: `allowed` or `refused`.
pub(crate) const CORS_PREFLIGHTS: &str = "gateway_cors_preflights_total";
/// `gateway_compressed_responses_total{route,encoding}`.
pub(crate) const COMPRESSED: &str = "gateway_compressed_responses_total";
/// `gateway_compression_bytes_in_total{route,encoding}`: bytes before.
pub(crate) const COMPRESSION_IN: &str = "gateway_compression_bytes_in_total";
/// `gateway_compression_bytes_out_total{route,encoding}`: bytes after.
pub(crate) const COMPRESSION_OUT: &str = "gateway_compression_bytes_out_total";
/// `gateway_auth_refusals_total{route,reason}`: `missing`, `invalid`,
/// `expired`, `unavailable` (no signing keys).
pub(crate) const AUTH_REFUSALS: &str = "gateway_auth_refusals_total";

/// Describe the policies' metrics (once, with the recorder).
pub(crate) fn describe() {
    metrics::describe_counter!(
        RATE_LIMITED,
        "Requests refused with 429 by a route's rate limit."
    );
    metrics::describe_counter!(
        RATE_LIMIT_EVICTIONS,
        "Rate-limit buckets dropped before they were full again, to keep at most max_keys."
    );
    metrics::describe_counter!(
        CORS_PREFLIGHTS,
        "CORS preflight requests answered at the gateway, by result (allowed, refused)."
    );
    metrics::describe_counter!(
        COMPRESSED,
        "Responses compressed at the gateway, by route and encoding."
    );
    metrics::describe_counter!(
        COMPRESSION_IN,
        metrics::Unit::Bytes,
        "Response body bytes before compression, by route and encoding."
    );
    metrics::describe_counter!(
        COMPRESSION_OUT,
        metrics::Unit::Bytes,
        "Response body bytes after compression, by route and encoding."
    );
    metrics::describe_counter!(
        AUTH_REFUSALS,
        "Requests refused by edge authentication, by reason (missing, invalid, expired, unavailable)."
    );
}

/// The counter `name{route}` (exported at zero from now on).
pub(crate) fn route_counter(name: &'static str, route: &str) -> Counter {
    let c = metrics::counter!(name, "route" => route.to_string());
    c.increment(0);
    c
}

/// The counter `name{route, label=value}` (exported at zero from now on).
pub(crate) fn labelled(
    name: &'static str,
    route: &str,
    label: &'static str,
    value: &'static str,
) -> Counter {
    let c = metrics::counter!(name, "route" => route.to_string(), label => value);
    c.increment(0);
    c
}
