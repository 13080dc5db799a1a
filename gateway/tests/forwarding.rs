//! Prefix routing and forwarding through real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;

#[tokio::test]
async fn prefix_is_stripped_and_query_kept() {
    let users = Upstream::start("users").await;
    let products = Upstream::start("products").await;
    let gw = TestGateway::start(&two_routes(&users.url(), &products.url())).await;
    let resp = client()
        .get(gw.url("/users/auth/login?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-upstream"], "users");
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(e["path"], "/auth/login?x=1");
    let resp = client().get(gw.url("/products/42")).send().await.unwrap();
    assert_eq!(resp.headers()["x-upstream"], "products");
    assert_eq!(echo(&resp.text().await.unwrap())["path"], "/42");
}
