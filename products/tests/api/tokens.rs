//! Signing keys from the users service's JWKS: refreshed on its
//! `Cache-Control: max-age`, refetched (rate limited) for an unknown `kid`,
//! kept while the users service is down. Token checks do not depend on the
//! database, so these run on SQLite only.

use std::time::Duration;

use common::testing::TestDb;

use crate::helpers::*;
use crate::jwks_fixture::{JwksServer, SigningKey, unreachable_jwks_url};

/// Fetches at most once a second, so a test can wait one out.
const FAST_REFRESH: &[(&str, &str)] = &[("JWKS_REFRESH_MIN_INTERVAL", "1s")];

async fn create_as(app: &TestApp, key: &SigningKey, title: &str) -> reqwest::Response {
    app.client
        .post(app.url("/"))
        .bearer_auth(key.sign(&app.claims("staff")))
        .json(&product(title, "1.00"))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_key_removed_from_the_jwks_is_refused_once_its_max_age_has_passed() {
    let old = SigningKey::generate("old");
    let new = SigningKey::generate("new");
    let jwks = JwksServer::start(&[&old], Some(1)).await;
    let app = spawn_app_on(TestDb::sqlite(), old, jwks, FAST_REFRESH).await;
    assert_eq!(create_as(&app, &app.signer, "Before").await.status(), 201);

    app.jwks.publish(&[&new]);
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let body = problem(create_as(&app, &app.signer, "Removed").await, 401).await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("unknown key"),
        "{body}"
    );
    assert_eq!(create_as(&app, &new, "After").await.status(), 201);
    assert_eq!(titles(&app, "sort=title").await, ["After", "Before"]);
}

#[tokio::test]
async fn with_the_users_service_down_cached_keys_still_verify_writes() {
    let key = SigningKey::generate("k1");
    let jwks = JwksServer::start(&[&key], Some(1)).await;
    let mut app = spawn_app_on(TestDb::sqlite(), key, jwks, FAST_REFRESH).await;
    assert_eq!(create_as(&app, &app.signer, "Warm").await.status(), 201);

    app.jwks.stop().await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    assert_eq!(create_as(&app, &app.signer, "Still").await.status(), 201);
    let forged = SigningKey::generate("k1");
    problem(create_as(&app, &forged, "Forged").await, 401).await;
    assert_eq!(titles(&app, "sort=title").await, ["Still", "Warm"]);
}

#[tokio::test]
async fn with_the_users_service_down_and_no_cached_keys_writes_are_503() {
    let key = SigningKey::generate("k1");
    let unused = JwksServer::start(&[&key], None).await;
    let url = unreachable_jwks_url();
    let app = spawn_app_on(TestDb::sqlite(), key, unused, &[("JWKS_URL", &url)]).await;

    let body = problem(create_as(&app, &app.signer, "Cold").await, 503).await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("signing keys"),
        "{body}"
    );
    assert!(titles(&app, "sort=title").await.is_empty());
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_keys_again() {
    let first = SigningKey::generate("first");
    let second = SigningKey::generate("second");
    let jwks = JwksServer::start(&[&first], Some(3600)).await;
    let app = spawn_app_on(TestDb::sqlite(), first, jwks, FAST_REFRESH).await;
    assert_eq!(create_as(&app, &app.signer, "One").await.status(), 201);
    assert_eq!(app.jwks.fetches(), 1);

    app.jwks.publish(&[&app.signer, &second]);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    assert_eq!(create_as(&app, &second, "Two").await.status(), 201);
    assert_eq!(app.jwks.fetches(), 2);
    assert_eq!(titles(&app, "sort=title").await, ["One", "Two"]);
}

#[tokio::test]
async fn unknown_kids_fetch_the_keys_at_most_once_per_interval() {
    let key = SigningKey::generate("known");
    let jwks = JwksServer::start(&[&key], Some(3600)).await;
    let app = spawn_app_on(TestDb::sqlite(), key, jwks, FAST_REFRESH).await;
    assert_eq!(create_as(&app, &app.signer, "Known").await.status(), 201);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    for n in 0..5 {
        let stranger = SigningKey::generate(&format!("stranger-{n}"));
        problem(create_as(&app, &stranger, "Nope").await, 401).await;
    }
    assert_eq!(app.jwks.fetches(), 2, "one refetch for five unknown kids");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stranger = SigningKey::generate("stranger-late");
    problem(create_as(&app, &stranger, "Nope").await, 401).await;
    assert_eq!(app.jwks.fetches(), 3);
    assert_eq!(titles(&app, "sort=title").await, ["Known"]);
}
