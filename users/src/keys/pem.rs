//! The small part of PEM (RFC 7468) we need: labelled base64 blocks.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The label (`PRIVATE KEY`, `PUBLIC KEY`).
    pub label: String,
    /// The DER bytes.
    pub der: Vec<u8>,
}

/// Every block in `text`, in order; text outside blocks is ignored.
///
/// A literal `\n` counts as a line break: env files (Compose `env_file`,
/// `kubectl --from-env-file`) cannot hold multi-line values, so a PEM is
/// written on one line there.
pub fn parse_all(text: &str) -> Result<Vec<Block>, String> {
    let text = text.replace("\\n", "\n");
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        loop {
            match lines.next() {
                Some(l) if l == end => break,
                Some(l) => body.push_str(l),
                None => return Err(format!("PEM block `{label}` has no END line")),
            }
        }
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| format!("PEM block `{label}` is not valid base64: {e}"))?;
        blocks.push(Block {
            label: label.to_string(),
            der,
        });
    }
    Ok(blocks)
}

/// Encode `der` as a PEM block with `label`.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_several_blocks() {
        let text = format!(
            "comment\n{}{}",
            encode("A", &[1, 2, 3]),
            encode("B", &[0; 70])
        );
        let blocks = parse_all(&text).expect("parses");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].der, vec![1, 2, 3]);
        assert_eq!(blocks[1].label, "B");
    }

    #[test]
    fn one_line_pem_with_escaped_newlines_is_accepted() {
        let one_line = encode("PRIVATE KEY", &[7; 48]).replace('\n', "\\n");
        assert!(!one_line.contains('\n'));
        let blocks = parse_all(&one_line).expect("parses");
        assert_eq!(blocks[0].der, vec![7; 48]);
    }

    #[test]
    fn unterminated_blocks_are_refused() {
        assert!(parse_all("-----BEGIN X-----\nAAAA\n").is_err());
    }
}
