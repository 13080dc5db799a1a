//! Building and running the service.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use common::auth::{TokenVerifier, VerifierSettings};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::keys::{TokenIssuer, load_key_ring};
use crate::migration::Migrator;
use crate::passwords::{HashParams, PasswordHashing};
use crate::state::AppState;
use crate::throttle::{LoginThrottle, ThrottleSettings};

/// The service, bound to its listen address and ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    config: Config,
}

impl Application {
    /// Connect and migrate the database, load or create the signing keys,
    /// ensure the configured admin and bind `LISTEN_ADDR` (port 0 picks a
    /// free port; see [`Self::local_addr`]).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let keys = load_key_ring(&config)?;
        let hashing = password_hashing(&config)?;
        let db = common::db::connect_and_migrate::<Migrator>(&config.base.db("users"))
            .await
            .context("users database")?;
        crate::admin_bootstrap::ensure_configured_admin(&db, &config, &hashing).await?;

        let verifier = TokenVerifier::local(
            &keys.jwks(),
            VerifierSettings::new(&config.jwt_issuer, &config.jwt_audience),
        );
        let issuer = TokenIssuer::new(
            &keys.signing,
            &config.jwt_issuer,
            &config.jwt_audience,
            config.access_token_ttl,
        );
        let state = AppState {
            db: db.clone(),
            verifier: Arc::new(verifier),
            issuer: Arc::new(issuer),
            keys: Arc::new(keys),
            hashing,
            throttle: Arc::new(LoginThrottle::new(ThrottleSettings {
                max_failures_per_email: config.login_max_failures_per_email,
                lockout: config.login_lockout,
                max_failures_per_ip_per_minute: config.login_max_failures_per_ip_per_minute,
            })),
            refresh_ttl: config.refresh_token_ttl,
        };
        let router = crate::routes::router(state).merge(common::health::router(db));
        let router = common::service::apply_layers(router, &config.base);
        let listener = TcpListener::bind(config.base.listen_addr)
            .await
            .with_context(|| {
                format!("LISTEN_ADDR: cannot listen on {}", config.base.listen_addr)
            })?;
        Ok(Application {
            listener,
            router,
            config,
        })
    }

    /// The address the service listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.config.base.listen_addr)
    }

    /// Serve until `shutdown` resolves, then let in-flight requests finish
    /// for at most `SHUTDOWN_GRACE`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "users service listening");
        common::service::serve(
            self.listener,
            self.router,
            shutdown,
            self.config.base.shutdown_grace,
        )
        .await
    }
}

/// The Argon2id hasher the settings describe.
pub(crate) fn password_hashing(config: &Config) -> anyhow::Result<PasswordHashing> {
    let concurrency = config.password_hash_concurrency.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
    });
    PasswordHashing::new(
        HashParams {
            memory_kib: config.password_hash_memory_kib,
            iterations: config.password_hash_iterations,
            parallelism: config.password_hash_parallelism,
        },
        concurrency,
    )
    .context("invalid configuration: PASSWORD_HASH_MEMORY_KIB / PASSWORD_HASH_ITERATIONS / PASSWORD_HASH_PARALLELISM")
}
