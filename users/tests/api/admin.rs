use serde_json::{Value, json};

use crate::helpers::*;

/// Register `email` and make it `role`; return its tokens (issued after the change).
async fn user_with_role(app: &TestApp, admin: &Tokens, email: &str, role: &str) -> Tokens {
    app.register(email).await;
    let id = app.id_of(admin, email).await;
    let r = app
        .patch_as(&format!("/{id}"), &admin.access, &json!({ "role": role }))
        .await;
    assert_eq!(r.status(), 200);
    app.tokens(email, PASSWORD).await
}

common::backend_tests! {
    async fn admin_lists_users_with_pagination(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        for i in 0..3 {
            app.register(&format!("user{i}@example.com")).await;
        }
        let r = app.get_as("/?page=2&per_page=2", &admin.access).await;
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.expect("json");
        assert_eq!(page["total"], 4);
        assert_eq!(page["page"], 2);
        assert_eq!(page["per_page"], 2);
        assert_eq!(page["items"].as_array().expect("items").len(), 2);
        assert_no_secrets(&page);
    }

    async fn per_page_is_capped_at_100(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let page: Value = app.get_as("/?per_page=1000", &admin.access).await.json().await.expect("json");
        assert_eq!(page["per_page"], 100);
    }

    async fn list_filters_by_role(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        app.register("c@example.com").await;
        let page: Value = app.get_as("/?role=admin", &admin.access).await.json().await.expect("json");
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["email"], ADMIN_EMAIL);
    }

    async fn list_searches_email_and_names_in_any_case(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        app.register("ada@example.com").await;
        let bob = app.customer("bob@example.com").await;
        app.patch_as("/me", &bob.access, &json!({"last_name": "Lovelace-Fan"})).await;
        let page: Value = app.get_as("/?q=LOVE", &admin.access).await.json().await.expect("json");
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["email"], "bob@example.com");
        let page: Value = app.get_as("/?q=ADA%40", &admin.access).await.json().await.expect("json");
        assert_eq!(page["total"], 1);
    }

    async fn list_treats_like_wildcards_literally(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        app.register("ada@example.com").await;
        let page: Value = app.get_as("/?q=%25", &admin.access).await.json().await.expect("json");
        assert_eq!(page["total"], 0);
    }

    async fn list_refuses_an_unknown_role(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let body = problem(app.get_as("/?role=king", &admin.access).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "role");
    }

    async fn list_refuses_page_zero_and_bad_numbers(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let body = problem(app.get_as("/?page=0", &admin.access).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "page");
        let body = problem(app.get_as("/?per_page=many", &admin.access).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "per_page");
    }

    async fn customers_cannot_use_admin_endpoints(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let customer = app.customer("c@example.com").await;
        let id = app.id_of(&admin, ADMIN_EMAIL).await;
        problem(app.get_as("/", &customer.access).await, 403).await;
        problem(app.get_as(&format!("/{id}"), &customer.access).await, 403).await;
        problem(app.patch_as(&format!("/{id}"), &customer.access, &json!({"role": "customer"})).await, 403).await;
        problem(app.delete_as(&format!("/{id}"), &customer.access).await, 403).await;
    }

    async fn staff_cannot_use_admin_endpoints(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let staff = user_with_role(&app, &admin, "s@example.com", "staff").await;
        let me: Value = app.get_as("/me", &staff.access).await.json().await.expect("json");
        assert_eq!(me["role"], "staff");
        let id = app.id_of(&admin, ADMIN_EMAIL).await;
        problem(app.get_as("/", &staff.access).await, 403).await;
        problem(app.get_as(&format!("/{id}"), &staff.access).await, 403).await;
        problem(app.patch_as(&format!("/{id}"), &staff.access, &json!({"is_active": false})).await, 403).await;
        problem(app.delete_as(&format!("/{id}"), &staff.access).await, 403).await;
    }

    async fn admin_endpoints_need_sign_in(db) {
        let app = spawn_app(&db).await;
        problem(app.get("/").await, 401).await;
    }

    async fn admin_reads_a_user(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let created = app.register("ada@example.com").await;
        let id = created["id"].as_str().expect("id");
        let r = app.get_as(&format!("/{id}"), &admin.access).await;
        assert_eq!(r.status(), 200);
        let user: Value = r.json().await.expect("json");
        assert_eq!(user, created);
        assert_no_secrets(&user);
    }

    async fn reading_an_unknown_or_malformed_id_is_404(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        problem(app.get_as(&format!("/{}", uuid::Uuid::new_v4()), &admin.access).await, 404).await;
        problem(app.get_as("/not-a-uuid", &admin.access).await, 404).await;
    }

    async fn admin_changes_a_role(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let staff = user_with_role(&app, &admin, "s@example.com", "staff").await;
        let me: Value = app.get_as("/me", &staff.access).await.json().await.expect("json");
        assert_eq!(me["role"], "staff");
    }

    async fn a_promoted_user_gets_admin_rights_at_once(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let before = app.customer("c@example.com").await;
        let id = app.id_of(&admin, "c@example.com").await;
        app.patch_as(&format!("/{id}"), &admin.access, &json!({"role": "admin"})).await;
        // The role is read from the database, not from the older token.
        assert_eq!(app.get_as("/", &before.access).await.status(), 200);
    }

    async fn admin_update_refuses_unknown_fields_and_bad_roles(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        app.register("c@example.com").await;
        let id = app.id_of(&admin, "c@example.com").await;
        let body = problem(app.patch_as(&format!("/{id}"), &admin.access, &json!({"email": "x@example.com"})).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "email");
        let body = problem(app.patch_as(&format!("/{id}"), &admin.access, &json!({"role": "king"})).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "role");
    }

    async fn admin_update_of_an_unknown_user_is_404(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let r = app
            .patch_as(&format!("/{}", uuid::Uuid::new_v4()), &admin.access, &json!({"role": "staff"}))
            .await;
        problem(r, 404).await;
    }

    async fn admin_deactivates_with_patch(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let tokens = app.customer("c@example.com").await;
        let id = app.id_of(&admin, "c@example.com").await;
        assert_eq!(app.deactivate(&id, &admin).await, 200);
        let user: Value = app.get_as(&format!("/{id}"), &admin.access).await.json().await.expect("json");
        assert_eq!(user["is_active"], false);
        // The account stays, listed; deactivating again is harmless.
        assert_eq!(app.deactivate(&id, &admin).await, 200);
        let page: Value = app.get_as("/?q=c@example.com", &admin.access).await.json().await.expect("json");
        assert_eq!(page["total"], 1);
        problem(app.post_refresh("/auth/refresh", &tokens.refresh).await, 403).await;
    }

    async fn delete_removes_the_user_for_good(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let tokens = app.customer("c@example.com").await;
        let id = app.id_of(&admin, "c@example.com").await;
        let r = app.delete_as(&format!("/{id}"), &admin.access).await;
        assert_eq!(r.status(), 204);
        // What the method says: gone, not deactivated.
        problem(app.get_as(&format!("/{id}"), &admin.access).await, 404).await;
        problem(app.delete_as(&format!("/{id}"), &admin.access).await, 404).await;
        problem(app.patch_as(&format!("/{id}"), &admin.access, &json!({"is_active": true})).await, 404).await;
        let page: Value = app.get_as("/?q=c@example.com", &admin.access).await.json().await.expect("json");
        assert_eq!(page["total"], 0);
        // Its sessions and tokens are dead, and the email is free again.
        problem(app.post_refresh("/auth/refresh", &tokens.refresh).await, 401).await;
        problem(app.get_as("/me", &tokens.access).await, 401).await;
        problem(app.login("c@example.com", PASSWORD).await, 401).await;
        assert_eq!(app.register("c@example.com").await["email"], "c@example.com");
    }

    async fn deactivation_revokes_refresh_tokens(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let tokens = app.customer("c@example.com").await;
        let id = app.id_of(&admin, "c@example.com").await;
        assert_eq!(app.deactivate(&id, &admin).await, 200);
        app.patch_as(&format!("/{id}"), &admin.access, &json!({"is_active": true})).await;
        problem(app.post_refresh("/auth/refresh", &tokens.refresh).await, 401).await;
    }

    async fn admin_can_reactivate(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        app.register("c@example.com").await;
        let id = app.id_of(&admin, "c@example.com").await;
        assert_eq!(app.deactivate(&id, &admin).await, 200);
        let user: Value = app
            .patch_as(&format!("/{id}"), &admin.access, &json!({"is_active": true}))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(user["is_active"], true);
        assert_eq!(app.login("c@example.com", PASSWORD).await.status(), 200);
    }

    async fn delete_of_an_unknown_user_is_404(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        problem(app.delete_as(&format!("/{}", uuid::Uuid::new_v4()), &admin.access).await, 404).await;
    }

    async fn admins_cannot_delete_deactivate_or_demote_themselves(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let id = app.id_of(&admin, ADMIN_EMAIL).await;
        problem(app.delete_as(&format!("/{id}"), &admin.access).await, 409).await;
        assert_eq!(app.deactivate(&id, &admin).await, 409);
        problem(app.patch_as(&format!("/{id}"), &admin.access, &json!({"role": "staff"})).await, 409).await;
        assert_eq!(app.get_as("/", &admin.access).await.status(), 200);
    }
    async fn a_page_number_beyond_the_range_is_a_422_naming_page(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        for page in ["9223372036854775808", "4294967296", "18446744073709551616", "-1", "0"] {
            let r = app.get_as(&format!("/?page={page}"), &admin.access).await;
            let body = problem(r, 422).await;
            assert_eq!(body["errors"][0]["field"], "page", "page={page}");
        }
        // The service is still answering.
        assert_eq!(app.get_as("/?page=1", &admin.access).await.status(), 200);
    }

    async fn the_largest_page_number_answers_an_empty_page(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let r = app.get_as("/?page=4294967295&per_page=100", &admin.access).await;
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.expect("json");
        assert_eq!(page["page"], 4294967295_u64);
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"], json!([]));
    }

    async fn a_huge_per_page_is_clamped_and_a_malformed_one_is_a_422(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        let page: Value = app
            .get_as("/?per_page=99999999999999999999999", &admin.access)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(page["per_page"], 100);
        for bad in ["0", "-5", "ten"] {
            let r = app.get_as(&format!("/?per_page={bad}"), &admin.access).await;
            let body = problem(r, 422).await;
            assert_eq!(body["errors"][0]["field"], "per_page", "per_page={bad}");
        }
    }
}
