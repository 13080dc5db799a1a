//! Content handlers other than the proxy: what answers a route's requests
//! between the before-phases (access rules, body limit, CORS, rate limit,
//! authentication) and the after-phases (header rules, compression, error
//! pages, access log), knowing nothing of either. The proxy is
//! [`crate::proxy`]'s forward; static files are [`crate::files`] when
//! built in.

pub(crate) mod returns;
