//! NGINX's value syntaxes (sizes, times, `listen` addresses) read and
//! written in the route table's units.

/// An NGINX size (`1m`, `512k`, `10M`, `1024`) in bytes.
pub fn size(text: &str) -> Option<u64> {
    let (digits, factor) = match text.as_bytes().last()? {
        b'k' | b'K' => (text.get(..text.len() - 1)?, 1024),
        b'm' | b'M' => (text.get(..text.len() - 1)?, 1024 * 1024),
        b'g' | b'G' => (text.get(..text.len() - 1)?, 1024 * 1024 * 1024),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

/// A size as the route table writes it (`1MiB`, `512KiB`, `100`).
pub fn size_text(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (factor, unit) in UNITS {
        if bytes >= factor && bytes.is_multiple_of(factor) {
            return format!("{}{unit}", bytes / factor);
        }
    }
    bytes.to_string()
}

/// The longest time the route table takes (`config::units`): 365 days.
pub const MAX_TIME_MS: u64 = 365 * 86_400_000;

/// An NGINX time (`30s`, `1m30s`, `1h 30m`, `500ms`, `60`) in milliseconds.
pub fn time_ms(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = rest.get(..unit_len)?;
        rest = rest.get(unit_len..)?.trim_start();
        let ms: u64 = match unit {
            "ms" => 1,
            "" | "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "M" => 2_592_000_000,
            "y" => 31_536_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(ms)?)?;
    }
    Some(total)
}

/// A duration as the route table writes it (`30s`, `1500ms`).
pub fn time_text(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A `listen` address as `host:port` for the route table, or why not.
pub fn listen_address(text: &str) -> Result<String, String> {
    if has_placeholder(text) && !has_request_variable(text) {
        // `listen ${NGINX_PORT};` as the official image's templates write it.
        let bare = without_placeholders(text);
        return Ok(if bare == "X" {
            format!("0.0.0.0:{text}")
        } else {
            text.to_string()
        });
    }
    if text.starts_with("unix:") {
        return Err("UNIX sockets are not supported by the gateway's listeners".into());
    }
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let (host, rest) = v6
            .split_once(']')
            .ok_or_else(|| format!("`{text}` is not an address"))?;
        let port = match rest {
            "" => "80",
            _ => rest
                .strip_prefix(':')
                .ok_or_else(|| format!("`{text}` is not an address"))?,
        };
        (format!("[{host}]"), port.to_string())
    } else if text.bytes().all(|b| b.is_ascii_digit()) {
        ("0.0.0.0".to_string(), text.to_string())
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.to_string()),
            None => (text.to_string(), "80".to_string()),
        }
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("`{text}`: `{port}` is not a port"))?;
    let host = match host.as_str() {
        "*" => "0.0.0.0".to_string(),
        "localhost" => "127.0.0.1".to_string(),
        h => h.to_string(),
    };
    let addr = format!("{host}:{port}");
    addr.parse::<std::net::SocketAddr>()
        .map_err(|_| format!("`{text}`: the gateway listens on IP addresses, not names"))?;
    Ok(addr)
}

/// Whether `text` uses an NGINX variable (`$host`, `${host}`).
pub fn has_variable(text: &str) -> bool {
    text.as_bytes().windows(2).any(|w| {
        w.first() == Some(&b'$')
            && w.get(1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'{')
    })
}

/// Why a value with NGINX's run-time variables is not translated (an
/// envsubst template's `${NAME}` is kept: see [`without_placeholders`]).
pub fn variable_why(what: &str, _text: &str) -> String {
    format!("{what} with NGINX variables have no equivalent")
}

/// `text` with the envsubst placeholders (`${NAME}`, upper case) replaced
/// by `X`: what is left is checked for NGINX's own variables. The route
/// table keeps `${NAME}` as its own placeholder, replaced when it is read.
pub fn without_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find('}') {
            Some(end)
                if end > 0
                    && after[..end]
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') =>
            {
                out.push('X');
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `text` has an envsubst placeholder.
pub fn has_placeholder(text: &str) -> bool {
    without_placeholders(text) != text
}

/// Whether `text` uses NGINX's run-time variables (placeholders aside).
pub fn has_request_variable(text: &str) -> bool {
    has_variable(&without_placeholders(text))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_nginx_units() {
        assert_eq!(size("1m"), Some(1 << 20));
        assert_eq!(size("512K"), Some(512 << 10));
        assert_eq!(size("0"), Some(0));
        assert_eq!(size("10mb"), None);
        assert_eq!(size("k"), None);
        assert_eq!(size_text(1 << 20), "1MiB");
        assert_eq!(size_text(1536), "1536");
        assert_eq!(size_text(3 << 30), "3GiB");
    }

    #[test]
    fn times_follow_nginx_units() {
        assert_eq!(time_ms("30s"), Some(30_000));
        assert_eq!(time_ms("60"), Some(60_000));
        assert_eq!(time_ms("1m30s"), Some(90_000));
        assert_eq!(time_ms("1h 30m"), Some(5_400_000));
        assert_eq!(time_ms("500ms"), Some(500));
        assert_eq!(time_ms("5x"), None);
        assert_eq!(time_ms(""), None);
        assert_eq!(time_text(90_000), "90s");
        assert_eq!(time_text(1500), "1500ms");
    }

    #[test]
    fn listen_addresses_become_socket_addresses() {
        assert_eq!(listen_address("80").unwrap(), "0.0.0.0:80");
        assert_eq!(listen_address("127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(listen_address("[::]:443").unwrap(), "[::]:443");
        assert_eq!(listen_address("*:80").unwrap(), "0.0.0.0:80");
        assert_eq!(listen_address("localhost:81").unwrap(), "127.0.0.1:81");
        assert!(listen_address("unix:/run/x.sock").is_err());
        assert_eq!(listen_address("[::1]").unwrap(), "[::1]:80");
        assert!(listen_address("[::]x:443").is_err());
        assert!(listen_address("example.com:80").is_err());
        assert!(listen_address("1.2.3.4:http").is_err());
    }

    #[test]
    fn envsubst_placeholders_are_kept_and_variables_are_not() {
        assert!(!has_request_variable("${API_HOST}:80"));
        assert!(has_request_variable("${API_HOST}$uri"));
        assert!(has_request_variable("${host}"));
        assert_eq!(
            listen_address("${NGINX_PORT}").unwrap(),
            "0.0.0.0:${NGINX_PORT}"
        );
        assert_eq!(
            variable_why("values", "$host"),
            "values with NGINX variables have no equivalent"
        );
    }

    #[test]
    fn variables_are_recognised() {
        assert!(has_variable("$host"));
        assert!(has_variable("a${b}"));
        assert!(!has_variable("price: 5$"));
        assert!(!has_variable("DENY"));
    }
}
