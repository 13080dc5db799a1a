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
        let retry_after: u64 = r.headers()["retry-after"]
            .to_str()
            .expect("text")
            .parse()
            .expect("seconds");
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
}
