//! Several replicas starting at once on one fresh database.

use common::config::Sources;
use users::{Application, Config, SigningKey};

use crate::helpers::*;

fn replica_config(db: &common::testing::TestDb, data_dir: &std::path::Path, key: &str) -> Config {
    let pairs: Vec<(String, String)> = vec![
        ("LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("METRICS_LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("DATABASE_URL".into(), db.url.clone()),
        ("DATA_DIR".into(), data_dir.display().to_string()),
        ("JWT_SIGNING_KEY".into(), key.to_string()),
        ("PASSWORD_HASH_MEMORY_KIB".into(), "64".into()),
        ("PASSWORD_HASH_ITERATIONS".into(), "1".into()),
        ("ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
        ("ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
    ];
    Config::load(&Sources::only(pairs)).expect("configuration")
}

common::backend_tests! {
    async fn three_replicas_started_together_all_become_ready_with_one_admin(db) {
        // An empty, unmigrated database: the replicas race for the
        // migrations (common::db's lock) and then for the admin.
        let dir = tempfile::tempdir().expect("dir");
        let key = SigningKey::generate().expect("key").to_pem();
        let build = || Application::build(replica_config(&db, dir.path(), &key));
        let (a, b, c) = tokio::join!(build(), build(), build());
        let mut bases = Vec::new();
        for app in [a, b, c] {
            let app = app.expect("every replica starts");
            bases.push(format!("http://{}", app.local_addr()));
            tokio::spawn(app.run(std::future::pending()));
        }
        let client = reqwest::Client::new();
        for base in &bases {
            let r = client.get(format!("{base}/ready")).send().await.expect("GET");
            assert_eq!(r.status(), 200, "{base}");
        }
        let login = client
            .post(format!("{}/auth/login", bases[0]))
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("POST");
        assert_eq!(login.status(), 200);
        let token: serde_json::Value = login.json().await.expect("json");
        let admins: serde_json::Value = client
            .get(format!("{}/?role=admin", bases[1]))
            .bearer_auth(token["access_token"].as_str().expect("token"))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        assert_eq!(admins["total"], 1, "{admins}");
        assert_eq!(admins["items"][0]["email"], ADMIN_EMAIL);
    }
}
