//! Which address a request is counted against: `X-Real-IP` and
//! `X-Forwarded-For` only from `TRUSTED_PROXIES`, the TCP peer otherwise.

use common::config::Sources;
use users::Config;

use crate::helpers::*;

common::backend_tests! {
    async fn a_spoofed_x_real_ip_from_an_untrusted_peer_is_ignored(db) {
        // The test client connects from 127.0.0.1, outside this network.
        let app = spawn_app_with(&db, &[
            ("TRUSTED_PROXIES", "192.0.2.0/24"),
            ("LOGIN_MAX_FAILURES_PER_IP_PER_MINUTE", "2"),
        ]).await;
        app.register("ada@example.com").await;
        let r = app.login_from("203.0.113.7", "u0@example.com", "wrong password").await;
        assert_eq!(r.status(), 401);
        let r = app.login_from("203.0.113.8", "u1@example.com", "wrong password").await;
        assert_eq!(r.status(), 401);
        // Both spoofed values were counted against the peer: its bucket is full.
        let r = app.login_from("203.0.113.9", "ada@example.com", PASSWORD).await;
        assert!(r.headers().contains_key("retry-after"));
        problem(r, 429).await;
    }

    async fn x_real_ip_from_a_trusted_peer_is_honoured(db) {
        let app = spawn_app_with(&db, &[
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
            ("LOGIN_MAX_FAILURES_PER_IP_PER_MINUTE", "2"),
        ]).await;
        app.register("ada@example.com").await;
        for i in 0..2 {
            let r = app.login_from("203.0.113.7", &format!("u{i}@example.com"), "wrong password").await;
            assert_eq!(r.status(), 401);
        }
        problem(app.login_from("203.0.113.7", "ada@example.com", PASSWORD).await, 429).await;
        assert_eq!(app.login_from("203.0.113.8", "ada@example.com", PASSWORD).await.status(), 200);
    }
}

#[test]
fn a_malformed_trusted_proxies_setting_is_a_startup_error_naming_it() {
    for bad in ["10.0.0.0/33", "gateway", "10.0.0.0/8,nope"] {
        let err = Config::load(&Sources::only([("TRUSTED_PROXIES", bad)])).expect_err(bad);
        let text = err.to_string();
        assert!(text.contains("TRUSTED_PROXIES"), "{text}");
    }
}

#[test]
fn trusted_proxies_default_to_loopback_only() {
    let config = Config::load(&Sources::only(Vec::<(String, String)>::new())).expect("defaults");
    assert_eq!(config.trusted_proxies.to_string(), "127.0.0.0/8,::1/128");
}
