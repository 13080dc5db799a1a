//! Emails are one account whatever Unicode form, case or domain encoding
//! the client sends, on every backend.

use serde_json::json;

use crate::helpers::*;

/// `Ünïcode@Exämple.com` as different clients may send it.
const VARIANTS: [&str; 6] = [
    // Decomposed (NFD): U + COMBINING DIAERESIS.
    "U\u{308}ni\u{308}code@Exa\u{308}mple.com",
    "ÜNÏCODE@EXÄMPLE.COM",
    "ünïcode@exämple.com",
    // The domain as IDNA (punycode).
    "ünïcode@xn--exmple-cua.com",
    "Ünïcode@XN--EXMPLE-CUA.COM",
    // Fullwidth letters fold under NFKC.
    "Ünïcode@Exämple.ｃｏｍ",
];

common::backend_tests! {
    async fn unicode_case_and_idna_variants_of_an_email_collide(db) {
        let app = spawn_app(&db).await;
        app.register("Ünïcode@Exämple.com").await;
        for variant in VARIANTS {
            let r = app
                .post_json("/auth/register", &json!({"email": variant, "password": PASSWORD}))
                .await;
            let body = problem(r, 409).await;
            assert_eq!(body["detail"], "an account with this email already exists", "{variant}");
        }
    }

    async fn every_variant_of_an_email_signs_in_to_the_one_account(db) {
        let app = spawn_app(&db).await;
        let user = app.register("Ünïcode@Exämple.com").await;
        assert_eq!(user["email"], "ünïcode@exämple.com");
        for variant in VARIANTS {
            assert_eq!(app.login(variant, PASSWORD).await.status(), 200, "{variant}");
        }
    }

    async fn the_admin_search_folds_case_beyond_ascii(db) {
        let app = spawn_app(&db).await;
        let admin = app.admin().await;
        app.register("ÉMILE@Exämple.com").await;
        let page: serde_json::Value = app
            .get_as("/?q=%C3%89mile%40EX%C3%84", &admin.access)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(page["total"], 1, "{page}");
        assert_eq!(page["items"][0]["email"], "émile@exämple.com");
    }
}
