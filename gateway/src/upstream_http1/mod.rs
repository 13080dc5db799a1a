//! The upstream side of HTTP/1.1 as plain functions over byte buffers: a
//! response head parser ([`parse_response_head`]) and a body framing
//! decoder ([`BodyDecoder`]), with no I/O, tasks or channels of their own,
//! so that an exchange can be driven in the task of the request it serves
//! (Pingora's design) instead of through hyper's client dispatcher.
//!
//! The rules are hyper 1's client rules, on purpose and to the letter
//! (`hyper/src/proto/h1/role.rs`, `decode.rs`): the gateway forwarded
//! through hyper's client until now, and every smuggling and framing test
//! was written against its behaviour. Differences are bugs:
//! `gateway/tests/upstream_http1_differential.rs` feeds the same upstream
//! byte streams to this module and to hyper's client and compares status,
//! headers, body bytes, trailers and errors, and the fuzz target in
//! `gateway/fuzz/` keeps doing so with generated streams.
//!
//! - informational responses (`1xx` but `101`) are skipped;
//! - no body for `101` (an upgrade), `204`, `304`, a response to `HEAD`,
//!   and a `2xx` to `CONNECT` (an upgrade);
//! - `Transfer-Encoding` present: an error on HTTP/1.0, chunked when the
//!   last coding is `chunked`, else delimited by the close of the
//!   connection; `Content-Length` is then ignored;
//! - otherwise every `Content-Length` value (also comma-separated lists)
//!   must be the same decimal number, or the head is refused; without one
//!   the body ends when the connection closes;
//! - a head longer than the read buffer, with more than 100 fields or a
//!   field name of 64 KiB or more is refused as too large;
//! - chunked bodies: chunk extensions ignored but at most 16 KiB of them
//!   per body, trailers at most 16 KiB and 100 fields.

mod chunked;
mod decoder;
mod frame;
mod head;

pub use decoder::BodyDecoder;
pub use frame::{BodyError, Decoded};
pub use head::{BodyFraming, HeadError, HeadLimits, ResponseHead, parse_response_head};
