//! Precompressed siblings (`app.js.br`, `app.js.zst`, `app.js.gz`), chosen
//! by the client's `Accept-Encoding` like NGINX's `gzip_static` (and the
//! brotli module's `brotli_static`): the highest `q` wins, ties go to the
//! smaller format (br, then zstd, then gzip); `q=0` refuses a coding.

use http::{HeaderMap, header};

/// A coding with a precompressed sibling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// `.br`
    Brotli,
    /// `.zst`
    Zstd,
    /// `.gz`
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` token.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The sibling's suffix.
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => ".br",
            Coding::Zstd => ".zst",
            Coding::Gzip => ".gz",
        }
    }
}

/// Every coding with a sibling, smallest format first.
pub(crate) const ALL: [Coding; 3] = [Coding::Brotli, Coding::Zstd, Coding::Gzip];

/// `q` of `coding` in `Accept-Encoding` (`*` counts for codings not
/// named), in thousandths; 0 when not accepted.
fn quality(accept: &str, coding: Coding) -> u16 {
    let mut star = None;
    for item in accept.split(',') {
        let mut params = item.split(';');
        let name = params.next().unwrap_or("").trim();
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .map(parse_q)
            .next()
            .unwrap_or(1000);
        if name.eq_ignore_ascii_case(coding.token())
            || (coding == Coding::Gzip && name.eq_ignore_ascii_case("x-gzip"))
        {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0)
}

fn parse_q(text: &str) -> u16 {
    let text = text.trim();
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let whole: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return 0,
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let mut f: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        f += u16::from(b - b'0') * [100, 10, 1][i];
    }
    (whole + f).min(1000)
}

/// The codings the client accepts, best first.
pub(crate) fn preferred(headers: &HeaderMap) -> Vec<Coding> {
    let accept: String = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    if accept.is_empty() {
        return Vec::new();
    }
    let mut ranked: Vec<(u16, usize, Coding)> = ALL
        .iter()
        .enumerate()
        .map(|(i, &c)| (quality(&accept, c), i, c))
        .filter(|(q, _, _)| *q > 0)
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn of(value: &str) -> Vec<Coding> {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("value"),
        );
        preferred(&h)
    }

    #[test]
    fn ranks_by_q_then_size() {
        use Coding::*;
        assert_eq!(of("gzip"), vec![Gzip]);
        assert_eq!(of("gzip, deflate, br, zstd"), vec![Brotli, Zstd, Gzip]);
        assert_eq!(of("gzip;q=1, br;q=0.5"), vec![Gzip, Brotli]);
        assert_eq!(of("br;q=0, gzip"), vec![Gzip]);
        assert_eq!(of("gzip;q=0"), Vec::<Coding>::new());
        assert_eq!(of("*"), vec![Brotli, Zstd, Gzip]);
        assert_eq!(of("*;q=0.1, gzip;q=0"), vec![Brotli, Zstd]);
        assert_eq!(of("identity"), Vec::<Coding>::new());
        assert_eq!(of("x-gzip"), vec![Gzip]);
        assert_eq!(of("GZIP;Q=0.500"), vec![Gzip]);
        assert_eq!(of("gzip;q=2"), Vec::<Coding>::new());
        assert_eq!(preferred(&HeaderMap::new()), Vec::<Coding>::new());
    }
}
