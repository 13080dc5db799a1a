//! Prometheus metrics, the same stack everywhere (`metrics` +
//! `metrics-exporter-prometheus`): the bucket sets, bounded label values
//! and a [`Registry`] per service instance.
//!
//! The gateway installs one global recorder (it is alone in its process);
//! each service instance owns a [`Registry`] and records through handles
//! it keeps, because the launcher runs users, products and the gateway in
//! one process and each must serve only its own metrics. With the
//! `service` feature: the HTTP middleware ([`http`]) and the separate
//! metrics listener ([`listener`]).

mod registry;

#[cfg(feature = "service")]
pub mod http;
#[cfg(feature = "service")]
pub mod listener;

/// The handle types services record through.
pub use ::metrics::{Counter, Gauge, Histogram, Label};
pub use registry::Registry;

/// Request durations (seconds): 1 ms to 30 s.
pub const REQUEST_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Short waits and database statements (seconds): 0.5 ms to 10 s.
pub const SHORT_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The method as a bounded label value (anything unusual is `OTHER`, so a
/// client cannot create series).
pub fn method_label(method: &::http::Method) -> &'static str {
    match *method {
        ::http::Method::GET => "GET",
        ::http::Method::HEAD => "HEAD",
        ::http::Method::POST => "POST",
        ::http::Method::PUT => "PUT",
        ::http::Method::PATCH => "PATCH",
        ::http::Method::DELETE => "DELETE",
        ::http::Method::OPTIONS => "OPTIONS",
        ::http::Method::TRACE => "TRACE",
        ::http::Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// The status as a label value, without allocating for the usual ones.
pub fn status_label(status: u16) -> metrics::SharedString {
    let fixed = match status {
        200 => "200",
        201 => "201",
        204 => "204",
        301 => "301",
        302 => "302",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        412 => "412",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        431 => "431",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        other => return metrics::SharedString::from(other.to_string()),
    };
    metrics::SharedString::const_str(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&::http::Method::PATCH), "PATCH");
        let custom = ::http::Method::from_bytes(b"PURGE").expect("token");
        assert_eq!(method_label(&custom), "OTHER");
    }

    #[test]
    fn every_status_is_its_number() {
        for status in [200u16, 409, 418, 599] {
            assert_eq!(&*status_label(status), status.to_string());
        }
    }
}
