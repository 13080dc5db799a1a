use crate::helpers::*;

common::backend_tests! {
    async fn five_failures_in_a_row_lock_the_email_with_retry_after(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        for _ in 0..5 {
            assert_eq!(app.login("ada@example.com", "wrong password").await.status(), 401);
        }
        // Even the right password is refused while locked.
        let r = app.login("ada@example.com", PASSWORD).await;
        let retry_after = retry_after_seconds(&r);
        assert!(retry_after > 0 && retry_after <= 300, "{retry_after}");
        problem(r, 429).await;
    }

    async fn a_success_resets_the_failure_count(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        for _ in 0..4 {
            app.login("ada@example.com", "wrong password").await;
        }
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
        for _ in 0..4 {
            app.login("ada@example.com", "wrong password").await;
        }
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
    }

    async fn a_locked_email_does_not_lock_others(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        app.register("bob@example.com").await;
        for _ in 0..5 {
            app.login("ada@example.com", "wrong password").await;
        }
        assert_eq!(app.login("bob@example.com", PASSWORD).await.status(), 200);
    }

    async fn twenty_failures_a_minute_block_the_client_address(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        for i in 0..20 {
            let r = app.login_from("203.0.113.7", &format!("u{i}@example.com"), "wrong password").await;
            assert_eq!(r.status(), 401);
        }
        let r = app.login_from("203.0.113.7", "ada@example.com", PASSWORD).await;
        assert!(r.headers().contains_key("retry-after"));
        problem(r, 429).await;
        // Another client address is not affected.
        assert_eq!(app.login_from("203.0.113.8", "ada@example.com", PASSWORD).await.status(), 200);
    }

    async fn thresholds_are_configurable(db) {
        let app = spawn_app_with(&db, &[("LOGIN_MAX_FAILURES_PER_EMAIL", "2")]).await;
        app.register("ada@example.com").await;
        app.login("ada@example.com", "wrong password").await;
        app.login("ada@example.com", "wrong password").await;
        problem(app.login("ada@example.com", PASSWORD).await, 429).await;
    }
    async fn parallel_wrong_passwords_reach_password_checking_at_most_the_threshold(db) {
        // Hashing slow enough that every request is in flight before the
        // first one has checked its password.
        let app = spawn_app_with(&db, &[("PASSWORD_HASH_MEMORY_KIB", "8192"), ("PASSWORD_HASH_ITERATIONS", "2")]).await;
        app.register("ada@example.com").await;
        let attempts = (0..12).map(|_| {
            let request = app
                .client
                .post(app.url("/auth/login"))
                .json(&serde_json::json!({"email": "ada@example.com", "password": "wrong password"}));
            async move { request.send().await.expect("POST") }
        });
        let responses = all_at_once(attempts).await;
        let mut checked = 0;
        for r in responses {
            match r.status().as_u16() {
                401 => checked += 1,
                429 => {
                    assert!(r.headers().contains_key("retry-after"));
                    problem(r, 429).await;
                }
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!(checked, 5, "exactly the threshold reached password checking");
        problem(app.login("ada@example.com", PASSWORD).await, 429).await;
    }

    async fn two_instances_on_one_database_share_the_counts(db) {
        let first = spawn_app(&db).await;
        let second = spawn_app(&db).await;
        first.register("ada@example.com").await;
        for _ in 0..3 {
            assert_eq!(first.login("ada@example.com", "wrong password").await.status(), 401);
        }
        for _ in 0..2 {
            assert_eq!(second.login("ada@example.com", "wrong password").await.status(), 401);
        }
        problem(first.login("ada@example.com", PASSWORD).await, 429).await;
        problem(second.login("ada@example.com", PASSWORD).await, 429).await;
    }

    async fn an_ipv6_client_is_counted_by_its_64(db) {
        let app = spawn_app_with(&db, &[("LOGIN_MAX_FAILURES_PER_IP_PER_MINUTE", "2")]).await;
        app.register("ada@example.com").await;
        let r = app.login_from("2001:db8:1:2::1", "u0@example.com", "wrong password").await;
        assert_eq!(r.status(), 401);
        let r = app.login_from("2001:db8:1:2:aaaa::9", "u1@example.com", "wrong password").await;
        assert_eq!(r.status(), 401);
        // Another address in the same /64 shares the bucket ...
        let r = app.login_from("2001:db8:1:2:ffff::1", "ada@example.com", PASSWORD).await;
        assert!(r.headers().contains_key("retry-after"));
        problem(r, 429).await;
        // ... the next /64 does not.
        let r = app.login_from("2001:db8:1:3::1", "ada@example.com", PASSWORD).await;
        assert_eq!(r.status(), 200);
    }
}

/// Await every future at once (tokio tasks, so the requests really overlap).
async fn all_at_once<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("request task"));
    }
    out
}

/// The `Retry-After` of a response, in seconds (must be present).
pub fn retry_after_seconds(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds")
}
