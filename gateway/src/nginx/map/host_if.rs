//! Certbot's redirect idiom at server level: `if ($host = NAME) { return
//! 301 https://$host$request_uri; }`, one per name, before the server's
//! own `return 404`. NGINX answers a request for NAME with that `return`
//! (the server-level rewrite phase runs before the location search); the
//! route table says the same with a virtual server named NAME answering
//! it, the rest of the server keeping its other names.

use super::super::parse::Directive;

/// `if ($host = NAME) { return ...; }`: NAME (lowercase) and the `return`.
pub(super) fn host_if(d: &Directive) -> Option<(String, &Directive)> {
    if d.name != "if" {
        return None;
    }
    let cond: String = d
        .arg_texts()
        .concat()
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | ' ' | '"' | '\''))
        .collect();
    let name = cond.strip_prefix("$host=")?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    match d.children() {
        [ret] if valid && ret.name == "return" => Some((name.to_ascii_lowercase(), ret)),
        _ => None,
    }
}

/// The server's idioms when every server-level `if` is one (else none:
/// the `if`s are reported as they are).
pub(super) fn host_ifs(server: &Directive) -> Vec<(String, &Directive)> {
    let ifs: Vec<&Directive> = server
        .children()
        .iter()
        .filter(|d| d.name == "if")
        .collect();
    let idioms: Vec<(String, &Directive)> = ifs.iter().filter_map(|d| host_if(d)).collect();
    if idioms.len() == ifs.len() {
        idioms
    } else {
        Vec::new()
    }
}

/// The names grouped by the `return` they get (same arguments, first
/// seen first): one virtual server each.
pub(super) fn by_return<'a>(
    idioms: &[(String, &'a Directive)],
) -> Vec<(Vec<String>, &'a Directive)> {
    let mut groups: Vec<(Vec<String>, &'a Directive)> = Vec::new();
    for (name, ret) in idioms {
        let same = |r: &&Directive| r.arg_texts() == ret.arg_texts();
        match groups.iter_mut().find(|(_, r)| same(r)) {
            Some((names, _)) if !names.contains(name) => names.push(name.clone()),
            Some(_) => {}
            None => groups.push((vec![name.clone()], ret)),
        }
    }
    groups
}
