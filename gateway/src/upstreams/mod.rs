//! Upstreams: the named services requests are forwarded to, in the spirit
//! of `pingora-load-balancing` (narrow parts, apart from forwarding):
//!
//! - [`resolve`]: endpoint URLs -> addresses, again every `resolve_interval`;
//! - [`select`]: which endpoint takes the next request (round robin);
//! - [`health`]: passive health (an endpoint that failed to connect is
//!   skipped for `failure_cooldown`);
//! - [`pool`]: the per-worker keep-alive connection pool;
//! - [`body`] and [`failure`]: what goes out (the request body, cut off at
//!   the limit) and how an exchange fails;
//! - [`stall`]: an upstream connection whose response a client stopped
//!   taking is given up after `timeouts.client_send`.
//!
//! [`UpstreamPool`] puts them together for one upstream. Active health
//! checks or another balancing strategy would be a new part beside these.

mod body;
mod endpoint;
mod failure;
mod health;
mod pool;
mod resolve;
mod select;
mod stall;

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::config::UpstreamConfig;

pub(crate) use body::{BodyFault, BodyFaultCell, RequestBody};
pub(crate) use endpoint::Endpoint;
pub(crate) use failure::UpstreamFailure;
pub(crate) use pool::Connection;

use health::Cooldown;
use pool::ConnectionPool;
use select::RoundRobin;

/// One upstream: its resolved endpoints, their health, the choice among
/// them, and the connection pool to them.
#[derive(Debug)]
pub(crate) struct UpstreamPool {
    /// The configuration this pool was built from.
    pub(crate) config: UpstreamConfig,
    endpoints: ArcSwap<Vec<Arc<Endpoint>>>,
    selection: RoundRobin,
    cooldown: Cooldown,
    connections: ConnectionPool,
}

impl UpstreamPool {
    /// A pool with the endpoints known without a lookup (IP literals);
    /// host names resolve with [`resolve`](Self::resolve) and in the
    /// background once [`spawn_resolver`](Self::spawn_resolver) runs.
    pub(crate) fn new(config: UpstreamConfig, workers: usize) -> Arc<Self> {
        Arc::new(UpstreamPool {
            endpoints: ArcSwap::from_pointee(resolve::literal_endpoints(&config)),
            selection: RoundRobin::default(),
            cooldown: Cooldown::new(config.failure_cooldown),
            connections: ConnectionPool::new(&config, workers),
            config,
        })
    }

    /// The upstream's name.
    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }

    /// The endpoint for the next request, avoiding `avoid` (the one a retry
    /// just failed on) while another is available.
    pub(crate) fn pick(&self, avoid: Option<&Endpoint>) -> Option<Arc<Endpoint>> {
        let endpoints = self.endpoints.load();
        let now = self.cooldown.now_ms();
        self.selection.pick(&endpoints, avoid, |ep| {
            self.cooldown.is_healthy(&ep.health, now)
        })
    }

    /// Skip `ep` for the failure cooldown.
    pub(crate) fn mark_failed(&self, ep: &Endpoint) {
        self.cooldown.mark_failed(&ep.health);
    }

    /// A successful exchange clears `ep`'s failure mark.
    pub(crate) fn mark_ok(&self, ep: &Endpoint) {
        ep.health.mark_ok();
    }

    /// A connection to `addr` from worker `worker`'s pool for one exchange,
    /// and whether it was reused: an idle one if still open and fresh, else
    /// a new one while under the limit, else the next one handed back.
    pub(crate) async fn acquire(
        &self,
        worker: usize,
        addr: SocketAddr,
    ) -> Result<(Connection, bool), UpstreamFailure> {
        self.connections.acquire(worker, addr).await
    }

    /// Replace a connection found closed by a new one to `addr`, keeping
    /// its place under the limit.
    pub(crate) async fn reconnect(
        &self,
        addr: SocketAddr,
        conn: Connection,
    ) -> Result<Connection, UpstreamFailure> {
        self.connections.reconnect(addr, conn).await
    }

    /// Hand a connection back after its response body ended.
    pub(crate) fn checkin(&self, conn: Connection) {
        self.connections.checkin(conn);
    }

    /// Resolve every endpoint URL now; a name that fails to resolve keeps
    /// its previous addresses.
    pub(crate) async fn resolve(&self) {
        let current = self.endpoints.load_full();
        if let Some(next) = resolve::resolve(&self.config, &current).await {
            self.endpoints.store(Arc::new(next));
        }
    }

    /// Re-resolve host names every `resolve_interval` while the pool is alive.
    pub(crate) fn spawn_resolver(self: &Arc<Self>) {
        if !resolve::has_names(&self.config) {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        let interval = self.config.resolve_interval.max(Duration::from_millis(100));
        tokio::spawn(async move {
            loop {
                match weak.upgrade() {
                    Some(pool) => pool.resolve().await,
                    None => return,
                }
                tokio::time::sleep(interval).await;
            }
        });
    }
}
