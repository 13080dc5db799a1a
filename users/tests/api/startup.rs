//! Start-up: signing keys, the configured admin, the binary's subcommands.

use std::io::Write;
use std::process::{Command, Stdio};

use common::config::Sources;
use common::testing::TestDb;
use serde_json::Value;
use users::{Application, Config};

use crate::helpers::*;

fn config(pairs: Vec<(String, String)>) -> Config {
    Config::load(&Sources::only(pairs)).expect("configuration")
}

fn base(db: &TestDb, data_dir: &std::path::Path) -> Vec<(String, String)> {
    vec![
        ("LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("METRICS_LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("DATABASE_URL".into(), db.url.clone()),
        ("DATA_DIR".into(), data_dir.display().to_string()),
        ("PASSWORD_HASH_MEMORY_KIB".into(), "64".into()),
        ("PASSWORD_HASH_ITERATIONS".into(), "1".into()),
    ]
}

async fn start(config: Config) -> TestAppHandle {
    let app = Application::build(config).await.expect("builds");
    let addr = app.local_addr();
    tokio::spawn(app.run(std::future::pending()));
    TestAppHandle {
        base: format!("http://{addr}"),
        port: addr.port(),
    }
}

struct TestAppHandle {
    base: String,
    port: u16,
}

impl TestAppHandle {
    async fn kid(&self) -> String {
        let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", self.base))
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        jwks["keys"][0]["kid"].as_str().expect("kid").to_string()
    }

    async fn login_status(&self, email: &str, password: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/auth/login", self.base))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST")
            .status()
            .as_u16()
    }
}

/// The `users` binary with a clean environment and working directory.
fn users_command(dir: &std::path::Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_users"));
    cmd.env_clear().current_dir(dir).envs(env.iter().cloned());
    cmd
}

#[tokio::test]
async fn production_without_a_signing_key_refuses_to_start_naming_the_variable() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("dir");
    let mut pairs = base(&db, dir.path());
    pairs.push(("APP_ENV".into(), "production".into()));
    let err = Application::build(config(pairs))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("JWT_SIGNING_KEY"), "{err}");
}

#[tokio::test]
async fn an_invalid_signing_key_refuses_to_start_naming_the_variable() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("dir");
    let mut pairs = base(&db, dir.path());
    pairs.push(("JWT_SIGNING_KEY".into(), "not a pem".into()));
    let err = Application::build(config(pairs))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("JWT_SIGNING_KEY"), "{err}");
}

#[tokio::test]
async fn development_generates_a_signing_key_and_keeps_it_across_restarts() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("dir");
    let first = start(config(base(&db, dir.path()))).await.kid().await;
    let second = start(config(base(&db, dir.path()))).await.kid().await;
    assert_eq!(first, second);
    assert!(dir.path().join("users-jwt-signing-key.pem").is_file());
}

#[tokio::test]
async fn a_signing_key_file_is_used() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("dir");
    let key = users::SigningKey::generate().expect("key");
    let path = dir.path().join("key.pem");
    std::fs::write(&path, key.to_pem()).expect("write");
    let mut pairs = base(&db, dir.path());
    pairs.push(("JWT_SIGNING_KEY_FILE".into(), path.display().to_string()));
    let app = start(config(pairs)).await;
    assert_eq!(app.kid().await, key.public_key().kid());
}

common::backend_tests! {
    async fn the_configured_admin_is_created_once_and_never_reset(db) {
        let dir = tempfile::tempdir().expect("dir");
        let mut pairs = base(&db, dir.path());
        pairs.push(("ADMIN_EMAIL".into(), "root@shop.test".into()));
        pairs.push(("ADMIN_PASSWORD".into(), "first-password".into()));
        let first = start(config(pairs.clone())).await;
        assert_eq!(first.login_status("root@shop.test", "first-password").await, 200);
        pairs.pop();
        pairs.push(("ADMIN_PASSWORD".into(), "second-password".into()));
        let second = start(config(pairs)).await;
        assert_eq!(second.login_status("root@shop.test", "first-password").await, 200);
        assert_eq!(second.login_status("root@shop.test", "second-password").await, 401);
    }

    async fn create_admin_makes_an_admin_with_a_password_from_stdin(db) {
        let dir = tempfile::tempdir().expect("dir");
        let env = base(&db, dir.path());
        let mut child = users_command(dir.path(), &env)
            .args(["create-admin", "--email", "Boss@Shop.test", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"boss-password-1\n")
            .expect("write");
        let out = child.wait_with_output().expect("exits");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let app = start(config(env)).await;
        assert_eq!(app.login_status("boss@shop.test", "boss-password-1").await, 200);
    }

    async fn create_admin_generates_and_prints_a_password(db) {
        let dir = tempfile::tempdir().expect("dir");
        let env = base(&db, dir.path());
        let out = users_command(dir.path(), &env)
            .args(["create-admin", "--email", "boss@shop.test"])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let password = stdout
            .lines()
            .find_map(|l| l.strip_prefix("password: "))
            .expect("printed password");
        let app = start(config(env)).await;
        assert_eq!(app.login_status("boss@shop.test", password).await, 200);
    }

    async fn create_admin_promotes_an_existing_account(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        let dir = tempfile::tempdir().expect("dir");
        let out = users_command(dir.path(), &base(&db, dir.path()))
            .args(["create-admin", "--email", "ada@example.com"])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let tokens = app.tokens("ada@example.com", PASSWORD).await;
        assert_eq!(app.get_as("/", &tokens.access).await.status(), 200);
    }
}

// Multi-threaded: the blocking wait on the child must not stall the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_zero_against_a_running_service() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().expect("dir");
    let app = start(config(base(&db, dir.path()))).await;
    let status = users_command(
        dir.path(),
        &[("LISTEN_ADDR".into(), format!("0.0.0.0:{}", app.port))],
    )
    .arg("healthcheck")
    .status()
    .expect("runs");
    assert!(status.success());
}

#[tokio::test]
async fn healthcheck_fails_when_nothing_answers() {
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let status = users_command(
        dir.path(),
        &[("LISTEN_ADDR".into(), format!("0.0.0.0:{port}"))],
    )
    .arg("healthcheck")
    .stderr(Stdio::null())
    .status()
    .expect("runs");
    assert!(!status.success());
}
