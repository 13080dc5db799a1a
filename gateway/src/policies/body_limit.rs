//! The declared body length: a `Content-Length` above the route's body
//! limit is refused with `413` before any byte of the body is read. hyper
//! sends `100 Continue` only when the body is first read, so a client that
//! sent `Expect: 100-continue` gets the `413` without ever sending the body.
//! (A body without a declared length is cut off at the limit while it
//! streams; that is the request body's own doing.)

use common::Problem;
use http::header;

use super::{Hooks, Policy, RequestFacts, RequestHead, Verdict};

/// Refuses a declared length over the limit.
#[derive(Debug)]
pub(crate) struct DeclaredLength {
    limit: u64,
}

impl DeclaredLength {
    /// A check against `limit` bytes.
    pub(crate) fn new(limit: u64) -> Self {
        DeclaredLength { limit }
    }
}

impl Policy for DeclaredLength {
    fn hooks(&self) -> Hooks {
        Hooks::REQUEST
    }

    async fn on_request(
        &self,
        head: &RequestHead<'_>,
        _: &RequestFacts<'_>,
    ) -> Result<(), Verdict> {
        let declared = head
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match declared {
            Some(n) if n > self.limit => Err(Problem::payload_too_large(self.limit).into()),
            _ => Ok(()),
        }
    }
}
