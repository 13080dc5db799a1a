//! The system as a whole: both services reachable through the gateway.

mod support;

use support::spawn_system;

common::backend_tests! {
    async fn both_services_answer_health_through_the_gateway(db) {
        let app = spawn_system(db).await;
        for path in ["/users/health", "/products/health", "/users/ready", "/products/ready"] {
            let res = app.client.get(app.url(path)).send().await.expect("request");
            assert_eq!(res.status(), 200, "{path}");
        }
    }

    async fn unknown_paths_are_a_problem_with_a_request_id(db) {
        let app = spawn_system(db).await;
        let res = app.client.get(app.url("/nowhere")).send().await.expect("request");
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["status"], 404);
        assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    }

    async fn the_request_id_travels_to_the_service_and_back(db) {
        let app = spawn_system(db).await;
        let res = app
            .client
            .get(app.url("/products/does-not-exist/x"))
            .header("x-request-id", "e2e-trace-1")
            .send()
            .await
            .expect("request");
        assert_eq!(res.headers()["x-request-id"], "e2e-trace-1");
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["request_id"], "e2e-trace-1");
    }

    async fn an_answer_given_before_the_body_is_read_reaches_the_client(db) {
        // The services answer 405 (unknown method), 401 (no token) or 404
        // without reading the body; the rest of the body is drained, so the
        // gateway gets the answer rather than a reset (it used to say 502).
        let app = spawn_system(db).await;
        let body = vec![b'x'; 256 * 1024];
        for (method, path, status) in [
            ("QUERY", "/users/auth/register", 405),
            ("POST", "/products/", 401),
            ("PUT", "/products/1/stock", 405),
            ("POST", "/products/1/no/such/thing", 404),
        ] {
            for round in 0..3 {
                let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let res = app
                    .client
                    .request(method.clone(), app.url(path))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("request");
                assert_eq!(res.status(), status, "{method} {path}, round {round}");
            }
        }
    }

    async fn stopping_the_system_ends_every_component(db) {
        let app = spawn_system(db).await;
        let addr = app.system.gateway_addr;
        app.system.stop().await.expect("clean stop");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}

#[tokio::test]
async fn every_component_serves_its_own_metrics() {
    let app = spawn_system(common::testing::TestDb::sqlite()).await;
    let res = app
        .client
        .get(app.url("/products/"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let system = &app.system;
    for (addr, own, foreign) in [
        (
            system.admin_addr,
            "gateway_requests_total",
            "users_logins_total",
        ),
        (
            system.users_metrics_addr,
            "users_logins_total",
            "products_changes_total",
        ),
        (
            system.products_metrics_addr,
            "products_changes_total",
            "gateway_requests_total",
        ),
    ] {
        let res = app
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("metrics");
        assert_eq!(res.status(), 200, "{addr}");
        let text = res.text().await.expect("text");
        assert!(text.contains(own), "{own} at {addr}:\n{text}");
        assert!(!text.contains(foreign), "{foreign} at {addr}");
    }
    let products = app
        .client
        .get(format!("http://{}/metrics", system.products_metrics_addr))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert_eq!(
        common::testing::metric_value(
            &products,
            "http_requests_total{route=\"/\",method=\"GET\",status=\"200\"}"
        ),
        Some(1.0),
        "{products}"
    );
    // The gateway never routes to a metrics listener.
    let res = app
        .client
        .get(app.url("/products/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
}
