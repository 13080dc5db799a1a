//! Access tokens the service must refuse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::auth::{Claims, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use users::SigningKey;

use crate::helpers::*;

/// Claims like the service's for `sub`, expiring `exp_in` seconds from now.
fn claims(sub: uuid::Uuid, exp_in: i64) -> Claims {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Claims {
        sub,
        email: "ada@example.com".into(),
        role: Role::Admin,
        iat: now - 60,
        exp: now + exp_in,
        iss: "shop-users".into(),
        aud: "shop".into(),
        jti: uuid::Uuid::new_v4().to_string(),
    }
}

fn sign(key: &SigningKey, kid: &str, claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &key.encoding_key()).expect("sign")
}

async fn user_id(app: &TestApp) -> (uuid::Uuid, Tokens) {
    let tokens = app.customer("ada@example.com").await;
    let me: Value = app
        .get_as("/me", &tokens.access)
        .await
        .json()
        .await
        .expect("json");
    (
        me["id"].as_str().expect("id").parse().expect("uuid"),
        tokens,
    )
}

async fn assert_refused(app: &TestApp, token: &str) -> Value {
    let r = app.get_as("/me", token).await;
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    problem(r, 401).await
}

common::backend_tests! {
    async fn a_token_signed_by_the_service_key_is_accepted(db) {
        let app = spawn_app(&db).await;
        let (id, _) = user_id(&app).await;
        let key = &app.signing_key;
        let token = sign(key, key.public_key().kid(), &claims(id, 60));
        assert_eq!(app.get_as("/me", &token).await.status(), 200);
    }

    async fn an_expired_token_is_refused(db) {
        let app = spawn_app(&db).await;
        let (id, _) = user_id(&app).await;
        let key = &app.signing_key;
        let token = sign(key, key.public_key().kid(), &claims(id, -120));
        let body = assert_refused(&app, &token).await;
        assert!(body["detail"].as_str().expect("detail").contains("expired"));
    }

    async fn a_tampered_token_is_refused(db) {
        let app = spawn_app(&db).await;
        let (_, tokens) = user_id(&app).await;
        let parts: Vec<&str> = tokens.access.split('.').collect();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        payload["role"] = json!("admin");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            parts[2]
        );
        assert_refused(&app, &forged).await;
    }

    async fn a_token_signed_by_another_key_under_our_kid_is_refused(db) {
        let app = spawn_app(&db).await;
        let (id, _) = user_id(&app).await;
        let other = SigningKey::generate().expect("key");
        let token = sign(&other, app.signing_key.public_key().kid(), &claims(id, 60));
        assert_refused(&app, &token).await;
    }

    async fn a_token_with_an_unknown_kid_is_refused(db) {
        let app = spawn_app(&db).await;
        let (id, _) = user_id(&app).await;
        let other = SigningKey::generate().expect("key");
        let token = sign(&other, other.public_key().kid(), &claims(id, 60));
        assert_refused(&app, &token).await;
    }

    async fn an_alg_none_token_is_refused(db) {
        let app = spawn_app(&db).await;
        let (id, _) = user_id(&app).await;
        let header = URL_SAFE_NO_PAD.encode(
            json!({"alg": "none", "typ": "JWT", "kid": app.signing_key.public_key().kid()}).to_string(),
        );
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(id, 60)).expect("json"));
        assert_refused(&app, &format!("{header}.{payload}.")).await;
    }

    async fn an_hs256_token_is_refused(db) {
        let app = spawn_app(&db).await;
        let (id, _) = user_id(&app).await;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(app.signing_key.public_key().kid().to_string());
        let token = jsonwebtoken::encode(&header, &claims(id, 60), &EncodingKey::from_secret(b"secret"))
            .expect("sign");
        assert_refused(&app, &token).await;
    }

    async fn a_token_for_another_audience_is_refused(db) {
        let app = spawn_app(&db).await;
        let (id, _) = user_id(&app).await;
        let mut c = claims(id, 60);
        c.aud = "someone-else".into();
        let key = &app.signing_key;
        assert_refused(&app, &sign(key, key.public_key().kid(), &c)).await;
    }

    async fn a_token_from_another_issuer_is_refused(db) {
        let app = spawn_app(&db).await;
        let (id, _) = user_id(&app).await;
        let mut c = claims(id, 60);
        c.iss = "evil".into();
        let key = &app.signing_key;
        assert_refused(&app, &sign(key, key.public_key().kid(), &c)).await;
    }

    async fn a_garbage_token_is_refused(db) {
        let app = spawn_app(&db).await;
        assert_refused(&app, "not.a.jwt").await;
    }

    async fn a_token_for_an_account_that_does_not_exist_is_refused(db) {
        let app = spawn_app(&db).await;
        let key = &app.signing_key;
        let token = sign(key, key.public_key().kid(), &claims(uuid::Uuid::new_v4(), 60));
        assert_refused(&app, &token).await;
    }

    async fn issued_tokens_carry_the_spec_claims_and_kid(db) {
        let app = spawn_app(&db).await;
        let (id, tokens) = user_id(&app).await;
        let parts: Vec<&str> = tokens.access.split('.').collect();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["kid"], app.signing_key.public_key().kid());
        let payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        let mut keys: Vec<&str> = payload.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["aud", "email", "exp", "iat", "iss", "jti", "role", "sub"]);
        assert_eq!(payload["sub"], id.to_string());
        assert_eq!(payload["role"], "customer");
        assert_eq!(payload["iss"], "shop-users");
        assert_eq!(payload["aud"], "shop");
        assert_eq!(payload["exp"].as_i64().expect("exp") - payload["iat"].as_i64().expect("iat"), 900);
    }
}
