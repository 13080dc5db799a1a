//! NGINX's model in the route table: `location`, `rewrite`, `return`,
//! `access`, `upstream_path`, `internal`, `proxy_redirect`, `[[servers]]`
//! and `${NAME}` placeholders: each accepted, and each refusal naming its key.

use super::super::{Location, ServerName};
use super::*;

const UP: &str = "[upstreams.app]\nendpoints = [\"http://app:8000\"]\n";

fn route(body: &str) -> String {
    format!("{UP}[[routes]]\n{body}\n")
}

#[test]
fn nginx_locations_rewrites_returns_and_access_are_read() {
    let config = accepted(&route(
        "location = '~* ^/img/(?<name>.+)$'\nupstream = \"app\"\nupstream_path = \"/$name\"\naccess = [\"allow 10.0.0.0/8\", \"deny all\"]\nrewrite = [{ regex = \"^/img/old/(.*)$\", replacement = \"/img/$1\", flag = \"last\" }]\n[routes.proxy_redirect]\nrewrite = [{ from = \"http://app:8000/\", to = \"/\" }]",
    ));
    let r = &config.routes[0];
    assert!(matches!(r.location, Location::Regex(_)));
    assert!(!r.strip_prefix, "a location forwards the path unchanged");
    assert_eq!(r.access.len(), 2);
    assert_eq!(r.rewrite.len(), 1);
    assert!(r.proxy_redirect.is_some());
    let config = accepted(&route(
        "location = \"= /ok\"\nreturn = { status = 200, body = \"ok $host\" }",
    ));
    assert!(config.routes[0].return_.is_some());
    assert!(config.routes[0].upstream.is_empty());
    let config = accepted(&route(
        "location = \"@fallback\"\nreturn = { status = 204 }",
    ));
    assert_eq!(
        config.routes[0].location,
        Location::Named("@fallback".into())
    );
    let config = accepted(&route(
        "location = \"/api/\"\nupstream = \"app\"\nstrip_prefix = true\ninternal = true",
    ));
    assert!(
        config.routes[0].strip_prefix && config.routes[0].internal && config.routes[0].add_slash
    );
}

#[test]
fn each_invalid_combination_is_refused_naming_its_key() {
    for (body, want) in [
        (
            "location = \"x\"\nupstream = \"app\"",
            "FILE: routes[0].location: `x` must start with `/`",
        ),
        (
            "prefix = \"/a/\"\nlocation = \"/a/\"\nupstream = \"app\"",
            "FILE: routes[0].location: give either `prefix` or `location`, not both",
        ),
        (
            "upstream = \"app\"",
            "FILE: routes[0].prefix: required (or `location`)",
        ),
        (
            "location = '~ ^/(a)\\1'\nupstream = \"app\"",
            "FILE: routes[0].location: `^/(a)\\1`: backreferences",
        ),
        (
            "location = '~ ^/(?=a)'\nupstream = \"app\"",
            "FILE: routes[0].location: `^/(?=a)`: look-around",
        ),
        ("location = \"/a/\"", "FILE: routes[0].upstream: required"),
        (
            "location = \"/a/\"\nupstream = \"app\"\nreturn = { status = 200 }",
            "FILE: routes[0].return: a route has one content handler",
        ),
        (
            "location = \"/a/\"\nreturn = { status = 301 }",
            "FILE: routes[0].return.location: required with the redirect status 301",
        ),
        (
            "location = \"/a/\"\nreturn = { status = 200, location = \"/x\" }",
            "FILE: routes[0].return.location: only a redirect status",
        ),
        (
            "location = \"/a/\"\nreturn = { status = 302, location = \"/x\", body = \"b\" }",
            "FILE: routes[0].return.body: a redirect has a `location`",
        ),
        (
            "location = \"/a/\"\nreturn = { status = 444, body = \"x\" }",
            "FILE: routes[0].return: 444 closes the connection without an answer",
        ),
        (
            "location = \"/a/\"\nreturn = { status = 600 }",
            "FILE: routes[0].return.status: 600 is not a status the gateway answers with",
        ),
        (
            "location = \"/a/\"\nreturn = { status = 200, body = \"$nope\" }",
            "FILE: routes[0].return.body: `$nope`: unknown variable `$nope`",
        ),
        (
            "location = \"/a/\"\nrewrite = [{ regex = \"(\", replacement = \"/\" }]",
            "FILE: routes[0].rewrite[0].regex: `(`: not a valid regular expression",
        ),
        (
            "location = \"/a/\"\nrewrite = [{ regex = \"a\", replacement = \"/$x\" }]",
            "FILE: routes[0].rewrite[0].replacement: `/$x`: unknown variable",
        ),
        (
            "location = \"/a/\"\nrewrite = [{ regex = \"a\", replacement = \"/\", flag = \"sometimes\" }]",
            "unknown variant `sometimes`",
        ),
        (
            "location = \"/a/\"\nupstream = \"app\"\naccess = [\"permit all\"]",
            "FILE: routes[0].access[0]: `permit`: expected `allow` or `deny`",
        ),
        (
            "location = \"/a/\"\nupstream = \"app\"\naccess = [\"allow 10.0.0.300\"]",
            "FILE: routes[0].access[0]: `10.0.0.300` is not an address",
        ),
        (
            "location = \"/a/\"\nupstream = \"app\"\naccess = [\"deny\"]",
            "FILE: routes[0].access[0]: `deny`: expected",
        ),
        (
            "location = \"/a/\"\nreturn = { status = 200 }\nupstream_path = \"/x\"",
            "FILE: routes[0].upstream_path: only a proxied route",
        ),
        (
            "location = \"/a/\"\nupstream = \"app\"\nupstream_path = \"/x\"\nstrip_prefix = true",
            "FILE: routes[0].upstream_path: give either `upstream_path` or `strip_prefix`",
        ),
        (
            "location = \"/a/\"\nupstream = \"app\"\nupstream_path = \"/$9x$zz\"",
            "FILE: routes[0].upstream_path: `/$9x$zz`: unknown variable `$zz`",
        ),
        (
            "location = \"= /a\"\nupstream = \"app\"\nstrip_prefix = true",
            "FILE: routes[0].strip_prefix: only a prefix location ending in `/`",
        ),
        (
            "location = \"@x\"\nreturn = { status = 204 }\ninternal = false",
            "FILE: routes[0].internal: a named location is always internal",
        ),
        (
            "location = \"/a/\"\nreturn = { status = 204 }\n[routes.proxy_redirect]",
            "FILE: routes[0].proxy_redirect: only a proxied route",
        ),
        (
            "location = \"/a/\"\nupstream = \"app\"\n[routes.proxy_redirect]\nrewrite = [{ from = \"\", to = \"/\" }]",
            "FILE: routes[0].proxy_redirect.rewrite[0].from: must not be empty",
        ),
    ] {
        assert_refused(&route(body), want);
    }
    assert_refused(
        &format!(
            "{UP}[[routes]]\nlocation = \"/a/\"\nupstream = \"app\"\n[[routes]]\nlocation = \"/a/\"\nupstream = \"app\"\n"
        ),
        "FILE: routes[1].location: duplicate location `/a/` (also routes[0])",
    );
}

#[test]
fn servers_are_read_and_their_refusals_name_the_key() {
    let config = accepted(&format!(
        "{UP}[[routes]]\nprefix = \"/\"\nupstream = \"app\"\n[[servers]]\nnames = [\"shop.test\", \"*.shop.test\", '~^(?<sub>\\w+)\\.example\\.net$']\n[[servers.routes]]\nlocation = \"/\"\nreturn = {{ status = 200, body = \"$sub\" }}\n"
    ));
    assert_eq!(
        config.servers[0].names[0],
        ServerName::Exact("shop.test".into())
    );
    for (servers, want) in [
        (
            "[[servers]]\nnames = [\"a b\"]\n[[servers.routes]]\nprefix = \"/\"\nupstream = \"app\"",
            "FILE: servers[0].names[0]: `a b` is not a server name",
        ),
        (
            "[[servers]]\nnames = []\n[[servers.routes]]\nprefix = \"/\"\nupstream = \"app\"",
            "FILE: servers[0].names: a server needs names",
        ),
        (
            "[[servers]]\nnames = [\"a.test\"]",
            "FILE: servers[0].routes: a server needs at least one",
        ),
        (
            "[[servers]]\nnames = [\"a.test\"]\n[[servers.routes]]\nprefix = \"/\"\nupstream = \"nope\"",
            "FILE: servers[0].routes[0].upstream: unknown upstream",
        ),
        (
            "[[servers]]\nnames = [\"a.test\"]\n[[servers.routes]]\nprefix = \"/\"\nupstream = \"app\"\n[[servers]]\nnames = [\"A.test\"]\n[[servers.routes]]\nprefix = \"/\"\nupstream = \"app\"",
            "FILE: servers[1].names[0]: `a.test` is also a name of servers[0] on 0.0.0.0:80",
        ),
        (
            "[[servers]]\nnames = [\"a.test\"]\ndefault = true\n[[servers.routes]]\nprefix = \"/\"\nupstream = \"app\"",
            "FILE: servers[0].default: the top-level [[routes]] are the default server",
        ),
    ] {
        assert_refused(
            &format!("{UP}[[routes]]\nprefix = \"/\"\nupstream = \"app\"\n{servers}\n"),
            want,
        );
    }
}

#[test]
fn servers_listen_on_their_own_addresses_and_the_refusals_name_the_key() {
    let srv = |lines: &str| {
        format!("[[servers]]\n{lines}\n[[servers.routes]]\nprefix = \"/\"\nupstream = \"app\"\n")
    };
    let config = accepted(&format!(
        "{UP}{}{}{}",
        srv("names = [\"a.test\"]\nlisten = [\"127.0.0.1:8081\", \"[::1]:8082\"]"),
        // The same name on another listener, and a default on each.
        srv("names = [\"a.test\"]\ndefault = true"),
        srv("names = [\"b.test\"]\nlisten = [\"127.0.0.1:8081\"]\ndefault = true"),
    ));
    assert_eq!(config.servers[0].listen.len(), 2);
    let listeners: Vec<(String, bool, bool)> = config
        .listeners()
        .iter()
        .map(|l| (l.on.addr.to_string(), l.on.tls, l.default))
        .collect();
    assert_eq!(
        listeners,
        [
            ("0.0.0.0:80".to_string(), false, true),
            ("127.0.0.1:8081".to_string(), false, false),
            ("[::1]:8082".to_string(), false, false),
        ]
    );
    for (servers, want) in [
        (
            srv("names = [\"a.test\"]\nlisten = [\"nope\"]"),
            "FILE: servers[0].listen[0]: `nope` is not an address",
        ),
        (
            srv("names = [\"a.test\"]\nlisten = [\"127.0.0.1:8081\", \"127.0.0.1:8081\"]"),
            "FILE: servers[0].listen[1]: 127.0.0.1:8081 is listed twice in this server",
        ),
        (
            srv("names = [\"a.test\"]\nlisten_tls = [\"127.0.0.1:8443\"]"),
            "FILE: servers[0].listen_tls[0]: a TLS listener needs the [tls] section",
        ),
        (
            srv("names = [\"a.test\"]\nlisten = [\"127.0.0.1:9000\"]"),
            "FILE: servers[0].listen[0]: 127.0.0.1:9000 is the admin listener",
        ),
        (
            srv("names = [\"a.test\"]\nlisten = [\"127.0.0.1:8081\"]")
                + &srv(
                    "names = [\"b.test\"]\nlisten = [\"127.0.0.1:8081\"]\nlisten_tls = [\"127.0.0.1:8081\"]",
                ),
            "FILE: servers[1].listen_tls[0]: 127.0.0.1:8081 is listed twice in this server",
        ),
        (
            srv("names = [\"a.test\"]\nlisten = [\"127.0.0.1:8081\"]")
                + &srv("names = [\"A.test\"]\nlisten = [\"127.0.0.1:8081\"]"),
            "FILE: servers[1].names[0]: `a.test` is also a name of servers[0] on 127.0.0.1:8081",
        ),
        (
            srv("names = [\"a.test\"]\nlisten = [\"127.0.0.1:8081\"]\ndefault = true")
                + &srv("names = [\"b.test\"]\nlisten = [\"127.0.0.1:8081\"]\ndefault = true"),
            "FILE: servers[1].default: servers[0] is the default server of 127.0.0.1:8081 already",
        ),
        (
            srv("names = [\"a.test\", \"A.TEST\"]"),
            "FILE: servers[0].names[1]: `A.TEST` is named twice",
        ),
    ] {
        assert_refused(&format!("{UP}{servers}"), want);
    }
    // An address is plain or TLS: a server's TLS listener on the public address.
    let tls = "[tls]\nlisten = \"0.0.0.0:443\"\n[[tls.certificates]]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
    let text = format!(
        "{UP}[[routes]]\nprefix = \"/\"\nupstream = \"app\"\n{}{tls}",
        srv("names = [\"a.test\"]\nlisten_tls = [\"0.0.0.0:80\"]")
    );
    assert_refused(
        &text,
        "FILE: servers[0].listen_tls[0]: 0.0.0.0:80 is also a plain listener; an address speaks one of them",
    );
    // With [tls], a TLS listener of its own is a listener after the default two.
    let config = accepted(&format!(
        "{UP}[[routes]]\nprefix = \"/\"\nupstream = \"app\"\n{}{tls}",
        srv("names = [\"a.test\"]\nlisten_tls = [\"0.0.0.0:8443\"]")
    ));
    let listeners = config.listeners();
    assert_eq!(listeners.len(), 3);
    assert!(listeners[1].on.tls && listeners[1].default);
    assert!(listeners[2].on.tls && !listeners[2].default);
    assert_eq!(listeners[2].on.addr.port(), 8443);
}

#[test]
fn environment_placeholders_are_replaced_or_refused_by_name() {
    let text = route(
        "location = \"/a/\"\nupstream = \"${APP_UP:-app}\"\nreturn = { status = 200, body = \"x\" }",
    );
    assert_refused(
        &text,
        "FILE: routes[0].return: a route has one content handler",
    );
    let config = parse_with_env(
        &route("location = \"${LOC}\"\nreturn = { status = 301, location = \"https://${SHOP:-shop.test}$request_uri\" }"),
        &[("LOC", "/moved/")],
    )
    .expect("valid");
    assert_eq!(config.routes[0].prefix, "/moved/");
    let shown = serde_json::to_value(&config.routes[0]).expect("serialises");
    assert_eq!(shown["return"]["location"], "https://shop.test$request_uri");
    assert_refused_as(
        parse_with_env(
            &route("location = \"${LOC}\"\nreturn = { status = 204 }"),
            &[],
        ),
        "FILE: routes[0].location: environment variable `LOC` is not set",
    );
}
