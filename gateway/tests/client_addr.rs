//! The client's address behind proxies: the right-most `X-Forwarded-For`
//! entry not inside `trusted_proxies`, always sent as `X-Real-IP`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;

/// What the upstream received as `X-Real-IP` and `X-Forwarded-For` for a
/// request with these forwarding headers, through a gateway trusting `trusted`.
async fn forwarded(trusted: &str, headers: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        &format!("trusted_proxies = [{trusted}]"),
    ))
    .await;
    let mut req = client().get(gw.url("/users/me"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let e = echo(&req.send().await.unwrap().text().await.unwrap());
    (echoed(&e, "x-real-ip"), echoed(&e, "x-forwarded-for"))
}

#[tokio::test]
async fn behind_trusted_hops_the_right_most_untrusted_entry_is_the_client() {
    // A spoofed entry, the real client, then an inner proxy; the gateway's
    // peer (127.0.0.1) is the outer proxy.
    let (real_ip, xff) = forwarded(
        "\"127.0.0.0/8\", \"10.0.0.0/8\"",
        &[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.9")],
    )
    .await;
    assert_eq!(real_ip, ["203.0.113.7"]);
    assert_eq!(xff, ["6.6.6.6, 203.0.113.7, 10.0.0.9, 127.0.0.1"]);
}

#[tokio::test]
async fn an_untrusted_hop_in_the_chain_is_the_client() {
    // 10.0.0.9 is not trusted here: it is the nearest address nobody vouches for.
    let (real_ip, _) = forwarded(
        "\"127.0.0.0/8\"",
        &[("x-forwarded-for", "203.0.113.7, 10.0.0.9")],
    )
    .await;
    assert_eq!(real_ip, ["10.0.0.9"]);
}

#[tokio::test]
async fn a_trusted_proxys_x_real_ip_is_rewritten_to_the_client() {
    let (real_ip, _) = forwarded(
        "\"127.0.0.0/8\"",
        &[("x-forwarded-for", "203.0.113.7"), ("x-real-ip", "6.6.6.6")],
    )
    .await;
    assert_eq!(real_ip, ["203.0.113.7"]);
}

#[tokio::test]
async fn a_trusted_proxy_that_forwards_nothing_is_the_client() {
    let (real_ip, xff) = forwarded("\"127.0.0.0/8\"", &[("x-real-ip", "6.6.6.6")]).await;
    assert_eq!(real_ip, ["127.0.0.1"]);
    assert_eq!(xff, ["127.0.0.1"]);
}

#[tokio::test]
async fn an_untrusted_peers_chain_and_x_real_ip_are_ignored() {
    let (real_ip, xff) = forwarded(
        "\"10.0.0.0/8\"",
        &[
            ("x-forwarded-for", "203.0.113.7, 10.0.0.9"),
            ("x-real-ip", "203.0.113.7"),
        ],
    )
    .await;
    assert_eq!(real_ip, ["127.0.0.1"]);
    assert_eq!(xff, ["127.0.0.1"]);
}

#[tokio::test]
async fn an_entry_that_is_no_address_is_not_believed_nor_anything_left_of_it() {
    let (real_ip, _) = forwarded(
        "\"127.0.0.0/8\", \"10.0.0.0/8\"",
        &[("x-forwarded-for", "203.0.113.7, unknown, 10.0.0.9")],
    )
    .await;
    assert_eq!(real_ip, ["10.0.0.9"]);
}

#[tokio::test]
async fn a_reload_that_trusts_the_proxy_makes_its_client_the_client() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start_with(&one_route(&users.url(), ""), |o| o.watch = true).await;
    let send = || async {
        let resp = client()
            .get(gw.url("/users/me"))
            .header("x-forwarded-for", "203.0.113.7")
            .send()
            .await
            .unwrap();
        echoed(&echo(&resp.text().await.unwrap()), "x-real-ip")
    };
    assert_eq!(send().await, ["127.0.0.1"]);
    std::fs::write(
        &gw.config_path,
        one_route(&users.url(), "trusted_proxies = [\"127.0.0.1\"]"),
    )
    .unwrap();
    let seen = poll_until(send, |seen| seen == &["203.0.113.7"]).await;
    assert_eq!(seen, ["203.0.113.7"]);
}
