//! What the request path reads: the active configuration (swapped as a
//! whole on reload) and the state that outlives reloads.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use arc_swap::ArcSwap;

use crate::config::{Config, Overrides};
use crate::routes::RouteTable;
use crate::upstream::UpstreamPool;

/// One configuration, ready to serve. In-flight requests keep the one they
/// started with until they finish.
#[derive(Debug)]
pub struct Active {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The route table built from it.
    pub table: RouteTable,
    /// Upstream pools by name.
    pub upstreams: HashMap<String, Arc<UpstreamPool>>,
}

impl Active {
    /// Build the serving state for `config`, reusing the pools (and their
    /// open connections) of `previous` whose upstream did not change.
    pub fn build(config: Config, previous: Option<&Active>) -> Active {
        let mut upstreams = HashMap::new();
        for (name, upstream) in &config.upstreams {
            let reused = previous
                .filter(|p| p.config.workers == config.workers)
                .and_then(|p| p.upstreams.get(name))
                .filter(|pool| pool.config == *upstream)
                .cloned();
            let pool = reused.unwrap_or_else(|| {
                let pool = UpstreamPool::new(upstream.clone(), config.workers);
                pool.spawn_resolver();
                pool
            });
            upstreams.insert(name.clone(), pool);
        }
        Active {
            table: RouteTable::new(&config),
            config: Arc::new(config),
            upstreams,
        }
    }
}

/// State shared by every connection of one gateway.
#[derive(Debug)]
pub struct Shared {
    /// The active configuration.
    pub active: ArcSwap<Active>,
    /// The route table file.
    pub config_path: PathBuf,
    /// Overrides re-applied on every reload.
    pub overrides: Overrides,
    /// Set once shutdown starts (`/readyz` answers 503).
    pub draining: AtomicBool,
}
