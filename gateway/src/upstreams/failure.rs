//! How an exchange with an upstream fails; the proxy's "map errors" phase
//! turns each kind into the client's status.

use super::body::BodyFault;

/// How an exchange with an upstream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpstreamFailure {
    /// No endpoint is known (the name did not resolve).
    NoEndpoint,
    /// Every endpoint is out: active checks failed (or it is ejected).
    NoHealthyEndpoint,
    /// The TCP connection was refused or unreachable.
    Connect,
    /// The TCP connection did not open within the connect timeout.
    ConnectTimeout,
    /// The response head did not arrive within the response timeout.
    ResponseTimeout,
    /// The connection broke (closed, reset, malformed response).
    Protocol,
    /// The client's body was refused while streaming.
    ClientBody(BodyFault),
}

impl UpstreamFailure {
    /// The failures counted in `gateway_upstream_errors_total`, each
    /// exported at zero for every configured upstream.
    pub(crate) const COUNTED: [UpstreamFailure; 6] = [
        UpstreamFailure::Connect,
        UpstreamFailure::ConnectTimeout,
        UpstreamFailure::ResponseTimeout,
        UpstreamFailure::Protocol,
        UpstreamFailure::NoEndpoint,
        UpstreamFailure::NoHealthyEndpoint,
    ];

    /// A failed exchange on an open connection, given what the request body reported.
    pub(crate) fn exchange(body: BodyFault) -> Self {
        if body == BodyFault::None {
            UpstreamFailure::Protocol
        } else {
            UpstreamFailure::ClientBody(body)
        }
    }

    /// The metrics `kind` label.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            UpstreamFailure::NoEndpoint => "no_endpoint",
            UpstreamFailure::NoHealthyEndpoint => "no_healthy_endpoint",
            UpstreamFailure::Connect => "connect",
            UpstreamFailure::ConnectTimeout => "connect_timeout",
            UpstreamFailure::ResponseTimeout => "response_timeout",
            UpstreamFailure::Protocol => "protocol",
            UpstreamFailure::ClientBody(_) => "client_body",
        }
    }

    /// Whether the upstream is to blame (and the failure counted): a
    /// client's body refused while streaming is the client's fault.
    pub(crate) fn is_upstream_fault(self) -> bool {
        !matches!(self, UpstreamFailure::ClientBody(_))
    }

    /// Whether the endpoint could not be reached at all: nothing was sent,
    /// and passive detection counts a connect failure.
    pub(crate) fn is_connect(self) -> bool {
        matches!(
            self,
            UpstreamFailure::Connect | UpstreamFailure::ConnectTimeout
        )
    }
}
