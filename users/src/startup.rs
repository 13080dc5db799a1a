//! Building and running the service.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use common::auth::{TokenVerifier, VerifierSettings};
use common::metrics::http::{self, HttpMetrics};
use common::metrics::listener::MetricsListener;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::keys::{TokenIssuer, load_key_ring};
use crate::metrics::UsersMetrics;
use crate::migration::Migrator;
use crate::passwords::PasswordHashing;
use crate::refresh_tokens::{self, RefreshTtl};
use crate::state::AppState;
use crate::throttle::{Throttle, ThrottleSettings};

/// The service, bound to its listen address and ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    metrics: MetricsListener,
    db: sea_orm::DatabaseConnection,
    config: Config,
}

impl Application {
    /// Connect and migrate the database, load or create the signing keys,
    /// ensure the configured admin and bind `LISTEN_ADDR` and
    /// `METRICS_LISTEN_ADDR` (port 0 picks a free port; see
    /// [`Self::local_addr`], [`Self::metrics_addr`]).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let registry = common::metrics::http::service_registry();
        let metrics = UsersMetrics::new(&registry);
        let keys = load_key_ring(&config)?;
        let hashing = PasswordHashing::from_config(&config)?.with_metrics(metrics.argon2());
        let mut db = common::db::connect_and_migrate::<Migrator>(&config.base.db("users"))
            .await
            .context("users database")?;
        common::db::metrics::instrument(&mut db, &registry);
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
        let throttle = Throttle::new(
            db.clone(),
            ThrottleSettings {
                max_failures_per_email: config.login_max_failures_per_email,
                lockout: config.login_lockout,
                max_failures_per_ip_per_minute: config.login_max_failures_per_ip_per_minute,
                max_registrations_per_ip_per_hour: config.register_max_per_ip_per_hour,
            },
        );
        let state = AppState {
            db: db.clone(),
            verifier: Arc::new(verifier),
            issuer: Arc::new(issuer),
            keys: Arc::new(keys),
            hashing,
            throttle: Arc::new(throttle),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            refresh_ttl: RefreshTtl {
                token: config.refresh_token_ttl,
                family: config.refresh_family_lifetime,
            },
            metrics,
        };
        let router = common::service::apply_layers(crate::routes::router(state), &config.base);
        let router = http::track(router, HttpMetrics::new(&registry));
        let listener = TcpListener::bind(config.base.listen_addr)
            .await
            .with_context(|| {
                format!("LISTEN_ADDR: cannot listen on {}", config.base.listen_addr)
            })?;
        let metrics = MetricsListener::bind(config.base.metrics_listen_addr, registry)
            .await
            .with_context(|| {
                format!(
                    "METRICS_LISTEN_ADDR: cannot listen on {}",
                    config.base.metrics_listen_addr
                )
            })?;
        Ok(Application {
            listener,
            router,
            metrics,
            db,
            config,
        })
    }

    /// The address the service listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.config.base.listen_addr)
    }

    /// The address of the metrics listener (`GET /metrics`).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics
            .local_addr()
            .unwrap_or(self.config.base.metrics_listen_addr)
    }

    /// Serve until `shutdown` resolves, drain for `SHUTDOWN_DRAIN_DELAY`
    /// (not ready, `Connection: close`), then let in-flight requests finish
    /// for at most `SHUTDOWN_GRACE`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), metrics = %self.metrics_addr(), "users service listening");
        let purge = refresh_tokens::spawn_purge(self.db, self.config.refresh_token_purge_interval);
        let served = common::service::serve_with_metrics(
            self.listener,
            self.router,
            self.metrics,
            shutdown,
            self.config.base.stop_times(),
        )
        .await;
        purge.abort();
        served
    }
}
