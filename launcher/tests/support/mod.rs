//! The end-to-end harness: the whole system in-process on ephemeral ports
//! (real TCP between gateway and services), fresh databases per test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use common::testing::{Backend, TestDb};
use launcher::{System, SystemOptions};

/// The admin account every test system starts with.
pub const ADMIN_EMAIL: &str = "admin@e2e.test";
/// Its password.
pub const ADMIN_PASSWORD: &str = "e2e-admin-password";

/// A running system and a client for it.
pub struct TestSystem {
    /// The running components.
    pub system: System,
    /// `http://127.0.0.1:<gateway port>`.
    pub base_url: String,
    /// A plain HTTP client (no redirects followed).
    pub client: reqwest::Client,
    _users_db: TestDb,
    _products_db: TestDb,
    _data: tempfile::TempDir,
}

impl TestSystem {
    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Start gateway + users + products on fresh databases of `users_db`'s backend.
pub async fn spawn_system(users_db: TestDb) -> TestSystem {
    let products_db = match users_db.backend {
        Backend::Sqlite => TestDb::sqlite(),
        Backend::Postgres => TestDb::postgres().await.expect("TEST_DATABASE_URL is set"),
    };
    let data = tempfile::tempdir().expect("temporary data directory");
    let mut options = SystemOptions::ephemeral(data.path());
    options.users_database_url = Some(users_db.url.clone());
    options.products_database_url = Some(products_db.url.clone());
    options.users_settings = vec![
        ("ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
        ("ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        // Cheap hashing keeps the suite fast; production defaults are tested in users.
        ("PASSWORD_HASH_MEMORY_KIB".into(), "1024".into()),
        ("PASSWORD_HASH_ITERATIONS".into(), "1".into()),
    ];
    let system = System::start(options).await.expect("system starts");
    let base_url = system.base_url();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    TestSystem {
        system,
        base_url,
        client,
        _users_db: users_db,
        _products_db: products_db,
        _data: data,
    }
}

/// The storefront's directory as `gateway/shop.toml` names it.
pub const STOREFRONT_PLACEHOLDER: &str = "${STOREFRONT_ROOT:-/srv/storefront}";

/// `gateway/shop.toml` with its storefront root set to this repository's
/// `storefront/`, written into `dir`; returns its path. (Tests cannot set
/// `STOREFRONT_ROOT` in their process environment, which every test thread
/// shares.)
pub fn shop_route_table(dir: &Path) -> PathBuf {
    let shipped = launcher::shop_route_table();
    let text = std::fs::read_to_string(&shipped).expect("gateway/shop.toml");
    assert_eq!(
        text.matches(STOREFRONT_PLACEHOLDER).count(),
        2,
        "both storefront routes of {} take their root from STOREFRONT_ROOT",
        shipped.display()
    );
    let root = launcher::storefront_dir();
    let path = dir.join("shop.toml");
    std::fs::write(
        &path,
        text.replace(STOREFRONT_PLACEHOLDER, &root.display().to_string()),
    )
    .expect("route table");
    path
}
