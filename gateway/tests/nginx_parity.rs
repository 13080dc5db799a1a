//! Differential tests: the same requests to Debian's NGINX and to the
//! gateway running the equivalent route table, answers compared (status,
//! `Location`, cache and range headers, bodies of successful answers). One
//! test (at least) per numbered feature of issue 29 that is built.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(not(nginx_tests), allow(unused_imports, dead_code))]

mod support;

use support::nginx::{Nginx, Parity};

/// Feature 2: `=`, longest prefix, `^~`, regexes in file order (`~*`
/// without case), named locations never matched from outside, captures in
/// the upstream path.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn location_matching_follows_nginx() {
    let nginx = r#"
server {
    listen {LISTEN};
    default_type text/plain;
    location = /exact { return 200 "exact"; }
    location / { return 200 "root $uri"; }
    location ^~ /static/ { proxy_pass http://{UPSTREAM}; }
    location ~* \.(png|jpg)$ { proxy_pass http://{UPSTREAM}; }
    location ~ ^/api/(?<ver>v\d+)/(.*)$ { proxy_pass http://{UPSTREAM}/$ver/$2$is_args$args; }
    location /api/ { proxy_pass http://{UPSTREAM}/; }
    location ~ ^/api/ { return 200 "api regex"; }
    location @app { return 200 "named"; }
}
"#;
    let gateway = r#"
[upstreams.app]
endpoints = ["http://{UPSTREAM}"]
[[routes]]
location = "= /exact"
return = { status = 200, body = "exact" }
[[routes]]
location = "/"
return = { status = 200, body = "root $uri" }
[[routes]]
location = "^~ /static/"
upstream = "app"
[[routes]]
location = '~* \.(png|jpg)$'
upstream = "app"
[[routes]]
location = '~ ^/api/(?<ver>v\d+)/(.*)$'
upstream = "app"
upstream_path = "/$ver/$2"
[[routes]]
location = "/api/"
upstream = "app"
strip_prefix = true
[[routes]]
location = "~ ^/api/"
return = { status = 200, body = "api regex" }
[[routes]]
location = "@app"
return = { status = 200, body = "named" }
"#;
    let p = Parity::start(nginx, gateway, &[]).await;
    for path in [
        "/exact",
        "/exact/more",
        "/static/logo.png",
        "/img/LOGO.PNG",
        "/img/a.jpg?x=1",
        "/api/v2/items?page=3",
        "/api/v2/",
        "/api/other",
        "/api/",
        "/api",
        "/@app",
        "/nothing/here",
    ] {
        p.same_get(path).await;
    }
}

/// Feature 4: `return` (redirects from variables, status with a body, no
/// body) and `rewrite` with each flag, the query rules, and the loop limit
/// (the eleventh change answers 500).
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn return_and_rewrite_follow_nginx() {
    let nginx = r#"
server {
    listen {LISTEN};
    default_type text/plain;
    location = /https { return 301 https://$host$request_uri; }
    location = /found { return 302 /elsewhere$is_args$args; }
    location = /empty { return 204; }
    location = /teapot { return 418 "short and stout"; }
    location /old/ { rewrite ^/old/(.*)$ /new/$1 permanent; }
    location /tmp/ { rewrite ^/tmp/(.*)$ /new/$1?from=tmp redirect; }
    location /abs/ { rewrite ^/abs/(.*)$ https://shop.test/$1; }
    location /last/ { rewrite ^/last/(.*)$ /new/$1 last; }
    location /brk/ { rewrite ^/brk/(.*)$ /x/$1 break; proxy_pass http://{UPSTREAM}; }
    location /chain/ { rewrite ^/chain/a(.*)$ /chain/b$1; rewrite ^/chain/b(.*)$ /new/$1?; }
    location /loop/ { rewrite ^/loop/(.*)$ /loop/a$1; }
    location /new/ { return 200 "new $uri $args"; }
    location /then-return/ { rewrite ^/then-return/(.*)$ /changed/$1; return 200 "$uri"; }
}
"#;
    let gateway = r#"
[upstreams.app]
endpoints = ["http://{UPSTREAM}"]
[[routes]]
location = "= /https"
return = { status = 301, location = "https://$host$request_uri" }
[[routes]]
location = "= /found"
return = { status = 302, location = "/elsewhere$is_args$args" }
[[routes]]
location = "= /empty"
return = { status = 204 }
[[routes]]
location = "= /teapot"
return = { status = 418, body = "short and stout" }
[[routes]]
location = "/old/"
rewrite = [{ regex = "^/old/(.*)$", replacement = "/new/$1", flag = "permanent" }]
[[routes]]
location = "/tmp/"
rewrite = [{ regex = "^/tmp/(.*)$", replacement = "/new/$1?from=tmp", flag = "redirect" }]
[[routes]]
location = "/abs/"
rewrite = [{ regex = "^/abs/(.*)$", replacement = "https://shop.test/$1" }]
[[routes]]
location = "/last/"
rewrite = [{ regex = "^/last/(.*)$", replacement = "/new/$1", flag = "last" }]
[[routes]]
location = "/brk/"
upstream = "app"
rewrite = [{ regex = "^/brk/(.*)$", replacement = "/x/$1", flag = "break" }]
[[routes]]
location = "/chain/"
rewrite = [
  { regex = "^/chain/a(.*)$", replacement = "/chain/b$1" },
  { regex = "^/chain/b(.*)$", replacement = "/new/$1?" },
]
[[routes]]
location = "/loop/"
rewrite = [{ regex = "^/loop/(.*)$", replacement = "/loop/a$1" }]
[[routes]]
location = "/new/"
return = { status = 200, body = "new $uri $args" }
[[routes]]
location = "/then-return/"
rewrite = [{ regex = "^/then-return/(.*)$", replacement = "/changed/$1" }]
return = { status = 200, body = "$uri" }
"#;
    let p = Parity::start(nginx, gateway, &[]).await;
    for path in [
        "/https?a=1",
        "/found",
        "/found?q=2",
        "/empty",
        "/teapot",
        "/old/page?keep=1",
        "/tmp/page?keep=1",
        "/abs/x?y=1",
        "/last/page?k=v",
        "/brk/page?k=v",
        "/chain/a1?dropped=1",
        "/loop/x",
        "/then-return/z",
    ] {
        p.same_get(path).await;
    }
}

/// Feature 6: `allow` / `deny` in order on the client address; `return`
/// answers before the access phase (NGINX's rewrite phase comes first).
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn access_rules_follow_nginx() {
    let nginx = r#"
server {
    listen {LISTEN};
    default_type text/plain;
    location /open/ { allow 127.0.0.1; deny all; proxy_pass http://{UPSTREAM}; }
    location /closed/ { allow 10.0.0.0/8; deny 127.0.0.0/8; allow all; proxy_pass http://{UPSTREAM}; }
    location /first/ { deny 127.0.0.1; allow 127.0.0.0/8; proxy_pass http://{UPSTREAM}; }
    location /nomatch/ { deny 10.0.0.0/8; proxy_pass http://{UPSTREAM}; }
    location /answer/ { deny all; return 200 "answered"; }
}
"#;
    let gateway = r#"
[upstreams.app]
endpoints = ["http://{UPSTREAM}"]
[[routes]]
location = "/open/"
upstream = "app"
access = ["allow 127.0.0.1", "deny all"]
[[routes]]
location = "/closed/"
upstream = "app"
access = ["allow 10.0.0.0/8", "deny 127.0.0.0/8", "allow all"]
[[routes]]
location = "/first/"
upstream = "app"
access = ["deny 127.0.0.1", "allow 127.0.0.0/8"]
[[routes]]
location = "/nomatch/"
upstream = "app"
access = ["deny 10.0.0.0/8"]
[[routes]]
location = "/answer/"
access = ["deny all"]
return = { status = 200, body = "answered" }
"#;
    let p = Parity::start(nginx, gateway, &[]).await;
    for path in [
        "/open/x",
        "/closed/x",
        "/first/x",
        "/nomatch/x?q=1",
        "/answer/x",
    ] {
        p.same_get(path).await;
    }
}

/// Feature 9: `${NAME:-default}` in the route table gives what envsubst
/// would have written into the nginx.conf; `/config` shows the result.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn environment_placeholders_give_the_envsubst_result() {
    let nginx = r#"
server {
    listen {LISTEN};
    default_type text/plain;
    location = /moved { return 301 https://shop.example/new$is_args$args; }
    location /app/ { proxy_pass http://{UPSTREAM}/; }
}
"#;
    let gateway = r#"
[upstreams.app]
endpoints = ["http://${PARITY_TEST_UNSET_HOST:-{UPSTREAM}}"]
[[routes]]
location = "= /moved"
return = { status = 301, location = "https://${PARITY_TEST_UNSET_SHOP:-shop.example}/new$is_args$args" }
[[routes]]
prefix = "/app/"
upstream = "app"
"#;
    let p = Parity::start(nginx, gateway, &[]).await;
    p.same_get("/moved?x=1").await;
    p.same_get("/app/a?b=c").await;
    let shown = p.gateway.config_json().await;
    assert_eq!(
        shown["routes"][0]["return"]["location"],
        "https://shop.example/new$is_args$args"
    );
}

/// Refusals: a pattern both refuse, and the PCRE features only the
/// gateway refuses (its regexes run in linear time), each named by key.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn invalid_patterns_are_refused_like_nginx_and_backreferences_by_the_gateway() {
    let nginx = "server { listen 127.0.0.1:1; location ~ ^/(a { return 200; } }";
    assert!(
        Nginx::check(nginx).is_err(),
        "nginx refuses an unclosed group"
    );
    let refused = support::nginx::gateway_check(
        "[[routes]]\nlocation = \"~ ^/(a\"\nreturn = { status = 200 }\n",
    );
    assert!(
        refused.contains("routes[0].location")
            && refused.contains("not a valid regular expression"),
        "{refused}"
    );
    // PCRE (NGINX) takes these; the gateway refuses them with the reason.
    assert!(
        Nginx::check(r"server { listen 127.0.0.1:1; location ~ ^/(a)\1$ { return 200; } }").is_ok()
    );
    let refused = support::nginx::gateway_check(
        "[[routes]]\nlocation = '~ ^/(a)\\1$'\nreturn = { status = 200 }\n",
    );
    assert!(
        refused.contains("routes[0].location") && refused.contains("backreferences"),
        "{refused}"
    );
    let refused = support::nginx::gateway_check(
        "[[routes]]\nlocation = \"/x/\"\nrewrite = [{ regex = '^/x/(?!admin)', replacement = \"/y\" }]\n",
    );
    assert!(
        refused.contains("routes[0].rewrite[0].regex") && refused.contains("look-around"),
        "{refused}"
    );
}

/// Feature 8: `proxy_redirect` (the default rewrite of the upstream's own
/// URL to the public prefix, in `Location` and `Refresh`, and an explicit
/// pair).
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn proxy_redirect_follows_nginx() {
    let nginx = r#"
server {
    listen {LISTEN};
    default_type text/plain;
    location /app/ { proxy_pass http://{UPSTREAM}/; }
    location /root/ { proxy_pass http://{UPSTREAM}; }
    location /pair/ { proxy_pass http://{UPSTREAM}/; proxy_redirect http://{UPSTREAM}/moved /landing; }
}
"#;
    let gateway = r#"
[upstreams.app]
endpoints = ["http://{UPSTREAM}"]
[[routes]]
prefix = "/app/"
upstream = "app"
[routes.proxy_redirect]
[[routes]]
location = "/root/"
upstream = "app"
[routes.proxy_redirect]
[[routes]]
prefix = "/pair/"
upstream = "app"
[routes.proxy_redirect]
default = false
rewrite = [{ from = "http://{UPSTREAM}/moved", to = "/landing" }]
"#;
    let p = Parity::start(nginx, gateway, &[]).await;
    for path in [
        "/app/self-redirect",
        "/root/self-redirect",
        "/pair/self-redirect",
    ] {
        let (n, g) = p
            .both(&format!("GET {path} HTTP/1.1\r\nHost: parity.test\r\n"))
            .await;
        p.assert_same(path, &n, &g);
        assert_eq!(n.header("refresh"), g.header("refresh"), "{path}: refresh");
    }
}

/// Feature 1: virtual servers by host name, NGINX's `server_name` order
/// (exact, longest `*.` wildcard, longest `.*` wildcard, first regex, the
/// default server), case and port ignored, regex captures in the routes.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn virtual_servers_follow_nginx() {
    let nginx = r#"
server { listen {LISTEN}; default_type text/plain; server_name shop.test; location / { return 200 "exact"; } }
server { listen {LISTEN}; default_type text/plain; server_name *.shop.test; location / { return 200 "leading"; } }
server { listen {LISTEN}; default_type text/plain; server_name *.a.shop.test; location / { return 200 "longer leading"; } }
server { listen {LISTEN}; default_type text/plain; server_name www.shop.*; location / { return 200 "trailing"; } }
server { listen {LISTEN}; default_type text/plain; server_name ~^(?<sub>\w+)\.example\.net$; location / { return 200 "regex $sub"; } }
server { listen {LISTEN} default_server; default_type text/plain; server_name _; location / { return 200 "default"; } }
"#;
    let gateway = r#"
[[servers]]
names = ["shop.test"]
[[servers.routes]]
location = "/"
return = { status = 200, body = "exact" }
[[servers]]
names = ["*.shop.test"]
[[servers.routes]]
location = "/"
return = { status = 200, body = "leading" }
[[servers]]
names = ["*.a.shop.test"]
[[servers.routes]]
location = "/"
return = { status = 200, body = "longer leading" }
[[servers]]
names = ["www.shop.*"]
[[servers.routes]]
location = "/"
return = { status = 200, body = "trailing" }
[[servers]]
names = ['~^(?<sub>\w+)\.example\.net$']
[[servers.routes]]
location = "/"
return = { status = 200, body = "regex $sub" }
[[servers]]
names = ["_"]
default = true
[[servers.routes]]
location = "/"
return = { status = 200, body = "default" }
"#;
    let p = Parity::start(nginx, gateway, &[]).await;
    for host in [
        "shop.test",
        "SHOP.test:8080",
        "x.shop.test",
        "b.a.shop.test",
        "www.shop.org",
        "www.shop.test",
        "api.example.net",
        "other.test",
        "127.0.0.1",
    ] {
        p.same(&format!("GET /x HTTP/1.1\r\nHost: {host}\r\n"))
            .await;
    }
}

/// Feature 1, listeners: a `listen` per server. Each listener has its own
/// servers (the same name on two listeners is two servers) and its own
/// default (`default_server`, else the first server on it).
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn a_listen_per_server_follows_nginx() {
    let (n2, g2) = (support::nginx::free_addr(), support::nginx::free_addr());
    let nginx = r#"
server { listen {LISTEN}; default_type text/plain; server_name shop.test; location / { return 200 "shop on main"; } }
server { listen N2; default_type text/plain; server_name shop.test; location / { return 200 "shop on second"; } }
server { listen {LISTEN}; listen N2; default_type text/plain; server_name admin.test; location / { return 200 "admin"; } }
server { listen N2 default_server; default_type text/plain; server_name _; location / { return 200 "second default"; } }
"#
    .replace("N2", &n2.to_string());
    // `127.0.0.1:0` is the public listener of the test gateway.
    let gateway = r#"
[[servers]]
names = ["shop.test"]
[[servers.routes]]
location = "/"
return = { status = 200, body = "shop on main" }
[[servers]]
names = ["shop.test"]
listen = ["G2"]
[[servers.routes]]
location = "/"
return = { status = 200, body = "shop on second" }
[[servers]]
names = ["admin.test"]
listen = ["127.0.0.1:0", "G2"]
[[servers.routes]]
location = "/"
return = { status = 200, body = "admin" }
[[servers]]
names = ["_"]
listen = ["G2"]
default = true
[[servers.routes]]
location = "/"
return = { status = 200, body = "second default" }
"#
    .replace("G2", &g2.to_string());
    let p = Parity::start(&nginx, &gateway, &[]).await;
    assert_eq!(p.gateway.own, [g2]);
    for host in ["shop.test", "admin.test", "other.test"] {
        let request = format!("GET /x HTTP/1.1\r\nHost: {host}\r\n");
        p.same(&request).await;
        let n = support::nginx::exchange(n2, &request).await;
        let g = support::nginx::exchange(g2, &request).await;
        p.assert_same(&request, &n, &g);
    }
    let second = support::nginx::exchange(g2, "GET / HTTP/1.1\r\nHost: other.test\r\n").await;
    assert_eq!(String::from_utf8_lossy(&second.body), "second default");
}

/// Feature 5: error pages from an internal route, for the gateway's own
/// refusals and (with `intercept_errors`) the upstream's errors, with the
/// original status or the given one; internal routes answer 404 outside.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn error_pages_follow_nginx() {
    let nginx = r#"
server {
    listen {LISTEN};
    default_type text/plain;
    location /app/ { proxy_pass http://{UPSTREAM}/; proxy_intercept_errors on; error_page 404 502 /oops; }
    location /plain/ { proxy_pass http://{UPSTREAM}/; error_page 404 /oops; }
    location /denied/ { deny all; proxy_pass http://{UPSTREAM}/; error_page 403 =200 /oops; }
    location /named/ { deny all; proxy_pass http://{UPSTREAM}/; error_page 403 =202 @sorry; }
    location = /oops { internal; return 200 "oops page"; }
    location @sorry { return 200 "sorry"; }
}
"#;
    let gateway = r#"
[upstreams.app]
endpoints = ["http://{UPSTREAM}"]
[[routes]]
location = "/app/"
upstream = "app"
strip_prefix = true
intercept_errors = true
error_pages = [{ status = [404, 502], uri = "/oops" }]
[[routes]]
location = "/plain/"
upstream = "app"
strip_prefix = true
error_pages = [{ status = [404], uri = "/oops" }]
[[routes]]
location = "/denied/"
upstream = "app"
access = ["deny all"]
error_pages = [{ status = [403], uri = "/oops", code = 200 }]
[[routes]]
location = "/named/"
upstream = "app"
access = ["deny all"]
error_pages = [{ status = [403], uri = "@sorry", code = 202 }]
[[routes]]
location = "= /oops"
internal = true
return = { status = 200, body = "oops page" }
[[routes]]
location = "@sorry"
return = { status = 200, body = "sorry" }
"#;
    let p = Parity::start(nginx, gateway, &[]).await;
    for path in [
        "/app/status/404",
        "/app/status/502",
        "/app/fine",
        "/plain/status/404",
        "/denied/x",
        "/named/x",
        "/oops",
    ] {
        p.same_get(path).await;
    }
    // The page's body with the original status (bodies of error statuses
    // are not compared by `same`).
    let (n, g) = p
        .both("GET /app/status/404 HTTP/1.1\r\nHost: parity.test\r\n")
        .await;
    assert_eq!(n.body, g.body, "the error page's body");
}

/// Error pages served from files (`root`), with the original status or
/// the page's code; with the original (error) status the client's
/// conditional and range headers do not apply, and a `HEAD` stays one; a
/// missing page file is the page's own `404`.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn error_pages_from_files_follow_nginx() {
    let nginx = r#"
server {
    listen {LISTEN};
    location /app/ { proxy_pass http://{UPSTREAM}/; proxy_intercept_errors on; error_page 502 503 /errors/50x.html; }
    location /denied/ { deny all; proxy_pass http://{UPSTREAM}/; error_page 403 =200 /errors/403.html; }
    location /lost/ { deny all; proxy_pass http://{UPSTREAM}/; error_page 403 /errors/missing.html; }
    location /errors/ { internal; root {ROOT}; }
}
"#;
    let gateway = r#"
[upstreams.app]
endpoints = ["http://{UPSTREAM}"]
[[routes]]
location = "/app/"
upstream = "app"
strip_prefix = true
intercept_errors = true
error_pages = [{ status = [502, 503], uri = "/errors/50x.html" }]
[[routes]]
location = "/denied/"
upstream = "app"
access = ["deny all"]
error_pages = [{ status = [403], uri = "/errors/403.html", code = 200 }]
[[routes]]
location = "/lost/"
upstream = "app"
access = ["deny all"]
error_pages = [{ status = [403], uri = "/errors/missing.html" }]
[[routes]]
location = "/errors/"
internal = true
files = { root = "{ROOT}" }
"#;
    let files = [
        ("errors/50x.html", "<p>down for a moment</p>\n"),
        ("errors/403.html", "<p>not for you</p>\n"),
    ];
    let p = Parity::start(nginx, gateway, &files).await;
    for path in [
        "/app/status/502",
        "/app/status/503",
        "/app/fine",
        "/denied/x",
        "/lost/x",
    ] {
        p.same_get(path).await;
    }
    let h = "Host: parity.test\r\n";
    for request in [
        format!("GET /app/status/503 HTTP/1.1\r\n{h}"),
        format!("GET /app/status/502 HTTP/1.1\r\n{h}If-None-Match: *\r\nRange: bytes=0-3\r\n"),
        format!("HEAD /app/status/502 HTTP/1.1\r\n{h}"),
    ] {
        // Bodies of error statuses are not compared by `same`: here they are.
        let (n, g) = p.both(&request).await;
        p.assert_same(&request, &n, &g);
        assert_eq!(
            String::from_utf8_lossy(&n.body),
            String::from_utf8_lossy(&g.body),
            "{request}: the page"
        );
    }
}

/// `return 444`: NGINX closes the connection without sending a byte; so
/// does the gateway, alone or after an answered request on the same
/// connection.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn return_444_closes_the_connection_like_nginx() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let nginx = r#"
server {
    listen {LISTEN};
    default_type text/plain;
    location /drop/ { return 444; }
    location / { return 200 "kept"; }
}
"#;
    let gateway = r#"
[[routes]]
location = "/drop/"
return = { status = 444 }
[[routes]]
location = "/"
return = { status = 200, body = "kept" }
"#;
    let p = Parity::start(nginx, gateway, &[]).await;
    p.same_get("/x").await;
    let h = "Host: parity.test\r\n";
    let alone = format!("GET /drop/x HTTP/1.1\r\n{h}\r\n");
    let after = format!("GET /a HTTP/1.1\r\n{h}\r\nGET /drop/ HTTP/1.1\r\n{h}\r\n");
    for (who, addr) in [("nginx", p.nginx.addr), ("gateway", p.gateway.addr)] {
        for (request, want) in [(&alone, 0), (&after, 1)] {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut raw = Vec::new();
            tokio::time::timeout(
                std::time::Duration::from_secs(10),
                stream.read_to_end(&mut raw),
            )
            .await
            .expect("closed in time")
            .unwrap();
            let text = String::from_utf8_lossy(&raw);
            assert_eq!(text.matches("HTTP/1.1 ").count(), want, "{who}: {text}");
            assert_eq!(text.matches("kept").count(), want, "{who}: {text}");
        }
    }
}

/// Feature 3 (the files handler wired in): `root`, `alias`, `try_files`
/// with a fallback URI, `expires`, conditional and range answers, through
/// the gateway's routing; 7: basic auth, with `return` answering before it.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn static_files_and_basic_auth_follow_nginx() {
    let nginx = r#"
server {
    listen {LISTEN};
    location /static/ { root {ROOT}; }
    location /assets/ { alias {ROOT}/a/; expires 1h; }
    location /spa/ { root {ROOT}; try_files $uri /spa/index.html; }
    location /open/ { auth_basic "Admin"; auth_basic_user_file {ROOT}/../htpasswd; default_type text/plain; return 200 "open"; }
    location /guarded/ { auth_basic "Admin"; auth_basic_user_file {ROOT}/../htpasswd; root {ROOT}; }
}
"#;
    let gateway = r#"
[[routes]]
location = "/static/"
files = { root = "{ROOT}" }
[[routes]]
location = "/assets/"
files = { alias = "{ROOT}/a/", expires = "1h" }
[[routes]]
location = "/spa/"
files = { root = "{ROOT}", try_files = ["$uri", "/spa/index.html"] }
[[routes]]
location = "/open/"
return = { status = 200, body = "open" }
basic_auth = { realm = "Admin", file = "{ROOT}/../htpasswd" }
[[routes]]
location = "/guarded/"
files = { root = "{ROOT}" }
basic_auth = { realm = "Admin", file = "{ROOT}/../htpasswd" }
"#;
    let files = [
        ("static/hello.txt", "hello, static\n"),
        ("a/app.css", "body { color: red }\n"),
        ("spa/index.html", "<p>spa</p>\n"),
        ("guarded/secret.txt", "the secret\n"),
    ];
    // bcrypt (cost 10) of `secret`, for user `admin`.
    let htpasswd = "admin:$2b$10$ULmH.W1WtsUWynJhi4BBpO1PgBqsNyVUJKLm1E/Ppvv3/WjJCdJ6S\n";
    let p = Parity::start_with(nginx, gateway, &files, |root| {
        std::fs::write(root.join("../htpasswd"), htpasswd).unwrap();
    })
    .await;
    for path in [
        "/static/hello.txt",
        "/static/missing.txt",
        "/assets/app.css",
        "/spa/deep/link",
        "/spa/index.html",
        "/open/x",
        "/guarded/secret.txt",
    ] {
        p.same_get(path).await;
    }
    let h = "Host: parity.test\r\n";
    p.same(&format!(
        "GET /static/hello.txt HTTP/1.1\r\n{h}Range: bytes=0-4\r\n"
    ))
    .await;
    p.same(&format!("HEAD /static/hello.txt HTTP/1.1\r\n{h}"))
        .await;
    let first = p.same_get("/static/hello.txt").await;
    let etag = first.header("etag").unwrap().to_string();
    p.same(&format!(
        "GET /static/hello.txt HTTP/1.1\r\n{h}If-None-Match: {etag}\r\n"
    ))
    .await;
    // admin:secret, and a wrong password.
    p.same(&format!(
        "GET /guarded/secret.txt HTTP/1.1\r\n{h}Authorization: Basic YWRtaW46c2VjcmV0\r\n"
    ))
    .await;
    p.same(&format!(
        "GET /guarded/secret.txt HTTP/1.1\r\n{h}Authorization: Basic YWRtaW46d3Jvbmc=\r\n"
    ))
    .await;
}

/// Feature 8: `X-Accel-Redirect` from the upstream served from an internal
/// files route (its `Content-Type` the application's), internal routes
/// `404` to clients, a target with `..` `404`.
#[tokio::test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx (apt-get install nginx)")]
async fn x_accel_redirect_follows_nginx() {
    let nginx = r#"
server {
    listen {LISTEN};
    location /app/ { proxy_pass http://{UPSTREAM}/; }
    location /protected/ { internal; alias {ROOT}/files/; }
}
"#;
    let gateway = r#"
[upstreams.app]
endpoints = ["http://{UPSTREAM}"]
[[routes]]
prefix = "/app/"
upstream = "app"
[[routes]]
location = "/protected/"
internal = true
files = { alias = "{ROOT}/files/" }
"#;
    let files = [
        ("files/doc.txt", "the document\n"),
        ("secret.txt", "outside\n"),
    ];
    let p = Parity::start(nginx, gateway, &files).await;
    for path in [
        "/app/accel?to=/protected/doc.txt",
        "/app/accel?to=/protected/missing.txt",
        "/app/accel?to=/protected/../secret.txt",
        "/protected/doc.txt",
    ] {
        p.same_get(path).await;
    }
}
