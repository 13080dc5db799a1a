//! Messages for files that are not valid TOML or do not match the schema:
//! `line L, column C: message (in [table])`.

/// `line L, column C: message (in [table])` for a TOML error in `text`.
pub(super) fn describe_syntax_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim_end().replace('\n', "; ");
    let Some(span) = err.span() else {
        return message.to_string();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    let error_line = text.lines().nth(line - 1).unwrap_or("").trim_start();
    let table = before
        .lines()
        .filter(|_| !error_line.starts_with('['))
        .rev()
        .skip(1)
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|t| format!(" (in {t})"))
        .unwrap_or_default();
    format!("line {line}, column {column}: {message}{table}")
}
