//! Strings built per request from NGINX-style variables: `return`
//! locations and bodies, `rewrite` replacements, upstream paths. Parsed once
//! at validation (an unknown variable is refused); evaluated by
//! `routing::vars`.

use serde::Serialize;

/// A variable a template may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Var {
    /// `$scheme`: `http` or `https`.
    Scheme,
    /// `$host`: the request's host name, lowercase, without its port.
    Host,
    /// `$request_uri`: the target as the client sent it (path and query).
    RequestUri,
    /// `$uri`: the current normalised path (after rewrites).
    Uri,
    /// `$args` / `$query_string`: the current query, without `?`.
    Args,
    /// `$is_args`: `?` when there is a query, else empty.
    IsArgs,
    /// `$remote_addr`: the client's address as the gateway derived it.
    RemoteAddr,
    /// `$request_method`.
    Method,
    /// `$1` .. `$9`: a numbered capture of the last matched regex.
    Capture(usize),
    /// `$name`: a named capture of the last matched regex.
    Named(String),
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Copied as is.
    Literal(String),
    /// Replaced by the variable's value.
    Var(Var),
}

/// A parsed template, shown as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    text: String,
    parts: Vec<Part>,
}

impl Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl Template {
    /// Parse `text`; `groups` are the named captures its regexes define
    /// (any other name that is not a known variable is refused).
    pub(crate) fn parse(text: &str, groups: &[&str]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            literal.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, braced, len) = if let Some(inner) = after.strip_prefix('{') {
                let end = inner
                    .find('}')
                    .ok_or_else(|| format!("`{text}`: `${{` without its closing `}}`"))?;
                (&inner[..end], true, end + 2)
            } else if after.starts_with(|c: char| c.is_ascii_digit()) {
                (&after[..1], false, 1)
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], false, end)
            };
            if name.is_empty() && !braced {
                // A lone `$` (e.g. the end of a regex-like text) stays literal.
                literal.push('$');
                rest = after;
                continue;
            }
            let var = var(name, groups).ok_or_else(|| {
                format!(
                    "`{text}`: unknown variable `${name}` (known: $scheme, $host, $request_uri, $uri, $args, $query_string, $is_args, $remote_addr, $request_method, $1..$9, and the named captures of the route's regexes)"
                )
            })?;
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Var(var));
            rest = &after[len..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template {
            text: text.to_string(),
            parts,
        })
    }

    /// Its pieces.
    pub(crate) fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// As written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Whether it starts with a scheme or `$scheme` (NGINX treats such a
    /// `rewrite` replacement as a redirect).
    pub(crate) fn is_absolute_url(&self) -> bool {
        self.text.starts_with("http://")
            || self.text.starts_with("https://")
            || self.text.starts_with("$scheme")
    }
}

fn var(name: &str, groups: &[&str]) -> Option<Var> {
    Some(match name {
        "scheme" => Var::Scheme,
        "host" => Var::Host,
        "request_uri" => Var::RequestUri,
        "uri" | "document_uri" => Var::Uri,
        "args" | "query_string" => Var::Args,
        "is_args" => Var::IsArgs,
        "remote_addr" => Var::RemoteAddr,
        "request_method" => Var::Method,
        n if n.len() == 1 && n.as_bytes()[0].is_ascii_digit() => {
            Var::Capture(usize::from(n.as_bytes()[0] - b'0'))
        }
        n if groups.contains(&n) => Var::Named(n.to_string()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_captures_and_literals() {
        let t = Template::parse("https://$host$request_uri", &[]).expect("valid");
        assert_eq!(
            t.parts(),
            [
                Part::Literal("https://".into()),
                Part::Var(Var::Host),
                Part::Var(Var::RequestUri)
            ]
        );
        let t = Template::parse("/new/$1/${name}x$12", &["name"]).expect("valid");
        assert_eq!(
            t.parts(),
            [
                Part::Literal("/new/".into()),
                Part::Var(Var::Capture(1)),
                Part::Literal("/".into()),
                Part::Var(Var::Named("name".into())),
                Part::Literal("x".into()),
                Part::Var(Var::Capture(1)),
                Part::Literal("2".into()),
            ]
        );
        assert!(
            Template::parse("$scheme://x", &[])
                .expect("valid")
                .is_absolute_url()
        );
    }

    #[test]
    fn unknown_variables_are_refused_by_name() {
        let e = Template::parse("/x/$nope", &["other"]).expect_err("unknown");
        assert!(e.contains("unknown variable `$nope`"), "{e}");
        let e = Template::parse("/x/${open", &[]).expect_err("unclosed");
        assert!(e.contains("without its closing"), "{e}");
    }
}
