//! Edge authentication over real TCP: tokens signed with a real Ed25519
//! key, verified by the gateway against a JWKS served over loopback by the
//! test (as the users service serves it); refusals never reach the
//! upstream; public paths pass; no key set gives 503; a reload.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod policy_support;
mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use policy_support::*;
use ring::signature::{Ed25519KeyPair, KeyPair};
use support::*;
use tokio::net::TcpListener;

/// A signing key and the JWKS that publishes it.
struct Issuer {
    key: EncodingKey,
    jwks: String,
}

impl Issuer {
    fn new() -> Issuer {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        let jwks = serde_json::json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig"
        }]})
        .to_string();
        Issuer {
            key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwks,
        }
    }

    /// A token expiring `expires_in` seconds from now for `audience`.
    fn token(&self, expires_in: i64, audience: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let claims = serde_json::json!({
            "sub": "0193a2b4-0000-7000-8000-000000000001",
            "email": "alice@example.com",
            "role": "customer",
            "iat": now - 60,
            "exp": now + expires_in,
            "iss": "shop-users",
            "aud": audience,
            "jti": "t1",
        });
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

/// Serve `jwks` at `/.well-known/jwks.json`; the count of fetches.
async fn serve_jwks(jwks: String) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&fetches);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (jwks, counted) = (jwks.clone(), Arc::clone(&counted));
            tokio::spawn(async move {
                let svc = service_fn(move |_req| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let mut r = Response::new(Full::new(Bytes::from(jwks.clone())));
                    r.headers_mut()
                        .insert("content-type", "application/json".parse().unwrap());
                    r.headers_mut()
                        .insert("cache-control", "max-age=300".parse().unwrap());
                    async move { Ok::<_, Infallible>(r) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, fetches)
}

fn auth_table(jwks: SocketAddr) -> String {
    format!(
        "[routes.auth]\njwks_url = \"http://{jwks}/.well-known/jwks.json\"\npublic_paths = [\"/users/auth/\"]\n"
    )
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused_before_the_upstream() {
    let issuer = Issuer::new();
    let (jwks, fetches) = serve_jwks(issuer.jwks.clone()).await;
    let up = Upstream::start("users").await;
    let gw = TestGateway::start(&route_with(&up.url(), &auth_table(jwks))).await;
    let c = client();
    let me = gw.url("/users/me");

    let r = c.get(&me).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("bearer access token"),
        "{body}"
    );

    for (authorization, want) in [
        ("Basic YTpi".to_string(), "must be `Bearer <access token>`"),
        ("Bearer not-a-jwt".to_string(), "malformed"),
        (format!("Bearer {}", issuer.token(-3600, "shop")), "expired"),
        (
            format!("Bearer {}", issuer.token(600, "elsewhere")),
            "invalid",
        ),
        // Signed by another key under the same `kid`.
        (
            format!("Bearer {}", Issuer::new().token(600, "shop")),
            "invalid",
        ),
    ] {
        let r = c
            .get(&me)
            .header("authorization", &authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{want}");
        assert!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains(want),
            "{want}: {body}"
        );
    }
    assert_eq!(up.requests(), 0);

    let token = issuer.token(600, "shop");
    let r = c.get(&me).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let e = echo(&r.text().await.unwrap());
    assert_eq!(echoed(&e, "authorization"), [format!("Bearer {token}")]);
    // Public paths need no token.
    let r = c.post(gw.url("/users/auth/login")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests(), 2);
    // The key set was fetched once and cached (max-age=300).
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    let m = gw.metrics().await;
    for reason in ["missing", "invalid", "expired"] {
        let series =
            format!("gateway_auth_refusals_total{{route=\"/users/\",reason=\"{reason}\"}}");
        assert!(metric(&m, &series).unwrap() >= 1.0, "{reason}: {m}");
    }
}

#[tokio::test]
async fn without_a_key_set_the_answer_is_503() {
    let dead = closed_port().await;
    let up = Upstream::start("users").await;
    let gw = TestGateway::start(&route_with(&up.url(), &auth_table(dead))).await;
    let r = client()
        .get(gw.url("/users/me"))
        .bearer_auth(Issuer::new().token(600, "shop"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("signing keys"),
        "{body}"
    );
    assert_eq!(up.requests(), 0);
}

#[tokio::test]
async fn a_reload_switches_edge_authentication_on() {
    let issuer = Issuer::new();
    let (jwks, _) = serve_jwks(issuer.jwks.clone()).await;
    let up = Upstream::start("users").await;
    let gw = TestGateway::start_with(&route_with(&up.url(), ""), |o| o.watch = true).await;
    let c = client();
    assert_eq!(
        c.get(gw.url("/users/me")).send().await.unwrap().status(),
        200
    );
    reload(&gw, &route_with(&up.url(), &auth_table(jwks)), |c| {
        !shown(c, "auth").is_null()
    })
    .await;
    let config = gw.config_json().await;
    assert_eq!(shown(&config, "auth")["issuer"], "shop-users");
    assert_eq!(
        c.get(gw.url("/users/me")).send().await.unwrap().status(),
        401
    );
    let r = c
        .get(gw.url("/users/me"))
        .bearer_auth(issuer.token(600, "shop"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
