//! libFuzzer's inputs as upstream response streams, read by hyper's
//! client and by `gateway::upstream_http1`: any difference in status,
//! fields, body bytes, trailers or errors is a crash. The first byte
//! chooses the request method (bit 0: `HEAD`, else `GET`) and the size of
//! the reads the codec is fed (the other bits, plus one).
#![no_main]

#[path = "../../tests/upstream_http1/oracle.rs"]
mod oracle;

use http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let method = if control & 1 == 1 {
        Method::HEAD
    } else {
        Method::GET
    };
    let piece = usize::from(control >> 1) + 1;
    if let Err(difference) = oracle::compare(stream, &method, piece) {
        panic!("{difference}");
    }
});
