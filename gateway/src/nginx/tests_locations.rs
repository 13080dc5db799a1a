//! The mapping of locations: files, `return` and `rewrite`, inherited
//! access rules, auth and error pages, regex captures, upstream blocks.

use super::tests::{translate, whys};

#[test]
fn locations_without_proxy_pass_serve_files_return_or_rewrite() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path().display();
    let (t, c) = translate(&format!(
        "server {{ listen 8080; root {r}; index index.htm;
           location / {{ try_files $uri $uri/ /index.html; }}
           location /assets/ {{ expires 30d; gzip_static on; }}
           location /dl/ {{ internal; alias {r}/; }}
           location = /healthz {{ return 200 \"ok\\n\"; }}
           location /old/ {{ rewrite ^/old/(.*)$ /new/$1 permanent; }}
           location ~* \\.(png|jpg)$ {{ expires max; }}
           location @fallback {{ return 302 /; }}
         }}"
    ));
    assert!(t.untranslated.is_empty(), "{:?}\n{}", whys(&t), t.toml);
    assert_eq!(c.listen.port(), 8080);
    assert_eq!(c.routes.len(), 7, "{}", t.toml);
    assert!(c.routes[0].files.is_some());
    assert!(c.routes[2].internal && c.routes[2].files.is_some());
    assert!(c.routes[3].return_.is_some());
    assert_eq!(c.routes[4].rewrite.len(), 1);
    assert!(t.toml.contains("expires = \"2592000s\""), "{}", t.toml);
    assert!(t.toml.contains("precompressed = true"), "{}", t.toml);
    assert!(t.toml.contains("index = [\"index.htm\"]"), "{}", t.toml);
    assert!(t.toml.contains("body = \"ok\\n\""), "{}", t.toml);
}

#[test]
fn a_missing_root_answers_404_and_a_missing_password_file_refuses_everyone() {
    let (t, c) = translate(
        "server { listen 8080; location / { root /nonexistent/www; }
           location /admin/ { auth_basic Staff; auth_basic_user_file /nonexistent/htpasswd; proxy_pass http://a:1; } }",
    );
    assert_eq!(c.routes[0].return_.as_ref().map(|r| r.status), Some(404));
    assert_eq!(c.routes[1].access.len(), 1, "deny all");
    let w = whys(&t);
    assert!(
        w.iter()
            .any(|l| l.contains("`/nonexistent/www` does not exist here")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|l| l.contains("`/nonexistent/htpasswd` does not exist here")),
        "{w:?}"
    );
}

#[test]
fn access_rules_auth_and_error_pages_are_inherited_as_nginx_inherits_them() {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(
        &htpasswd,
        "admin:$2b$10$ULmH.W1WtsUWynJhi4BBpO1PgBqsNyVUJKLm1E/Ppvv3/WjJCdJ6S\n",
    )
    .unwrap();
    let (t, c) = translate(&format!(
        "server {{ listen 80; allow 10.0.0.0/8; deny all; error_page 502 503 /oops; error_page 404 =200 /oops;
           location /api/ {{ proxy_pass http://a:1/; proxy_intercept_errors on; }}
           location /admin/ {{ allow 192.168.1.1; deny all; auth_basic \"Staff\"; auth_basic_user_file {};
             proxy_pass http://a:1; satisfy any; }}
           location = /oops {{ return 200 \"sorry\"; }}
           location /files/ {{ error_page 500 /static-page.html; proxy_pass http://a:1; }}
           location = /static-page.html {{ root /; }}
           location /up/ {{ error_page 500 /proxied-page; proxy_pass http://a:1; }}
           location = /proxied-page {{ proxy_pass http://a:1; }} }}",
        htpasswd.display()
    ));
    let api = &c.routes[0];
    assert_eq!(api.access.len(), 2);
    assert_eq!(api.error_pages.len(), 2);
    assert!(api.intercept_errors);
    let admin = &c.routes[1];
    assert_eq!(admin.access.len(), 2);
    assert!(
        t.toml.contains("basic_auth = { realm = \"Staff\""),
        "{}",
        t.toml
    );
    // A page served by files is kept; one served by a proxy is not.
    assert_eq!(c.routes[3].error_pages.len(), 1);
    assert!(c.routes[5].error_pages.is_empty());
    let w = whys(&t);
    assert!(w.iter().any(|l| l.contains("satisfy any")), "{w:?}");
    assert!(
        w.iter().any(|l| l.contains(
            "error_page: the page `/proxied-page` is not answered by a `return` or files location"
        )),
        "{w:?}"
    );
    assert_eq!(w.len(), 2, "{w:?}");
}

#[test]
fn regex_locations_keep_their_captures_in_the_upstream_path() {
    let (t, c) = translate(
        "server { location ~ ^/v([0-9]+)/catalog/(?<rest>.*)$ { proxy_pass http://c:1/api/v$1/$rest$is_args$args; }
           location ~ ^/x/(.*)$ { proxy_pass http://c:1/$1; }
           location ~* ^/billing(/|$)(.*) { rewrite ^/billing(/|$)(.*) /$2 break; proxy_pass http://b:1; } }",
    );
    assert_eq!(c.routes.len(), 2, "{}", t.toml);
    assert!(
        t.toml.contains("upstream_path = \"/api/v$1/$rest\""),
        "{}",
        t.toml
    );
    let w = whys(&t);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("sends no query"), "{w:?}");
}

#[test]
fn upstream_blocks_keep_weights_balance_and_failures() {
    let (t, c) = translate(
        "upstream pool { server a:1 weight=2 max_fails=2 fail_timeout=5s; server b:1 down; server c:1 backup; ip_hash; }
         server { location / { proxy_pass http://pool; } }",
    );
    let u = &c.upstreams["pool"];
    assert_eq!(u.endpoints.len(), 2);
    assert_eq!((u.endpoints[0].weight, u.endpoints[0].backup), (2, false));
    assert_eq!((u.endpoints[1].weight, u.endpoints[1].backup), (1, true));
    let w = whys(&t);
    assert!(!w.iter().any(|l| l.contains("backup")), "{w:?}");
    assert!(w.iter().any(|l| l.contains("ip_hash")), "{w:?}");
    assert!(t.toml.contains("backup = true"), "{}", t.toml);
    assert!(t.toml.contains("base_ejection = \"5s\""));
}

#[test]
fn connection_limits_and_ignored_headers_say_what_they_become() {
    let (t, c) = translate(
        "limit_conn_zone $binary_remote_addr zone=addr:10m;
         server { listen 80; limit_conn addr 20; proxy_ignore_headers Cache-Control Expires;
           location /a/ { proxy_pass http://a:1; limit_conn addr 5; }
           location /b/ { proxy_pass http://a:1; proxy_ignore_headers X-Accel-Redirect; }
           location /c/ { proxy_pass http://a:1; proxy_ignore_headers Set-Cookie X-Accel-Buffering; } }",
    );
    assert_eq!(c.client_limits.connections_per_client, Some(20));
    let w = whys(&t);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains("limit_conn: a connection limit per location"),
        "{w:?}"
    );
    assert!(
        w[1].contains("proxy_ignore_headers: `X-Accel-Redirect` is always followed"),
        "{w:?}"
    );
}
