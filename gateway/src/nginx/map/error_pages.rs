//! Error pages across routes: the route that answers an internal URI
//! (NGINX's location search), and which `error_page`s the gateway can
//! serve (a `return` or a files route) or must report.

use super::Report;
use super::model::Route;
use crate::config::pattern::Pattern;

/// The route of `routes` that answers the internal URI `uri` (NGINX's
/// location search: exact, longest prefix, `^~`, regexes in order).
pub(super) fn target<'a>(routes: &'a [Route], uri: &str) -> Option<&'a Route> {
    if uri.starts_with('@') {
        return routes.iter().find(|r| r.location.as_deref() == Some(uri));
    }
    let path = uri.split('?').next().unwrap_or_default();
    let mut best: Option<(&Route, usize, bool)> = None;
    for r in routes {
        let (prefix, stop) = match r.location.as_deref() {
            None => (r.prefix.as_str(), false),
            Some(l) => {
                if let Some(p) = l.strip_prefix("= ") {
                    if p == path {
                        return Some(r);
                    }
                    continue;
                }
                if let Some(p) = l.strip_prefix("^~ ") {
                    (p, true)
                } else if l.starts_with('/') {
                    (l, false)
                } else {
                    continue;
                }
            }
        };
        if path.starts_with(prefix) && best.is_none_or(|(_, len, _)| prefix.len() > len) {
            best = Some((r, prefix.len(), stop));
        }
    }
    if let Some((r, _, true)) = best {
        return Some(r);
    }
    for r in routes {
        let Some(l) = r.location.as_deref() else {
            continue;
        };
        let pattern = if let Some(re) = l.strip_prefix("~* ") {
            Pattern::parse(re, true)
        } else if let Some(re) = l.strip_prefix("~ ") {
            Pattern::parse(re, false)
        } else {
            continue;
        };
        if pattern.is_ok_and(|p| p.regex().is_match(path)) {
            return Some(r);
        }
    }
    best.map(|(r, _, _)| r)
}

/// Keep the error pages the gateway serves (a `return` or a files route);
/// report the others (a proxied page) at their `error_page`.
pub fn resolve_error_pages(routes: &mut [Route], report: &mut Report) {
    let answers: Vec<Vec<bool>> = routes
        .iter()
        .map(|r| {
            r.error_pages
                .iter()
                .map(|p| {
                    target(routes, &p.uri).is_some_and(|t| t.ret.is_some() || t.files.is_some())
                })
                .collect()
        })
        .collect();
    for (r, answers) in routes.iter_mut().zip(answers) {
        let mut kept = Vec::new();
        for (page, served) in std::mem::take(&mut r.error_pages).into_iter().zip(answers) {
            if served {
                kept.push(page);
            } else if let Some(d) = &page.directive {
                let why = format!(
                    "the page `{}` is not answered by a `return` or files location: the gateway does not fetch error pages from upstreams (the original status stays, with the gateway's own error body)",
                    page.uri
                );
                let c = report.untranslated(d, &why);
                if !r.comments.contains(&c) {
                    r.comments.push(c);
                }
            }
        }
        r.error_pages = kept;
    }
}
