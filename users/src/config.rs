//! The users service's settings, loaded the common way (defaults, optional
//! TOML file named by `USERS_CONFIG`, environment, `.env`).
//!
//! Every field is documented with its environment variable; the full
//! reference with examples is `docs/USERS.md`.

use std::path::PathBuf;
use std::time::Duration;

use common::config::{Secret, Sources, duration};
use common::service::BaseConfig;
use serde::Deserialize;

use crate::client_ip::TrustedProxies;

/// Everything the users service can be configured with.
///
/// Not `deny_unknown_fields`: the whole process environment is merged in.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Listen address, database, logging, timeouts (shared by every service).
    #[serde(flatten)]
    pub base: BaseConfig,

    /// `JWT_ISSUER`: the `iss` claim of access tokens (default `shop-users`).
    #[serde(default = "default_issuer")]
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`: the `aud` claim of access tokens (default `shop`).
    #[serde(default = "default_audience")]
    pub jwt_audience: String,
    /// `ACCESS_TOKEN_TTL`: lifetime of an access token (default `15m`).
    #[serde(default = "default_access_ttl", deserialize_with = "duration")]
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL`: lifetime of a refresh token (default `720h`, 30 days).
    #[serde(default = "default_refresh_ttl", deserialize_with = "duration")]
    pub refresh_token_ttl: Duration,
    /// `REFRESH_FAMILY_LIFETIME`: how long the refresh tokens of one login
    /// keep renewing in all, however often they rotate (default `720h`,
    /// 30 days); then the user signs in again.
    #[serde(default = "default_family_lifetime", deserialize_with = "duration")]
    pub refresh_family_lifetime: Duration,
    /// `REFRESH_TOKEN_PURGE_INTERVAL`: how often refresh tokens of sessions
    /// that can no longer be used (expired, logged out, revoked) are
    /// deleted (default `1h`).
    #[serde(default = "default_purge_interval", deserialize_with = "duration")]
    pub refresh_token_purge_interval: Duration,
    /// `JWT_SIGNING_KEY`: the Ed25519 private key (PKCS#8 PEM) that signs
    /// access tokens. Exclusive with `JWT_SIGNING_KEY_FILE`.
    #[serde(default)]
    pub jwt_signing_key: Option<Secret>,
    /// `JWT_SIGNING_KEY_FILE`: path of a file holding that PEM.
    #[serde(default)]
    pub jwt_signing_key_file: Option<PathBuf>,
    /// `JWT_PUBLISHED_KEYS`: extra keys published in the JWKS so tokens they
    /// signed still verify during a rotation: PEM blocks, each an Ed25519
    /// `PUBLIC KEY` or a retired `PRIVATE KEY` (only its public half is used).
    #[serde(default)]
    pub jwt_published_keys: Option<Secret>,
    /// `JWT_PUBLISHED_KEYS_FILE`: path of a file holding such PEM blocks.
    #[serde(default)]
    pub jwt_published_keys_file: Option<PathBuf>,

    /// `ADMIN_EMAIL`: an admin account ensured at start-up (with `ADMIN_PASSWORD`).
    #[serde(default)]
    pub admin_email: Option<String>,
    /// `ADMIN_PASSWORD`: its password, used only when the account is created.
    #[serde(default)]
    pub admin_password: Option<Secret>,

    /// `LOGIN_MAX_FAILURES_PER_EMAIL`: failed logins in a row for one email
    /// before it is locked for `LOGIN_LOCKOUT` (default 5).
    #[serde(default = "default_failures_per_email")]
    pub login_max_failures_per_email: u32,
    /// `LOGIN_LOCKOUT`: how long an email stays locked (default `5m`).
    #[serde(default = "default_lockout", deserialize_with = "duration")]
    pub login_lockout: Duration,
    /// `LOGIN_MAX_FAILURES_PER_IP_PER_MINUTE`: failed logins one client
    /// address may make in a minute (default 20).
    #[serde(default = "default_failures_per_ip")]
    pub login_max_failures_per_ip_per_minute: u32,
    /// `REGISTER_MAX_PER_IP_PER_HOUR`: registrations one client address
    /// may make in a fixed one-hour window (default 10).
    #[serde(default = "default_registrations_per_ip")]
    pub register_max_per_ip_per_hour: u32,
    /// `TRUSTED_PROXIES`: comma-separated CIDR networks (or addresses) whose
    /// `X-Real-IP`/`X-Forwarded-For` are believed: the gateway's addresses
    /// (default `127.0.0.0/8,::1`, the local run). Other peers are the client.
    #[serde(default)]
    pub trusted_proxies: TrustedProxies,

    /// `PASSWORD_HASH_MEMORY_KIB`: Argon2id memory cost in KiB (default
    /// 19456, OWASP's minimum).
    #[serde(default = "default_hash_memory")]
    pub password_hash_memory_kib: u32,
    /// `PASSWORD_HASH_ITERATIONS`: Argon2id time cost (default 2).
    #[serde(default = "default_hash_iterations")]
    pub password_hash_iterations: u32,
    /// `PASSWORD_HASH_PARALLELISM`: Argon2id lanes (default 1).
    #[serde(default = "default_hash_parallelism")]
    pub password_hash_parallelism: u32,
    /// `PASSWORD_HASH_CONCURRENCY`: hashes computed at once; the rest wait,
    /// which bounds memory (default: the number of CPUs).
    #[serde(default)]
    pub password_hash_concurrency: Option<usize>,
}

fn default_issuer() -> String {
    "shop-users".to_string()
}
fn default_audience() -> String {
    "shop".to_string()
}
fn default_access_ttl() -> Duration {
    Duration::from_secs(15 * 60)
}
fn default_refresh_ttl() -> Duration {
    Duration::from_secs(30 * 24 * 3600)
}
fn default_family_lifetime() -> Duration {
    Duration::from_secs(30 * 24 * 3600)
}
fn default_purge_interval() -> Duration {
    Duration::from_secs(3600)
}
fn default_failures_per_email() -> u32 {
    5
}
fn default_lockout() -> Duration {
    Duration::from_secs(5 * 60)
}
fn default_failures_per_ip() -> u32 {
    20
}
fn default_registrations_per_ip() -> u32 {
    10
}
fn default_hash_memory() -> u32 {
    19 * 1024
}
fn default_hash_iterations() -> u32 {
    2
}
fn default_hash_parallelism() -> u32 {
    1
}

impl Config {
    /// Load from `sources`; an invalid setting is an error naming its variable.
    pub fn load(sources: &Sources) -> Result<Config, common::ConfigError> {
        let config: Config = common::config::load(sources)?;
        config.check()?;
        common::service::refuse_placeholder_secrets(
            config.base.app_env,
            &[
                ("DATABASE_URL", config.base.database_url.as_ref()),
                ("JWT_SIGNING_KEY", config.jwt_signing_key.as_ref()),
                ("JWT_PUBLISHED_KEYS", config.jwt_published_keys.as_ref()),
                ("ADMIN_PASSWORD", config.admin_password.as_ref()),
            ],
        )?;
        Ok(config)
    }

    /// Settings whose values serde accepts but the service cannot use.
    fn check(&self) -> Result<(), common::ConfigError> {
        use common::ConfigError as E;
        if self.jwt_signing_key.is_some() && self.jwt_signing_key_file.is_some() {
            return Err(E::invalid(
                "JWT_SIGNING_KEY",
                "set either JWT_SIGNING_KEY or JWT_SIGNING_KEY_FILE, not both",
            ));
        }
        if self.jwt_issuer.trim().is_empty() {
            return Err(E::invalid("JWT_ISSUER", "must not be empty"));
        }
        if self.jwt_audience.trim().is_empty() {
            return Err(E::invalid("JWT_AUDIENCE", "must not be empty"));
        }
        if self.access_token_ttl < Duration::from_secs(1) {
            return Err(E::invalid("ACCESS_TOKEN_TTL", "must be at least 1s"));
        }
        if self.refresh_token_ttl < Duration::from_secs(1) {
            return Err(E::invalid("REFRESH_TOKEN_TTL", "must be at least 1s"));
        }
        if self.refresh_family_lifetime < Duration::from_secs(1) {
            return Err(E::invalid("REFRESH_FAMILY_LIFETIME", "must be at least 1s"));
        }
        if self.refresh_token_purge_interval < Duration::from_secs(1) {
            return Err(E::invalid(
                "REFRESH_TOKEN_PURGE_INTERVAL",
                "must be at least 1s",
            ));
        }
        if self.login_max_failures_per_email == 0 {
            return Err(E::invalid(
                "LOGIN_MAX_FAILURES_PER_EMAIL",
                "must be at least 1",
            ));
        }
        if self.login_max_failures_per_ip_per_minute == 0 {
            return Err(E::invalid(
                "LOGIN_MAX_FAILURES_PER_IP_PER_MINUTE",
                "must be at least 1",
            ));
        }
        if self.register_max_per_ip_per_hour == 0 {
            return Err(E::invalid(
                "REGISTER_MAX_PER_IP_PER_HOUR",
                "must be at least 1",
            ));
        }
        if self.password_hash_concurrency == Some(0) {
            return Err(E::invalid(
                "PASSWORD_HASH_CONCURRENCY",
                "must be at least 1",
            ));
        }
        if self.admin_password.is_some() && self.admin_email.is_none() {
            return Err(E::invalid(
                "ADMIN_EMAIL",
                "is required when ADMIN_PASSWORD is set",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, common::ConfigError> {
        Config::load(&Sources::only(pairs.iter().copied()))
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = load(&[]).expect("defaults are valid");
        assert_eq!(c.jwt_issuer, "shop-users");
        assert_eq!(c.jwt_audience, "shop");
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(
            c.refresh_family_lifetime,
            Duration::from_secs(30 * 24 * 3600)
        );
        assert_eq!(c.refresh_token_purge_interval, Duration::from_secs(3600));
        assert_eq!(c.login_max_failures_per_email, 5);
        assert_eq!(c.login_max_failures_per_ip_per_minute, 20);
        assert_eq!(c.password_hash_memory_kib, 19456);
        assert_eq!(c.password_hash_iterations, 2);
        assert_eq!(c.password_hash_parallelism, 1);
        assert_eq!(c.base.listen_addr.port(), 8000);
    }

    #[test]
    fn settings_are_read_by_their_variable_names() {
        let c = load(&[
            ("ACCESS_TOKEN_TTL", "5m"),
            ("LOGIN_MAX_FAILURES_PER_EMAIL", "3"),
            ("JWT_ISSUER", "me"),
        ])
        .expect("valid");
        assert_eq!(c.access_token_ttl, Duration::from_secs(300));
        assert_eq!(c.login_max_failures_per_email, 3);
        assert_eq!(c.jwt_issuer, "me");
    }

    #[test]
    fn an_invalid_value_names_its_variable() {
        let err = load(&[("ACCESS_TOKEN_TTL", "soon")]).expect_err("invalid");
        assert!(err.to_string().contains("ACCESS_TOKEN_TTL"), "{err}");
        let err = load(&[("LOGIN_MAX_FAILURES_PER_EMAIL", "0")]).expect_err("invalid");
        assert!(
            err.to_string().contains("LOGIN_MAX_FAILURES_PER_EMAIL"),
            "{err}"
        );
    }

    #[test]
    fn both_key_sources_at_once_are_refused() {
        let err = load(&[("JWT_SIGNING_KEY", "x"), ("JWT_SIGNING_KEY_FILE", "/k.pem")])
            .expect_err("ambiguous");
        assert!(err.to_string().contains("JWT_SIGNING_KEY"), "{err}");
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let c = load(&[
            ("ADMIN_EMAIL", "a@b.co"),
            ("ADMIN_PASSWORD", "hunter2hunter2"),
        ])
        .expect("valid");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
