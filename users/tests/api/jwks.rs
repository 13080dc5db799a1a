use common::auth::{Claims, Role, TokenVerifier, VerifierSettings};
use jsonwebtoken::{Algorithm, Header};
use serde_json::Value;
use users::SigningKey;

use crate::helpers::*;

common::backend_tests! {
    async fn jwks_publishes_the_signing_key_as_an_okp_ed25519_jwk(db) {
        let app = spawn_app(&db).await;
        let r = app.get("/.well-known/jwks.json").await;
        assert_eq!(r.status(), 200);
        let jwks: Value = r.json().await.expect("json");
        let keys = jwks["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), 1);
        let key = &keys[0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kid"], app.signing_key.public_key().kid());
        assert!(key.get("d").is_none(), "private part leaked");
    }

    async fn other_services_verify_our_tokens_through_the_jwks_url(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let verifier = TokenVerifier::remote(
            app.url("/.well-known/jwks.json"),
            VerifierSettings::new("shop-users", "shop"),
        );
        let claims = verifier.verify(&tokens.access).await.expect("verifies");
        assert_eq!(claims.email, "ada@example.com");
        assert_eq!(claims.role, Role::Customer);
    }

    async fn retired_keys_are_published_and_still_verify(db) {
        let old = SigningKey::generate().expect("old key");
        let app = spawn_app_with(&db, &[("JWT_PUBLISHED_KEYS", &old.to_pem())]).await;
        let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.expect("json");
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert_eq!(kids, [app.signing_key.public_key().kid(), old.public_key().kid()]);

        // A token the old key signed before the rotation still works.
        let tokens = app.customer("ada@example.com").await;
        let me: Value = app.get_as("/me", &tokens.access).await.json().await.expect("json");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: me["id"].as_str().expect("id").parse().expect("uuid"),
            email: "ada@example.com".into(),
            role: Role::Customer,
            iat: now,
            exp: now + 60,
            iss: "shop-users".into(),
            aud: "shop".into(),
            jti: "j".into(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(old.public_key().kid().to_string());
        let token = jsonwebtoken::encode(&header, &claims, &old.encoding_key()).expect("sign");
        assert_eq!(app.get_as("/me", &token).await.status(), 200);
    }
}
