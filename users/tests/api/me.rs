use serde_json::{Value, json};

use crate::helpers::*;

common::backend_tests! {
    async fn me_returns_the_signed_in_user(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app.get_as("/me", &tokens.access).await;
        assert_eq!(r.status(), 200);
        let me: Value = r.json().await.expect("json");
        assert_eq!(me["email"], "ada@example.com");
        assert_eq!(me["role"], "customer");
        assert_no_secrets(&me);
    }

    async fn me_without_a_token_is_401_with_a_bearer_challenge(db) {
        let app = spawn_app(&db).await;
        let r = app.get("/me").await;
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        problem(r, 401).await;
    }

    async fn me_with_another_auth_scheme_is_401(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .get(app.url("/me"))
            .header("authorization", "Basic YTpi")
            .send()
            .await
            .expect("GET");
        problem(r, 401).await;
    }

    async fn patch_me_refuses_a_body_that_is_not_an_object_and_changes_nothing(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        for body in [json!([null, null]), json!(["Ada", "Lovelace"]), json!("Ada"), json!(null)] {
            let r = app.patch_as("/me", &tokens.access, &body).await;
            let problem = problem(r, 422).await;
            assert_eq!(problem["errors"][0]["field"], "body", "{body}");
        }
        let me: Value = app.get_as("/me", &tokens.access).await.json().await.expect("json");
        assert_eq!(me["first_name"], Value::Null);
    }

    async fn names_follow_the_documented_rule(db) {
        // 1-100 characters as sent, one that is not white space, no control
        // characters anywhere; kept trimmed.
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        for bad in [json!(""), json!(" \u{3000}"), json!("\tAda"), json!("A\u{85}da"), json!(" ".repeat(99) + "Ad")] {
            let r = app.patch_as("/me", &tokens.access, &json!({ "first_name": bad })).await;
            problem(r, 422).await;
        }
        let r = app.patch_as("/me", &tokens.access, &json!({ "first_name": "  Ada\u{a0}" })).await;
        assert_eq!(r.status(), 200);
        let me: Value = r.json().await.expect("json");
        assert_eq!(me["first_name"], "Ada");
    }

    async fn patch_me_updates_the_profile(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app
            .patch_as(
                "/me",
                &tokens.access,
                &json!({"first_name": " Ada ", "last_name": "Lovelace", "avatar_url": "https://cdn.example.com/ada.png"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let me: Value = r.json().await.expect("json");
        assert_eq!(me["first_name"], "Ada");
        assert_eq!(me["last_name"], "Lovelace");
        assert_eq!(me["avatar_url"], "https://cdn.example.com/ada.png");
        let again: Value = app.get_as("/me", &tokens.access).await.json().await.expect("json");
        assert_eq!(again["first_name"], "Ada");
        assert_no_secrets(&again);
    }

    async fn patch_me_leaves_absent_fields_and_clears_null_ones(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        app.patch_as("/me", &tokens.access, &json!({"first_name": "Ada", "last_name": "L"})).await;
        let me: Value = app
            .patch_as("/me", &tokens.access, &json!({"last_name": null}))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(me["first_name"], "Ada");
        assert!(me["last_name"].is_null());
    }

    async fn patch_me_refuses_is_active(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app.patch_as("/me", &tokens.access, &json!({"is_active": false})).await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "is_active");
    }

    async fn patch_me_refuses_role(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app.patch_as("/me", &tokens.access, &json!({"role": "admin"})).await;
        problem(r, 422).await;
        let me: Value = app.get_as("/me", &tokens.access).await.json().await.expect("json");
        assert_eq!(me["role"], "customer");
    }

    async fn patch_me_refuses_invalid_values_listing_each(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app
            .patch_as("/me", &tokens.access, &json!({"first_name": "", "avatar_url": "javascript:alert(1)"}))
            .await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"].as_array().expect("errors").len(), 2);
        let me: Value = app.get_as("/me", &tokens.access).await.json().await.expect("json");
        assert!(me["avatar_url"].is_null());
    }

    async fn patch_me_without_a_token_is_401(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .patch(app.url("/me"))
            .json(&json!({"first_name": "X"}))
            .send()
            .await
            .expect("PATCH");
        problem(r, 401).await;
    }

    async fn a_deactivated_users_access_token_is_refused_at_once(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let admin = app.admin().await;
        let id = app.id_of(&admin, "ada@example.com").await;
        assert_eq!(app.deactivate(&id, &admin).await, 200);
        let body = problem(app.get_as("/me", &tokens.access).await, 403).await;
        assert!(body["detail"].as_str().expect("detail").contains("deactivated"));
    }
}
