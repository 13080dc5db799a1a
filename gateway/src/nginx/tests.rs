//! The mapping, file by file of the corpus and rule by rule; every table
//! produced is validated as `gateway check` validates it.

use std::path::{Path, PathBuf};

use crate::config::{Config, Overrides};

use super::{Translation, import, import_text};

pub(super) fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/nginx_corpus")
        .join(name)
}

/// Translate `text` and validate the table (certificates not read).
pub(super) fn translate(text: &str) -> (Translation, Config) {
    let t = import_text(
        Path::new("t.conf"),
        text.as_bytes(),
        Path::new("/etc/nginx"),
    )
    .unwrap();
    let config = Config::parse(Path::new("out.toml"), &t.toml, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", t.toml));
    (t, config)
}

pub(super) fn whys(t: &Translation) -> Vec<String> {
    t.untranslated.iter().map(ToString::to_string).collect()
}

#[test]
fn the_original_nginx_conf_gives_the_default_route_table() {
    let t = import(&corpus("original.conf"), None).unwrap();
    assert!(t.untranslated.is_empty(), "{:?}", whys(&t));
    let ours = Config::parse(Path::new("out.toml"), &t.toml, &Overrides::default()).unwrap();
    let default_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("gateway.toml");
    let text = std::fs::read_to_string(&default_path).unwrap();
    let default = Config::parse(&default_path, &text, &Overrides::default()).unwrap();
    assert_eq!(ours.routes, default.routes);
    assert_eq!(
        ours.upstreams.keys().collect::<Vec<_>>(),
        default.upstreams.keys().collect::<Vec<_>>()
    );
    assert_eq!(ours.listen, default.listen);
    assert!(
        t.toml.contains("endpoints = [\"http://users:8000\"]"),
        "{}",
        t.toml
    );
}

#[test]
fn the_api_proxy_corpus_file_translates_fully() {
    let t = import(&corpus("api-proxy.conf"), None).unwrap();
    assert!(t.untranslated.is_empty(), "{:?}", whys(&t));
    let c = Config::parse(Path::new("out.toml"), &t.toml, &Overrides::default()).unwrap();
    let prefixes: Vec<String> = c.routes.iter().map(route_path).collect();
    assert_eq!(
        prefixes,
        ["/orders/", "/auth/", "^~ /accounts/", "/events/"]
    );
    assert_eq!(c.body_limit, 10 << 20);
    assert_eq!(c.routes[2].body_limit, 2 << 20);
    assert_eq!(c.routes[2].response_timeout.as_secs(), 120);
    assert_eq!(c.routes[0].response_timeout.as_secs(), 60);
    assert!(
        !c.routes[1].strip_prefix,
        "proxy_pass .../auth/ on /auth/ keeps the path"
    );
    assert!(!c.routes[3].strip_prefix);
    assert!(c.routes[1].policies.rate_limit.is_some());
    assert!(c.routes[0].policies.compression.is_some());
    assert_eq!(c.trusted_proxies.len(), 2);
    assert!(t.toml.contains("X-Frame-Options"));
    assert!(t.toml.contains("response_remove = [\"X-Powered-By\"]"));
    assert!(
        t.toml
            .contains("{ url = \"http://orders-1:9000\", weight = 3 }")
    );
    assert!(t.toml.contains("consecutive_connect_failures = 3"));
}

#[test]
fn proxy_pass_follows_nginx_prefix_replacement() {
    let (t, c) = translate(
        "server { location /a/ { proxy_pass http://u:1/; } location /b/ { proxy_pass http://u:1; }
          location / { proxy_pass http://u:1/; } location /c/ { proxy_pass http://u:1/x/; }
          location /d { proxy_pass http://u:1; } location = /e { proxy_pass http://u:1/f; }
          location ^~ /g/ { proxy_pass http://u:1/; } }",
    );
    assert!(t.untranslated.is_empty(), "{:?}", whys(&t));
    let routes: Vec<(String, bool)> = c
        .routes
        .iter()
        .map(|r| (route_path(r), r.strip_prefix))
        .collect();
    assert_eq!(
        routes,
        [
            ("/a/".into(), true),
            ("/b/".into(), false),
            ("/".into(), false),
            ("/c/".into(), false),
            ("/d".into(), false),
            ("= /e".into(), false),
            ("^~ /g/".into(), true),
        ]
    );
    // `/c/y` goes as `/x/y`: the prefix replaced by a break rewrite.
    assert!(
        t.toml.contains(
            "rewrite = [{ regex = \"^/c/(.*)$\", replacement = \"/x/$1\", flag = \"break\" }]"
        ),
        "{}",
        t.toml
    );
    assert!(t.toml.contains("upstream_path = \"/f\""), "{}", t.toml);
}

/// The route's location as NGINX writes it.
fn route_path(r: &crate::config::RouteConfig) -> String {
    use crate::config::Location;
    match &r.location {
        Location::Prefix {
            path,
            stop_regex: true,
        } => format!("^~ {path}"),
        Location::Prefix { path, .. } => path.clone(),
        Location::Exact(p) => format!("= {p}"),
        Location::Regex(_) => "~".into(),
        Location::Named(n) => n.clone(),
    }
}

#[test]
fn the_host_header_follows_proxy_set_header() {
    let (_, c) = translate(
        "server { location /a/ { proxy_pass http://u:1/; proxy_set_header Host $host; }
          location /b/ { proxy_pass http://u:1/; } }",
    );
    assert_eq!(c.routes[0].host, crate::config::HostPolicy::Client);
    assert_eq!(c.routes[1].host, crate::config::HostPolicy::Upstream);
}

#[test]
fn a_location_add_header_drops_the_server_ones() {
    let (t, _) = translate(
        "server { add_header X-A 1; location /a/ { proxy_pass http://u:1/; add_header X-B 2; }
          location /b/ { proxy_pass http://u:1/; } }",
    );
    let a = t.toml.find("prefix = \"/a/\"").unwrap();
    let b = t.toml.find("prefix = \"/b/\"").unwrap();
    assert!(
        t.toml[a..b].contains("X-B") && !t.toml[a..b].contains("X-A"),
        "{}",
        t.toml
    );
    assert!(t.toml[b..].contains("X-A"), "{}", t.toml);
}

#[test]
fn fixed_and_empty_request_headers_become_rules_variables_do_not() {
    let (t, _) = translate(
        "server { location /a/ { proxy_pass http://u:1/; proxy_set_header X-Env prod;
          proxy_set_header Accept-Encoding \"\"; proxy_set_header X-User $remote_user; } }",
    );
    assert!(
        t.toml.contains("request_set = { X-Env = \"prod\" }"),
        "{}",
        t.toml
    );
    assert!(
        t.toml.contains("request_remove = [\"Accept-Encoding\"]"),
        "{}",
        t.toml
    );
    assert_eq!(
        whys(&t),
        ["t.conf:2: proxy_set_header: header values with NGINX variables have no equivalent"]
    );
    assert!(t.toml.contains("# UNTRANSLATED t.conf:2: proxy_set_header"));
}

#[test]
fn limit_req_without_nodelay_is_reported() {
    let (t, c) = translate(
        "limit_req_zone $binary_remote_addr zone=z:1m rate=1r/s;
         server { location /a/ { limit_req zone=z; proxy_pass http://u:1/; } }",
    );
    assert!(c.routes[0].policies.rate_limit.is_none());
    assert!(whys(&t)[0].contains("nodelay"));
}

#[test]
fn websocket_idioms_need_no_translation() {
    let (t, _) = translate(
        "map $http_upgrade $cu { default upgrade; '' close; }
         server { location /ws/ { proxy_pass http://u:1; proxy_http_version 1.1;
           proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $cu;
           proxy_set_header Host $host; } }",
    );
    assert!(t.untranslated.is_empty(), "{:?}", whys(&t));
}

#[test]
fn unknown_and_unsupported_directives_are_listed_with_their_line() {
    let (t, _) = translate(
        "server {\n listen 80;\n sub_filter a b;\n location /a/ {\n proxy_pass http://u:1/;\n if ($x) { return 403; }\n content_by_lua_block { ngx.say('x') }\n }\n location ~ \\.php$ { fastcgi_pass php:9000; }\n}\nstream { }\n",
    );
    let w = whys(&t);
    assert!(
        w.contains(&"t.conf:3: sub_filter: response body rewriting has no equivalent".to_string()),
        "{w:?}"
    );
    assert!(w.iter().any(|l| l.starts_with("t.conf:6: if:")), "{w:?}");
    assert!(
        w.iter()
            .any(|l| l.starts_with("t.conf:7: content_by_lua_block: Lua")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|l| l == "t.conf:9: fastcgi_pass: the gateway forwards HTTP only"),
        "{w:?}"
    );
    assert!(
        w.iter().any(|l| l.starts_with("t.conf:11: stream:")),
        "{w:?}"
    );
}

#[test]
fn listen_addresses_and_tls_are_translated() {
    let (t, c) = translate(
        "server { listen 80; listen [::]:80; return 301 https://$host$request_uri; }
         server { listen 443 ssl; ssl_certificate site.crt; ssl_certificate_key /k/site.key;
           location / { proxy_pass http://app:8000; proxy_set_header Host $host; } }",
    );
    assert_eq!(c.listen.to_string(), "[::]:80");
    let tls = c.tls.as_ref().unwrap();
    assert_eq!(tls.listen.port(), 443);
    assert!(!tls.redirect_https);
    assert_eq!(tls.certificates[0].cert, Path::new("/etc/nginx/site.crt"));
    assert_eq!(tls.certificates[0].key, Path::new("/k/site.key"));
    assert!(whys(&t).is_empty(), "{:?}", whys(&t));
    // The redirect server keeps its own plain listener and NGINX's 301.
    assert_eq!(c.servers.len(), 2);
    let listens = |i: usize| -> Vec<(String, bool)> {
        c.servers[i]
            .listen
            .iter()
            .map(|l| (l.addr.to_string(), l.tls))
            .collect()
    };
    assert_eq!(listens(0), [("[::]:80".to_string(), false)]);
    assert_eq!(listens(1), [("0.0.0.0:443".to_string(), true)]);
    let ret = c.servers[0].routes[0].return_.as_ref().unwrap();
    assert_eq!(ret.status, 301);
    assert!(t.toml.contains("https://$host$request_uri"), "{}", t.toml);
    assert!(c.servers[1].routes[0].return_.is_none());
}

#[test]
fn certbots_host_ifs_become_servers_of_their_own() {
    // Alone in its file: the names go to a server answering the `if`'s
    // `return`, the rest (any other host) to the default's `return 404`.
    let (t, c) = translate(
        "server { if ($host = a.test) { return 301 https://$host$request_uri; }
                  if ($host = b.test) { return 301 https://$host$request_uri; }
                  listen 80; server_name a.test b.test; return 404; }",
    );
    assert!(whys(&t).is_empty(), "{:?}", whys(&t));
    assert!(c.routes.is_empty());
    assert_eq!(c.servers.len(), 2);
    assert!(c.servers[0].default && c.servers[0].names.is_empty());
    assert_eq!(c.servers[0].routes[0].return_.as_ref().unwrap().status, 404);
    assert_eq!(c.servers[1].names.len(), 2);
    assert_eq!(c.servers[1].routes[0].return_.as_ref().unwrap().status, 301);
    // Another `if` beside them: none is taken as the idiom, all reported.
    let (t, _) = translate(
        "server { if ($host = a.test) { return 301 https://a.test/; }
                  if ($http_x) { return 403; }
                  listen 80; server_name a.test; return 404; }",
    );
    assert_eq!(whys(&t).len(), 2, "{:?}", whys(&t));
}

#[test]
fn default_servers_follow_nginx_per_address() {
    // `default_server` on one address only, another server first on the
    // other: reported; a specific address beside a wildcard: left out.
    let (t, c) = translate(
        "server { listen 8081; server_name a; location / { proxy_pass http://a:1; } }
         server { listen 80 default_server; listen 8081; server_name b; location / { proxy_pass http://b:1; } }
         server { listen 127.0.0.1:80; server_name c; location / { proxy_pass http://c:1; } }",
    );
    assert_eq!(c.listen.to_string(), "0.0.0.0:80");
    let w = whys(&t);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("t.conf:3: server: a specific address"),
        "{w:?}"
    );
    assert!(
        w[1].starts_with("t.conf:2: server: `default_server` on some"),
        "{w:?}"
    );
    assert!(c.servers[1].default);
}

#[test]
fn several_virtual_servers_become_servers_with_the_default_marked() {
    let (t, c) = translate(
        "server { listen 80; server_name A.test *.a.test; location / { proxy_pass http://a:1; } }
         server { listen 80 default_server; server_name b; location / { proxy_pass http://b:1; } }
         server { listen 80; server_name a.test c; location / { proxy_pass http://c:1; } }
         server { listen 8080; server_name d; location / { proxy_pass http://d:1; } }",
    );
    assert!(c.routes.is_empty());
    assert_eq!(c.servers.len(), 4);
    assert_eq!(c.servers[0].routes[0].upstream, "a");
    assert!(c.servers[1].default && !c.servers[0].default);
    // `a.test` stays with the first server that names it, as NGINX keeps it.
    assert_eq!(c.servers[2].names.len(), 1);
    assert!(whys(&t).is_empty(), "{:?}", whys(&t));
    // `d` answers on its own listener, where it is the only server.
    assert!(c.servers[..3].iter().all(|s| s.listen.is_empty()));
    assert_eq!(c.servers[3].listen[0].addr.to_string(), "0.0.0.0:8080");
}

#[test]
fn syntax_errors_carry_the_position() {
    let e = import_text(
        Path::new("t.conf"),
        b"server {\n  listen 80\n}",
        Path::new("/"),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "t.conf:3:1: unexpected \"}\"");
}

#[test]
fn every_corpus_file_gives_a_table_that_passes_check() {
    for name in [
        "original.conf",
        "api-proxy.conf",
        "api-errors.conf",
        "compose-spa.conf",
        "vm-tls-static.conf",
        "selfhosted-streaming.conf",
        "admin-protect.conf",
        "ingress-rewrites.conf",
        "xaccel-downloads.conf",
        "vhosts/nginx.conf",
        "certbot-vm.conf",
    ] {
        let t = import(&corpus(name), None).unwrap_or_else(|e| panic!("{name}: {e}"));
        Config::parse(Path::new(name), &t.toml, &Overrides::default())
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", t.toml));
    }
}

#[test]
fn the_cors_recipe_becomes_a_cors_policy() {
    let (t, c) = translate(
        "server { location /api/ {
           if ($request_method = OPTIONS) {
             add_header Access-Control-Allow-Origin https://shop.example;
             add_header Access-Control-Allow-Methods \"GET, POST, PATCH\";
             add_header Access-Control-Allow-Headers \"Authorization, Content-Type\";
             add_header Access-Control-Max-Age 600;
             add_header Content-Length 0;
             return 204;
           }
           add_header Access-Control-Allow-Origin https://shop.example always;
           add_header Access-Control-Expose-Headers \"ETag\" always;
           add_header X-Frame-Options DENY always;
           proxy_pass http://api:8000/;
         } }",
    );
    assert!(t.untranslated.is_empty(), "{:?}", whys(&t));
    let cors = c.routes[0].policies.cors.as_ref().unwrap();
    assert_eq!(cors.allow_origins, ["https://shop.example"]);
    assert_eq!(cors.allow_methods, ["GET", "POST", "PATCH"]);
    assert_eq!(cors.max_age_secs, 600);
    assert!(
        t.toml
            .contains("response_add = { X-Frame-Options = \"DENY\" }"),
        "{}",
        t.toml
    );
}

#[test]
fn an_options_block_beyond_the_recipe_is_reported() {
    let (t, c) = translate(
        "server { location /api/ { if ($request_method = OPTIONS) { return 403; } proxy_pass http://api:8000/; } }",
    );
    assert!(c.routes[0].policies.cors.is_none());
    assert!(
        whys(&t)[0]
            .starts_with("t.conf:1: if: `return` in the OPTIONS block is beyond the CORS recipe"),
        "{:?}",
        whys(&t)
    );
}

#[test]
fn envsubst_placeholders_stay_the_tables_own() {
    let t = import_text(
        Path::new("t.conf"),
        b"server { listen ${NGINX_PORT}; server_name ${DOMAIN};
           location / { proxy_pass http://${API_HOST}:8000; proxy_set_header X-Env ${ENV_NAME}; }
           location /x/ { proxy_pass http://$backend; } }
         server { listen ${NGINX_PORT}; server_name admin.${DOMAIN}; location / { return 204; } }",
        Path::new("/etc/nginx"),
    )
    .unwrap();
    assert_eq!(
        whys(&t),
        ["t.conf:3: proxy_pass: proxy_pass addresses with NGINX variables have no equivalent"]
    );
    for kept in [
        "public = \"0.0.0.0:${NGINX_PORT}\"",
        "endpoints = [\"http://${API_HOST}:8000\"]",
        "X-Env = \"${ENV_NAME}\"",
        "names = [\"${DOMAIN}\"]",
        "names = [\"admin.${DOMAIN}\"]",
        "[upstreams.api_host]",
    ] {
        assert!(t.toml.contains(kept), "{kept}\n{}", t.toml);
    }
    // What the gateway reads once the environment fills them in.
    let filled = t
        .toml
        .replace("${NGINX_PORT}", "8080")
        .replace("${API_HOST}", "api")
        .replace("${ENV_NAME}", "prod")
        .replace("${DOMAIN}", "shop.test");
    let c = Config::parse(Path::new("out.toml"), &filled, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}\n{filled}"));
    assert_eq!(c.listen.port(), 8080);
    assert_eq!(c.servers.len(), 2);
}
