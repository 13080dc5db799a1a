//! The products service's settings: the shared [`BaseConfig`] plus token
//! verification and demo-data switches, each named by its environment
//! variable.

use std::time::Duration;

use common::config::{ConfigError, Sources, duration, load};
use common::service::BaseConfig;
use serde::Deserialize;

/// Everything the products service reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Settings every service has (`LISTEN_ADDR`, `DATABASE_URL`, ...).
    pub base: BaseConfig,
    /// `JWKS_URL`: where the users service publishes its public signing keys
    /// (default `http://127.0.0.1:8001/.well-known/jwks.json`).
    pub jwks_url: String,
    /// `JWT_ISSUER`: the `iss` access tokens must carry (default `shop-users`).
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`: the `aud` access tokens must carry (default `shop`).
    pub jwt_audience: String,
    /// `JWKS_REFRESH_DEFAULT`: how long fetched keys are trusted when the
    /// users service sends no `Cache-Control: max-age` (default 5m).
    pub jwks_refresh_default: Duration,
    /// `JWKS_REFRESH_MIN_INTERVAL`: least time between two fetches of the
    /// keys, refreshes and unknown-`kid` refetches alike (default 10s).
    pub jwks_refresh_min_interval: Duration,
    /// `SEED_DEMO_CATALOGUE`: load the demo catalogue at start when the
    /// products table is empty (default `false`).
    pub seed_demo_catalogue: bool,
    /// `LIST_CACHE_ENTRIES`: how many list pages are kept, each valid until
    /// the next write to the catalogue (default 1000; 0 turns the cache
    /// off).
    pub list_cache_entries: usize,
}

/// The products-only settings, read from the same sources as the base.
#[derive(Debug, Deserialize)]
struct ProductSettings {
    #[serde(default = "default_jwks_url")]
    jwks_url: String,
    #[serde(default = "default_issuer")]
    jwt_issuer: String,
    #[serde(default = "default_audience")]
    jwt_audience: String,
    #[serde(default = "default_refresh", deserialize_with = "duration")]
    jwks_refresh_default: Duration,
    #[serde(default = "default_min_refresh", deserialize_with = "duration")]
    jwks_refresh_min_interval: Duration,
    #[serde(default)]
    seed_demo_catalogue: bool,
    #[serde(default = "default_list_cache_entries")]
    list_cache_entries: usize,
}

fn default_list_cache_entries() -> usize {
    1000
}

fn default_refresh() -> Duration {
    Duration::from_secs(300)
}
fn default_min_refresh() -> Duration {
    Duration::from_secs(10)
}

fn default_jwks_url() -> String {
    "http://127.0.0.1:8001/.well-known/jwks.json".to_string()
}
fn default_issuer() -> String {
    "shop-users".to_string()
}
fn default_audience() -> String {
    "shop".to_string()
}

impl Config {
    /// Load defaults, then the optional TOML file, then the environment.
    pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
        let base: BaseConfig = load(sources)?;
        let settings: ProductSettings = load(sources)?;
        if !settings.jwks_url.starts_with("http://") && !settings.jwks_url.starts_with("https://") {
            return Err(ConfigError::invalid(
                "JWKS_URL",
                format!("`{}` is not an http(s) URL", settings.jwks_url),
            ));
        }
        common::service::refuse_placeholder_secrets(
            base.app_env,
            &[("DATABASE_URL", base.database_url.as_ref())],
        )?;
        Ok(Config {
            base,
            jwks_url: settings.jwks_url,
            jwt_issuer: settings.jwt_issuer,
            jwt_audience: settings.jwt_audience,
            jwks_refresh_default: settings.jwks_refresh_default,
            jwks_refresh_min_interval: settings.jwks_refresh_min_interval,
            seed_demo_catalogue: settings.seed_demo_catalogue,
            list_cache_entries: settings.list_cache_entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_values() {
        let config = Config::load(&Sources::only(Vec::<(String, String)>::new())).expect("valid");
        assert_eq!(
            config.jwks_url,
            "http://127.0.0.1:8001/.well-known/jwks.json"
        );
        assert_eq!(config.jwt_issuer, "shop-users");
        assert_eq!(config.jwt_audience, "shop");
        assert!(!config.seed_demo_catalogue);
        assert_eq!(config.list_cache_entries, 1000);
        assert_eq!(config.jwks_refresh_default, Duration::from_secs(300));
        assert_eq!(config.jwks_refresh_min_interval, Duration::from_secs(10));
        assert_eq!(config.base.listen_addr.port(), 8000);
    }

    #[test]
    fn an_invalid_boolean_names_the_variable() {
        let err = Config::load(&Sources::only([("SEED_DEMO_CATALOGUE", "perhaps")]))
            .expect_err("invalid");
        assert!(
            err.to_string()
                .starts_with("invalid configuration: SEED_DEMO_CATALOGUE:"),
            "{err}"
        );
    }

    #[test]
    fn the_list_cache_size_is_a_whole_number_and_may_be_zero() {
        let off = Config::load(&Sources::only([("LIST_CACHE_ENTRIES", "0")])).expect("zero");
        assert_eq!(off.list_cache_entries, 0);
        let big = Config::load(&Sources::only([("LIST_CACHE_ENTRIES", "50000")])).expect("size");
        assert_eq!(big.list_cache_entries, 50_000);
        for bad in ["-1", "lots", "1.5"] {
            let err = Config::load(&Sources::only([("LIST_CACHE_ENTRIES", bad)]))
                .expect_err(bad)
                .to_string();
            assert!(
                err.starts_with("invalid configuration: LIST_CACHE_ENTRIES:"),
                "{err}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let config = Config::load(&Sources::only([(
            "DATABASE_URL",
            "postgres://products:s3cret@db/products",
        )]))
        .expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("jwks_url"), "{printed}");
    }

    #[test]
    fn a_jwks_url_must_be_http() {
        let err = Config::load(&Sources::only([("JWKS_URL", "ftp://x")])).expect_err("invalid");
        assert!(err.to_string().contains("JWKS_URL"), "{err}");
    }
}
