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

    async fn stopping_the_system_ends_every_component(db) {
        let app = spawn_system(db).await;
        let addr = app.system.gateway_addr;
        app.system.stop().await.expect("clean stop");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
