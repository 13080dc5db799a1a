use super::*;
use http::HeaderMap;
use std::io::ErrorKind;

/// Everything `decoder` reads from `raw` (all arrived, then `eof`).
fn run(
    framing: BodyFraming,
    raw: &[u8],
    eof: bool,
) -> (
    Vec<u8>,
    Option<HeaderMap>,
    Result<bool, BodyError>,
    BytesMut,
) {
    let mut decoder = BodyDecoder::new(framing);
    let mut buf = BytesMut::from(raw);
    let mut data = Vec::new();
    let mut trailers = None;
    let outcome = loop {
        match decoder.decode(&mut buf, eof) {
            Ok(Decoded::Data(d)) => {
                assert!(!d.is_empty());
                data.extend_from_slice(&d);
            }
            Ok(Decoded::Trailers(t)) => trailers = Some(t),
            Ok(Decoded::End) => break Ok(true),
            Ok(Decoded::NeedMore) => break Ok(false),
            Err(e) => break Err(e),
        }
    };
    (data, trailers, outcome, buf)
}

#[test]
fn a_length_body_stops_at_its_length_and_leaves_the_rest() {
    let (data, _, end, rest) = run(BodyFraming::Length(5), b"helloHTTP/1.1", false);
    assert_eq!(data, b"hello");
    assert_eq!(end, Ok(true));
    assert_eq!(&rest[..], b"HTTP/1.1");
}

#[test]
fn a_length_body_cut_short_is_an_unexpected_eof() {
    let (data, _, end, _) = run(BodyFraming::Length(10), b"hello", true);
    assert_eq!(data, b"hello");
    assert_eq!(end.unwrap_err().kind(), ErrorKind::UnexpectedEof);
    let (_, _, more, _) = run(BodyFraming::Length(10), b"hello", false);
    assert_eq!(more, Ok(false));
}

#[test]
fn a_close_delimited_body_ends_at_eof_only() {
    let (data, _, end, _) = run(BodyFraming::CloseDelimited, b"abc", false);
    assert_eq!((data.as_slice(), end), (&b"abc"[..], Ok(false)));
    let (data, _, end, _) = run(BodyFraming::CloseDelimited, b"abc", true);
    assert_eq!((data.as_slice(), end), (&b"abc"[..], Ok(true)));
}

#[test]
fn chunks_with_extensions_and_trailers() {
    let raw = b"5;name=value\r\nhello\r\nA ; x\r\n0123456789\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\nnext";
    let (data, trailers, end, rest) = run(BodyFraming::Chunked, raw, false);
    assert_eq!(data, b"hello0123456789");
    let trailers = trailers.expect("trailers");
    assert_eq!(trailers["expires"], "never");
    assert_eq!(trailers["x-sum"], "1");
    assert_eq!(end, Ok(true));
    assert_eq!(&rest[..], b"next");
}

#[test]
fn chunk_framing_errors_have_hyper_kinds() {
    for (raw, kind) in [
        (&b"x\r\n"[..], ErrorKind::InvalidInput),
        (b"5x\r\n", ErrorKind::InvalidInput),
        (b"5 5\r\n", ErrorKind::InvalidInput),
        (b"5\n", ErrorKind::InvalidInput),
        (b"5\r\nhelloX", ErrorKind::InvalidInput),
        (b"5\r\nhello\rX", ErrorKind::InvalidInput),
        (b"5;a\nb\r\n", ErrorKind::InvalidData),
        (b"10000000000000000\r\n", ErrorKind::InvalidData),
        (b"0\r\n\rX", ErrorKind::InvalidInput),
        (b"0\r\nBad Name: x\r\n\r\n", ErrorKind::InvalidInput),
        (b"5\r\nhel", ErrorKind::UnexpectedEof),
        (b"5\r\nhello\r", ErrorKind::UnexpectedEof),
    ] {
        let (_, _, end, _) = run(BodyFraming::Chunked, raw, true);
        assert_eq!(
            end.map_err(|e| e.kind()),
            Err(kind),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn chunk_extensions_and_trailers_are_bounded() {
    let ext = format!("1;{}\r\na\r\n0\r\n\r\n", "e".repeat(16 * 1024));
    let (_, _, end, _) = run(BodyFraming::Chunked, ext.as_bytes(), true);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::InvalidData);
    let trailer = format!("0\r\nX: {}\r\n\r\n", "t".repeat(16 * 1024));
    let (_, _, end, _) = run(BodyFraming::Chunked, trailer.as_bytes(), true);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::InvalidData);
    let many: String = (0..101).map(|i| format!("T{i}: v\r\n")).collect();
    let raw = format!("0\r\n{many}\r\n");
    let (_, _, end, _) = run(BodyFraming::Chunked, raw.as_bytes(), true);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::InvalidData);
}

#[test]
fn a_chunked_body_fed_byte_by_byte_reads_the_same() {
    let raw = b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n";
    let mut decoder = BodyDecoder::new(BodyFraming::Chunked);
    let mut buf = BytesMut::new();
    let mut data = Vec::new();
    let mut trailers = None;
    for &b in raw {
        buf.extend_from_slice(&[b]);
        loop {
            match decoder.decode(&mut buf, false).unwrap() {
                Decoded::Data(d) => data.extend_from_slice(&d),
                Decoded::Trailers(t) => trailers = Some(t),
                Decoded::End | Decoded::NeedMore => break,
            }
        }
    }
    assert_eq!(data, b"abcde");
    assert_eq!(trailers.unwrap()["t"], "1");
    assert!(decoder.is_end());
}
