//! `${NAME}` and `${NAME:-default}` in any string value of the route table
//! (the envsubst habit of NGINX images), replaced before validation, so
//! `/config` shows the result. An unset variable without a default is
//! refused with its name and the key. `$name` without braces is left alone
//! (NGINX's variables, e.g. `$host`); `$${` writes a literal `${`.

use toml::{Table, Value};

use super::error::{Checker, ConfigError};
use super::overlay::Env;

/// Replace the placeholders of every string in `table`; `Ok(false)` when
/// there were none. The process environment is read even when the
/// overlay ignores it (the launcher, tests): the file names the variable
/// itself.
pub(super) fn substitute(
    c: &Checker<'_>,
    table: &mut Table,
    env: Env<'_>,
) -> Result<bool, ConfigError> {
    let env = match env {
        Env::Ignored => Env::Process,
        other => other,
    };
    let mut changed = false;
    for (key, value) in table.iter_mut() {
        walk(c, key, value, env, &mut changed)?;
    }
    Ok(changed)
}

fn walk(
    c: &Checker<'_>,
    key: &str,
    value: &mut Value,
    env: Env<'_>,
    changed: &mut bool,
) -> Result<(), ConfigError> {
    match value {
        Value::String(s) if s.contains("${") => {
            *s = expand(s, env).map_err(|p| c.err(key, p))?;
            *changed = true;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(c, &format!("{key}[{i}]"), item, env, changed)?;
            }
        }
        Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                walk(c, &format!("{key}.{k}"), v, env, changed)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `text` with its placeholders replaced from `env`.
pub(super) fn expand(text: &str, env: Env<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            // `$${`: a literal `${`.
            out.push_str(&rest[..at]);
            out.push('{');
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let inner = &rest[at + 2..];
        let end = inner
            .find('}')
            .ok_or_else(|| format!("`${{` without its closing `}}` in `{text}`"))?;
        let body = &inner[..end];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`${{{body}}}` is not an environment placeholder (`${{NAME}}` or `${{NAME:-default}}`; write `$${{` for a literal `${{`)"
            ));
        }
        match (env.get(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(format!(
                    "environment variable `{name}` is not set (and `${{{name}}}` has no `:-default`)"
                ));
            }
        }
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env<'static> {
        Env::Fixed(&[("API_HOST", "api.test"), ("EMPTY", "")])
    }

    #[test]
    fn placeholders_defaults_and_literals() {
        assert_eq!(
            expand("http://${API_HOST}:80", env()).as_deref(),
            Ok("http://api.test:80")
        );
        assert_eq!(
            expand("${MISSING:-x.test}/${EMPTY:-d}", env()).as_deref(),
            Ok("x.test/d")
        );
        assert_eq!(
            expand("$host$request_uri", env()).as_deref(),
            Ok("$host$request_uri")
        );
        assert_eq!(
            expand("a$${API_HOST}", env()).as_deref(),
            Ok("a${API_HOST}")
        );
    }

    #[test]
    fn an_unset_variable_without_default_is_refused_by_name() {
        let e = expand("http://${MISSING}/", env()).expect_err("unset");
        assert!(e.contains("`MISSING` is not set"), "{e}");
        let e = expand("${1}", env()).expect_err("not a name");
        assert!(e.contains("not an environment placeholder"), "{e}");
    }
}
