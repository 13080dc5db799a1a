//! What the request path reads: the active configuration (swapped as a
//! whole on reload) and the state that outlives reloads.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use arc_swap::ArcSwap;

use crate::config::{Config, Overrides};
use crate::routing::servers::VirtualServers;
use crate::tls::TlsState;
use crate::trace_export::GatewayTracer;
use crate::upstreams::{UpstreamFailure, UpstreamPool};

/// One configuration, ready to serve. In-flight requests keep the one they
/// started with until they finish.
#[derive(Debug)]
pub(crate) struct Active {
    /// The validated configuration.
    pub(crate) config: Arc<Config>,
    /// The virtual servers and their route tables built from it.
    pub(crate) servers: VirtualServers,
    /// Upstream pools by name.
    pub(crate) upstreams: HashMap<String, Arc<UpstreamPool>>,
}

impl Active {
    /// Build the serving state for `config`, reusing the pools (and their
    /// open connections) of `previous` whose upstream did not change.
    pub(crate) fn build(config: Config, previous: Option<&Active>) -> Active {
        let mut upstreams = HashMap::new();
        for (name, upstream) in &config.upstreams {
            let before = previous.and_then(|p| p.upstreams.get(name));
            let reused = before
                .filter(|pool| pool.config == *upstream)
                .filter(|_| previous.is_some_and(|p| p.config.workers == config.workers))
                .cloned();
            let pool = reused.unwrap_or_else(|| {
                // Endpoints that stay keep their health.
                let pool =
                    UpstreamPool::new(upstream.clone(), config.workers, before.map(|p| &**p));
                pool.spawn_tasks();
                pool
            });
            crate::metrics::upstream_errors_known(
                name,
                UpstreamFailure::COUNTED.map(UpstreamFailure::kind),
            );
            upstreams.insert(name.clone(), pool);
        }
        Active {
            servers: VirtualServers::new(&config, previous.map(|p| &p.servers)),
            config: Arc::new(config),
            upstreams,
        }
    }
}

/// State shared by every connection of one gateway.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The active configuration.
    pub(crate) active: ArcSwap<Active>,
    /// The route table file.
    pub(crate) config_path: PathBuf,
    /// Overrides re-applied on every reload.
    pub(crate) overrides: Overrides,
    /// Set once shutdown starts (`/readyz` answers 503).
    pub(crate) draining: AtomicBool,
    /// Certificates and ACME answers, when the HTTPS listener is on.
    pub(crate) tls: Option<Arc<TlsState>>,
    /// Span export, when configured.
    pub(crate) tracer: Option<Arc<GatewayTracer>>,
}
