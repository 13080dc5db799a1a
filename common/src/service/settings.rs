//! The settings every service has, by environment variable name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{LogFormat, Secret, duration};

/// Development (generated keys, demo data allowed) or production (every
/// secret must be configured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    /// Local runs and tests.
    #[default]
    Development,
    /// Deployed: missing secrets stop start-up.
    Production,
}

/// Settings every service has, by environment variable name.
#[derive(Debug, Clone, Deserialize)]
pub struct BaseConfig {
    /// `LISTEN_ADDR`: where the service listens (default `0.0.0.0:8000`).
    #[serde(default = "default_listen")]
    pub listen_addr: SocketAddr,
    /// `METRICS_LISTEN_ADDR`: the Prometheus `/metrics` listener, apart
    /// from the API so the gateway never routes to it (default
    /// `127.0.0.1:9464`: loopback, like the gateway's admin port, because
    /// metrics tell traffic and sign-in failure rates; deployments open it
    /// to their network on purpose).
    #[serde(default = "default_metrics_listen")]
    pub metrics_listen_addr: SocketAddr,
    /// `APP_ENV`: `development` (default) or `production`.
    #[serde(default)]
    pub app_env: AppEnv,
    /// `DATA_DIR`: where local files live (SQLite, generated keys); default `./data`.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: `sqlite://...` or `postgres://...`; default a SQLite
    /// file in `DATA_DIR` named after the service.
    #[serde(default)]
    pub database_url: Option<Secret>,
    /// `DATABASE_MAX_CONNECTIONS`: pool size (default 10).
    #[serde(default = "default_max_connections")]
    pub database_max_connections: u32,
    /// `DATABASE_CONNECT_TIMEOUT`: per attempt (default 5s).
    #[serde(default = "default_connect_timeout", deserialize_with = "duration")]
    pub database_connect_timeout: Duration,
    /// `DATABASE_STARTUP_TIMEOUT`: how long start-up keeps retrying an
    /// unreachable database (default 60s).
    #[serde(default = "default_startup_timeout", deserialize_with = "duration")]
    pub database_startup_timeout: Duration,
    /// `LOG_FORMAT`: `pretty` (default) or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// `RUST_LOG`: tracing filter (default `info`).
    #[serde(default = "default_log")]
    pub rust_log: String,
    /// `REQUEST_TIMEOUT`: longest a handler may run (default 30s).
    #[serde(default = "default_request_timeout", deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// `BODY_LIMIT`: largest request body in bytes (default 1 MiB).
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// `SHUTDOWN_GRACE`: how long in-flight requests may finish after
    /// SIGTERM (default 20s).
    #[serde(default = "default_grace", deserialize_with = "duration")]
    pub shutdown_grace: Duration,
    /// `SHUTDOWN_DRAIN_DELAY`: after SIGTERM and before the graceful
    /// shutdown, how long the service keeps serving while `/ready` answers
    /// 503 and every response closes its connection (default 5s, at most
    /// [`MAX_DRAIN_DELAY`]; `0` skips the drain). Above the readiness
    /// probe's period x failure threshold, so balancers stop sending first.
    #[serde(default = "default_drain_delay", deserialize_with = "drain_delay")]
    pub shutdown_drain_delay: Duration,
}

/// The longest `SHUTDOWN_DRAIN_DELAY`: a stop waits this long before its
/// grace period even starts, and orchestrators kill what takes longer.
pub const MAX_DRAIN_DELAY: Duration = Duration::from_secs(60);

impl BaseConfig {
    /// The drain delay and grace period of a stop.
    pub fn stop_times(&self) -> super::StopTimes {
        super::StopTimes {
            drain_delay: self.shutdown_drain_delay,
            grace: self.shutdown_grace,
        }
    }
}

fn drain_delay<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let delay = duration(deserializer)?;
    if delay > MAX_DRAIN_DELAY {
        return Err(serde::de::Error::custom(format!(
            "{delay:?} is longer than the {MAX_DRAIN_DELAY:?} allowed"
        )));
    }
    Ok(delay)
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8000))
}
fn default_metrics_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9464))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_max_connections() -> u32 {
    10
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_startup_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_log() -> String {
    "info".to_string()
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_body_limit() -> usize {
    1024 * 1024
}
fn default_grace() -> Duration {
    Duration::from_secs(20)
}
fn default_drain_delay() -> Duration {
    Duration::from_secs(5)
}

#[cfg(feature = "db")]
impl BaseConfig {
    /// Database settings; `service` names the default SQLite file.
    pub fn db(&self, service: &str) -> crate::db::DbSettings {
        let url = self.database_url.clone().unwrap_or_else(|| {
            Secret::new(format!("sqlite://{}/{service}.db", self.data_dir.display()))
        });
        crate::db::DbSettings {
            url,
            max_connections: self.database_max_connections,
            connect_timeout: self.database_connect_timeout,
            startup_timeout: self.database_startup_timeout,
        }
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;
    use crate::config::{Sources, load};

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Flattened {
        #[serde(flatten)]
        base: BaseConfig,
    }

    #[test]
    fn base_config_defaults() {
        let c: BaseConfig = load(&Sources::only(Vec::<(String, String)>::new())).expect("defaults");
        assert_eq!(c.listen_addr.port(), 8000);
        assert_eq!(c.metrics_listen_addr.to_string(), "127.0.0.1:9464");
        assert_eq!(c.app_env, AppEnv::Development);
        assert_eq!(c.body_limit, 1024 * 1024);
        assert_eq!(c.shutdown_drain_delay, Duration::from_secs(5));
        #[cfg(feature = "db")]
        assert!(c.db("users").url.expose().ends_with("data/users.db"));
    }

    #[test]
    fn each_invalid_base_setting_names_its_variable() {
        for (var, value) in [
            ("LISTEN_ADDR", "nowhere"),
            ("METRICS_LISTEN_ADDR", "9464"),
            ("APP_ENV", "staging"),
            ("DATABASE_MAX_CONNECTIONS", "many"),
            ("DATABASE_CONNECT_TIMEOUT", "soon"),
            ("DATABASE_STARTUP_TIMEOUT", "-1"),
            ("LOG_FORMAT", "xml"),
            ("REQUEST_TIMEOUT", "forever"),
            ("BODY_LIMIT", "huge"),
            ("SHUTDOWN_GRACE", "later"),
            ("SHUTDOWN_DRAIN_DELAY", "soon"),
            ("SHUTDOWN_DRAIN_DELAY", "61s"),
            ("SHUTDOWN_DRAIN_DELAY", "2h"),
        ] {
            let err = load::<BaseConfig>(&Sources::only([(var, value)])).expect_err(var);
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid configuration: {var}: ")),
                "{var}: {err}"
            );
            let err = load::<Flattened>(&Sources::only([(var, value)])).expect_err(var);
            assert!(err.to_string().contains(var), "flattened {var}: {err}");
        }
    }

    #[test]
    fn the_drain_delay_may_be_zero_or_up_to_its_cap() {
        for (value, want) in [("0", 0), ("0s", 0), ("10s", 10), ("60s", 60), ("1m", 60)] {
            let c: BaseConfig =
                load(&Sources::only([("SHUTDOWN_DRAIN_DELAY", value)])).expect(value);
            assert_eq!(c.shutdown_drain_delay, Duration::from_secs(want), "{value}");
            assert_eq!(c.stop_times().drain_delay, Duration::from_secs(want));
        }
        let err = load::<BaseConfig>(&Sources::only([("SHUTDOWN_DRAIN_DELAY", "61s")]))
            .expect_err("over the cap");
        assert!(err.to_string().contains("longer than"), "{err}");
    }
}
