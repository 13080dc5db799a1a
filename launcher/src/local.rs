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
    /// The users service's metrics listener.
    pub users_metrics: SocketAddr,
    /// The products service's metrics listener.
    pub products_metrics: SocketAddr,
    /// Route table file.
    pub routes: PathBuf,
    /// Also serve HTTPS on this port, with a `localhost` certificate from a
    /// local CA kept in `<data_dir>/tls` (opt-in: `--https`).
    pub https_port: Option<u16>,
}

/// The variable `gateway/shop.toml` takes the storefront's directory from.
pub const STOREFRONT_ROOT: &str = "STOREFRONT_ROOT";

/// Where the storefront is when `STOREFRONT_ROOT` is not set: `storefront/`
/// under the working directory (where the default route table is found
/// too), else the repository's this binary was built from. `None` when
/// neither exists (the gateway then names the missing directory).
pub fn default_storefront_root() -> Option<PathBuf> {
    let here = std::env::current_dir()
        .ok()
        .map(|dir| dir.join("storefront"));
    [here, Some(crate::storefront_dir())]
        .into_iter()
        .flatten()
        .find(|dir| dir.join("index.html").is_file())
}

/// Gives the gateway's route table a `STOREFRONT_ROOT` when the process has
/// none: replaces this process with itself (same arguments, same PID) with
/// the variable set to [`default_storefront_root`]. Returns only when
/// nothing needs doing; call it first in `main`, before any thread starts.
/// (The variable cannot be set in place: `std::env::set_var` is `unsafe`
/// and the workspace forbids unsafe code.)
#[cfg(unix)]
pub fn exec_with_storefront_root() -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(STOREFRONT_ROOT).is_some() {
        return Ok(());
    }
    let Some(root) = default_storefront_root() else {
        return Ok(());
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| "shop".into());
    let exe = std::env::current_exe().context("cannot find this program to restart it")?;
    let error = std::process::Command::new(exe)
        .arg0(arg0)
        .args(args)
        .env(STOREFRONT_ROOT, root)
        .exec();
    Err(error).context("cannot restart with STOREFRONT_ROOT set")
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
    system_options.users_metrics_listen = options.users_metrics;
    system_options.products_metrics_listen = options.products_metrics;
    system_options.gateway_trace_export = common::telemetry::otlp::Export::from_env("gateway");
    system_options.use_process_env = true;
    system_options.watch_routes = true;
    let local_ca = match options.https_port {
        Some(port) => {
            let dir = options.data_dir.join("tls");
            let (ca, cert, key) = gateway::local_ca::localhost_certificate(&dir)
                .with_context(|| format!("cannot make a local certificate in {}", dir.display()))?;
            system_options.gateway_tls = Some(gateway::TlsOverride {
                listen: SocketAddr::from(([0, 0, 0, 0], port)),
                cert,
                key,
            });
            Some(ca)
        }
        None => None,
    };
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
    print_banner(&system, password.as_deref(), local_ca.as_deref());
    let result = system.run_until(common::shutdown::signal()).await;
    println!("shop stopped");
    result
}

fn print_banner(system: &System, password: Option<&str>, local_ca: Option<&std::path::Path>) {
    let port = system.gateway_addr.port();
    let host = if port == 80 {
        "http://localhost".to_string()
    } else {
        format!("http://localhost:{port}")
    };
    println!();
    println!("  shop is running");
    println!("    storefront:         {host}/");
    println!("    users API docs:     {host}/users/docs");
    println!("    products API docs:  {host}/products/docs");
    if let Some(https) = system.https_addr {
        println!(
            "    over HTTPS:         https://localhost:{}/users/docs",
            https.port()
        );
    }
    println!("  metrics (Prometheus):");
    println!(
        "    gateway:            http://{}/metrics",
        system.admin_addr
    );
    println!(
        "    users:              http://{}/metrics",
        system.users_metrics_addr
    );
    println!(
        "    products:           http://{}/metrics",
        system.products_metrics_addr
    );
    if let Some(ca) = local_ca {
        print_trust_help(ca);
    }
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

/// How to trust the local CA, as mkcert and Caddy explain it.
fn print_trust_help(ca: &std::path::Path) {
    let ca = ca.display();
    println!();
    println!("  HTTPS uses a certificate from a local CA made for this data directory:");
    println!("    {ca}");
    println!("  trust it (once) to avoid browser warnings:");
    println!("    curl:            curl --cacert {ca} https://localhost:PORT/...");
    println!(
        "    Debian/Ubuntu:   sudo cp {ca} /usr/local/share/ca-certificates/shop-local-ca.crt && sudo update-ca-certificates"
    );
    println!(
        "    Chrome/Chromium: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n shop-local-ca -i {ca}"
    );
    println!(
        "    Firefox:         Settings > Certificates > View Certificates > Authorities > Import"
    );
    println!(
        "    macOS:           sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}"
    );
    println!(
        "  (whoever holds its key can mint certificates your machine trusts: keep the data directory private,"
    );
    println!("   and remove the CA from the trust stores above when you are done)");
}

/// 32 random hex characters (122 bits from the OS RNG via UUID v4).
fn generate_password() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
