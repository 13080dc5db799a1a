//! The local run command: first-run setup (admin account, demo catalogue)
//! and the banner telling the user where to go.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;

use crate::{System, SystemOptions};

/// The email of the local admin created on a fresh data directory.
pub const LOCAL_ADMIN_EMAIL: &str = "admin@shop.local";

/// What `shop` was asked to do.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Public listener candidates in order.
    pub listen: Vec<SocketAddr>,
    /// Admin listener.
    pub admin: SocketAddr,
    /// Route table file.
    pub routes: PathBuf,
}

/// Start everything, print where to go, run until Ctrl-C / SIGTERM.
pub async fn run(options: LocalOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("cannot create {}", options.data_dir.display()))?;
    let fresh = !options.data_dir.join("users.db").exists();
    let mut system_options = SystemOptions::ephemeral(&options.data_dir);
    system_options.gateway_config = options.routes.clone();
    system_options.gateway_listen = options.listen.clone();
    system_options.admin_listen = options.admin;
    system_options.use_process_env = true;
    system_options.watch_routes = true;
    let password = fresh.then(generate_password);
    if let Some(password) = &password {
        system_options.users_settings = vec![
            ("ADMIN_EMAIL".into(), LOCAL_ADMIN_EMAIL.into()),
            ("ADMIN_PASSWORD".into(), password.clone()),
        ];
        system_options.products_settings = vec![("SEED_DEMO_CATALOGUE".into(), "true".into())];
    }
    let system = System::start(system_options).await?;
    if let Some(why) = &system.fell_back {
        let port = system.gateway_addr.port();
        if why.contains("permission denied") {
            println!(
                "note: port 80 needs root or CAP_NET_BIND_SERVICE ({why}); using port {port} instead"
            );
        } else {
            println!("note: port 80 is not available ({why}); using port {port} instead");
        }
    }
    print_banner(&system, password.as_deref());
    let result = system.run_until(common::shutdown::signal()).await;
    println!("shop stopped");
    result
}

fn print_banner(system: &System, password: Option<&str>) {
    let port = system.gateway_addr.port();
    let host = if port == 80 {
        "http://localhost".to_string()
    } else {
        format!("http://localhost:{port}")
    };
    println!();
    println!("  shop is running");
    println!("    users API docs:     {host}/users/docs");
    println!("    products API docs:  {host}/products/docs");
    println!(
        "    gateway admin:      http://{}/metrics",
        system.admin_addr
    );
    if let Some(password) = password {
        println!();
        println!("  a demo catalogue was loaded and a local admin account created:");
        println!("    email:    {LOCAL_ADMIN_EMAIL}");
        println!("    password: {password}");
        println!("  (shown once; delete the data directory to start over)");
    }
    println!();
    println!("  press Ctrl-C to stop");
    println!();
}

/// 32 random hex characters (122 bits from the OS RNG via UUID v4).
fn generate_password() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
