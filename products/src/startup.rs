//! Building and running the service: connect, migrate, optionally seed,
//! bind, assemble the router.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use common::auth::{TokenVerifier, VerifierSettings};
use common::metrics::http::{self, HttpMetrics};
use common::metrics::listener::MetricsListener;
use common::service::{BaseConfig, apply_layers, serve_with_metrics};
use tokio::net::TcpListener;

use crate::catalogue::index::{SearchIndex, feed};
use crate::config::Config;
use crate::custom_plans::ask_for_custom_plans;
use crate::metrics::ProductsMetrics;
use crate::migration::Migrator;
use crate::page_cache::PageCache;
use crate::state::AppState;

/// A built service: migrated database, bound listener, assembled router.
pub struct Application {
    listener: TcpListener,
    router: Router,
    metrics: MetricsListener,
    base: BaseConfig,
    /// Keeps the search index fresh; stopped when the service stops.
    refresher: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("local_addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connect to the database and migrate it, load the demo catalogue when
    /// `SEED_DEMO_CATALOGUE` is set and the catalogue is empty, build the
    /// search index from the catalogue (and start keeping it fresh), and bind
    /// `LISTEN_ADDR` and `METRICS_LISTEN_ADDR` (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let registry = http::service_registry();
        let settings = ask_for_custom_plans(config.base.db("products"));
        let mut db = common::db::connect_and_migrate::<Migrator>(&settings).await?;
        // The index's feed polls in the background on the same pool; its
        // statements stay out of the statement metrics, which describe
        // the requests' (the pool gauges still count its connections).
        let feed_db = db.clone();
        common::db::metrics::instrument(&mut db, &registry);
        if config.seed_demo_catalogue {
            let added = crate::demo::seed_if_empty(&db).await?;
            if added > 0 {
                tracing::info!(added, "demo catalogue loaded");
            }
        }
        let verifier = TokenVerifier::remote(
            config.jwks_url.clone(),
            VerifierSettings {
                min_refresh_interval: config.jwks_refresh_min_interval,
                default_max_age: config.jwks_refresh_default,
                ..VerifierSettings::new(config.jwt_issuer.clone(), config.jwt_audience.clone())
            },
        );
        let search_index = Arc::new(SearchIndex::empty()?);
        feed::rebuild(&feed_db, &search_index).await?;
        let refresher = feed::spawn_refresher(feed_db, search_index.clone());
        let state = AppState {
            db,
            search_index,
            verifier: Arc::new(verifier),
            page_cache: Arc::new(PageCache::new(config.list_cache_entries)),
            metrics: ProductsMetrics::new(&registry),
        };
        let listener = TcpListener::bind(config.base.listen_addr)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "LISTEN_ADDR: cannot listen on {}: {e}",
                    config.base.listen_addr
                )
            })?;
        let router = apply_layers(crate::routes::router(state), &config.base);
        let router = http::track(router, HttpMetrics::new(&registry));
        let metrics = MetricsListener::bind(config.base.metrics_listen_addr, registry)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "METRICS_LISTEN_ADDR: cannot listen on {}: {e}",
                    config.base.metrics_listen_addr
                )
            })?;
        Ok(Application {
            listener,
            router,
            metrics,
            base: config.base,
            refresher,
        })
    }

    /// The address the service listens on (the real port when bound to 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.base.listen_addr)
    }

    /// The address of the metrics listener (`GET /metrics`).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics
            .local_addr()
            .unwrap_or(self.base.metrics_listen_addr)
    }

    /// Serve until `shutdown` resolves, drain for `SHUTDOWN_DRAIN_DELAY`
    /// (not ready, `Connection: close`), then let in-flight requests finish
    /// for at most `SHUTDOWN_GRACE`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), metrics = %self.metrics_addr(), "products service listening");
        let served = serve_with_metrics(
            self.listener,
            self.router,
            self.metrics,
            shutdown,
            self.base.stop_times(),
        )
        .await;
        self.refresher.abort();
        served
    }
}
