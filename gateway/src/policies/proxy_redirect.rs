//! NGINX's `proxy_redirect`: an upstream's `Location` or `Refresh` that
//! starts with one of the route's pairs' `from` gets its `to` instead (the
//! first that matches); by default also `http://<endpoint>/` becomes the
//! route's public prefix (`/users/` for a stripped route, `/` otherwise).
//! A `Location` from anyone else passes unchanged.

use http::{HeaderValue, header};

use crate::config::UpstreamConfig;
use crate::config::redirects::ProxyRedirect;

use super::{Hooks, OutgoingResponse, Policy};

/// The route's rewrites, `(from, to)` in order.
#[derive(Debug)]
pub(crate) struct RedirectRewrite {
    pairs: Box<[(String, String)]>,
}

impl RedirectRewrite {
    /// The rewrites of a route to `upstream` whose public prefix (what the
    /// upstream's `/` is) is `public`; `None` when there are none.
    pub(crate) fn new(
        setting: &ProxyRedirect,
        upstream: Option<&UpstreamConfig>,
        public: Option<&str>,
    ) -> Option<Self> {
        let mut pairs: Vec<(String, String)> = setting
            .rewrite
            .iter()
            .map(|p| (p.from.clone(), p.to.clone()))
            .collect();
        if setting.default
            && let (Some(upstream), Some(public)) = (upstream, public)
        {
            for endpoint in &upstream.endpoints {
                pairs.push((
                    format!("http://{}/", endpoint.authority()),
                    public.to_string(),
                ));
            }
        }
        (!pairs.is_empty()).then(|| RedirectRewrite {
            pairs: pairs.into(),
        })
    }

    fn rewrite(&self, url: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(from, _)| url.starts_with(from.as_str()))
            .map(|(from, to)| format!("{to}{}", &url[from.len()..]))
    }
}

impl Policy for RedirectRewrite {
    fn hooks(&self) -> Hooks {
        Hooks {
            response: true,
            ..Hooks::default()
        }
    }

    fn on_response(&self, response: &mut OutgoingResponse<'_>) {
        let headers = &mut response.head.headers;
        if let Some(location) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
            && let Some(new) = self.rewrite(location)
            && let Ok(value) = HeaderValue::from_str(&new)
        {
            headers.insert(header::LOCATION, value);
        }
        let refresh = header::HeaderName::from_static("refresh");
        if let Some(value) = headers.get(&refresh).and_then(|v| v.to_str().ok())
            && let Some(at) = value.to_ascii_lowercase().find("url=")
            && let Some(new) = self.rewrite(&value[at + 4..])
            && let Ok(value) = HeaderValue::from_str(&format!("{}{new}", &value[..at + 4]))
        {
            headers.insert(refresh, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::redirects::RedirectPair;

    #[test]
    fn explicit_pairs_first_then_nothing_else() {
        let setting = ProxyRedirect {
            default: true,
            rewrite: vec![RedirectPair {
                from: "http://app.internal/".into(),
                to: "https://shop.test/".into(),
            }],
        };
        let r = RedirectRewrite::new(&setting, None, Some("/users/")).expect("a pair");
        assert_eq!(
            r.rewrite("http://app.internal/a?b").as_deref(),
            Some("https://shop.test/a?b")
        );
        assert_eq!(r.rewrite("http://elsewhere/a"), None);
        let off = ProxyRedirect {
            default: false,
            rewrite: Vec::new(),
        };
        assert!(RedirectRewrite::new(&off, None, Some("/")).is_none());
    }
}
