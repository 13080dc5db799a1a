//! Upstreams: the named services requests are forwarded to, in the spirit
//! of `pingora-load-balancing` (narrow parts, apart from forwarding):
//!
//! - [`resolve`]: endpoint URLs -> addresses, again every `resolve_interval`;
//! - [`select`]: which endpoint takes the next request (power of two
//!   choices or weighted round robin, healthy endpoints only);
//! - [`health`]: each address's health and load, and passive outlier
//!   detection; [`checker`]: active HTTP health checks;
//! - [`pool`]: the per-worker keep-alive connection pool, swept on a timer
//!   and whenever the endpoints change;
//! - [`share`]: a fair share of an endpoint's connections per client;
//! - [`retry`] and [`split`]: a route's retry budget and its split over
//!   several upstreams;
//! - [`body`] and [`failure`]: what goes out (the request body, cut off at
//!   the limit) and how an exchange fails;
//! - [`stall`]: an upstream connection whose response a client stopped
//!   taking is given up after `timeouts.client_send`;
//! - [`wire`]: the HTTP/1.1 exchange driven in the request's own task
//!   (requests without a body), hyper's client for the others.
//!
//! [`UpstreamPool`] puts them together for one upstream.

mod body;
mod checker;
mod driver;
mod endpoint;
mod failure;
mod health;
mod outlier;
mod pool;
mod resolve;
mod retry;
mod select;
mod share;
mod split;
mod stall;
mod wire;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::config::UpstreamConfig;
use crate::metrics::EndpointGauge;

pub(crate) use body::{BodyFault, BodyFaultCell, RequestBody};
pub(crate) use endpoint::Endpoint;
pub(crate) use failure::UpstreamFailure;
pub(crate) use outlier::Observed;
pub(crate) use pool::{Acquired, Connection, Outstanding};
pub(crate) use retry::{RetryPolicy, RetryReason, is_idempotent};
pub(crate) use select::Picked;
pub(crate) use share::Share;
pub(crate) use split::Split;
pub(crate) use wire::response as wire_response;
pub(crate) use wire::{Wire, WireBody};

use outlier::OutlierDetector;
use pool::ConnectionPool;
use select::{Balancer, EndpointSet};
use share::Shares;

/// One upstream: its resolved endpoints, their health, the choice among
/// them, and the connection pool to them.
#[derive(Debug)]
pub(crate) struct UpstreamPool {
    /// The configuration this pool was built from.
    pub(crate) config: UpstreamConfig,
    endpoints: ArcSwap<EndpointSet>,
    balancer: Balancer,
    outlier: OutlierDetector,
    connections: ConnectionPool,
    shares: Shares,
}

/// How one upstream's endpoints fare, for `/readyz` and the health gauge.
#[derive(Debug)]
pub(crate) struct HealthReport {
    /// Each endpoint's address, whether requests may go to it, and its
    /// outstanding requests.
    pub(crate) endpoints: Vec<EndpointGauge>,
}

impl HealthReport {
    /// Endpoints requests may go to.
    pub(crate) fn healthy(&self) -> usize {
        self.endpoints.iter().filter(|e| e.healthy).count()
    }
}

impl UpstreamPool {
    /// A pool with the endpoints known without a lookup (IP literals, and
    /// the addresses `previous` had for host names, with their health);
    /// host names resolve with [`resolve`](Self::resolve) and in the
    /// background once [`spawn_tasks`](Self::spawn_tasks) runs.
    pub(crate) fn new(
        config: UpstreamConfig,
        workers: usize,
        previous: Option<&UpstreamPool>,
    ) -> Arc<Self> {
        let known = previous.map(UpstreamPool::endpoints).unwrap_or_default();
        Arc::new(UpstreamPool {
            endpoints: ArcSwap::from_pointee(EndpointSet::new(resolve::initial_endpoints(
                &config, &known,
            ))),
            balancer: Balancer::new(config.balance),
            outlier: OutlierDetector::new(&config.outlier),
            connections: ConnectionPool::new(&config, workers),
            shares: Shares::new(config.max_connections_per_client.unwrap_or(0), workers),
            config,
        })
    }

    /// The upstream's name.
    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }

    /// The current endpoints.
    fn endpoints(&self) -> Vec<Arc<Endpoint>> {
        self.endpoints.load().list.clone()
    }

    /// The endpoint for the next request, among the healthy ones that are
    /// not in `tried`.
    pub(crate) fn pick(&self, tried: &[SocketAddr]) -> Picked {
        self.balancer
            .pick(&self.endpoints.load(), tried, health::now_ms())
    }

    /// Count a request on its way to `ep` (when the balancer compares
    /// outstanding requests); the count drops with the returned guard.
    pub(crate) fn outstanding(&self, ep: &Arc<Endpoint>) -> Option<Outstanding> {
        self.balancer
            .counts_outstanding()
            .then(|| Outstanding::new(Arc::clone(&ep.state)))
    }

    /// Record what an exchange with `ep` showed (passive outlier detection).
    pub(crate) fn observe(&self, ep: &Endpoint, seen: Observed) {
        if self.outlier.record(ep, seen) && self.outlier.eject(ep, &self.endpoints.load().list) {
            metrics::counter!(crate::metrics::EJECTIONS, "upstream" => self.name().to_string())
                .increment(1);
            tracing::warn!(upstream = self.name(), endpoint = %ep.addr, "endpoint ejected by outlier detection");
        }
    }

    /// Which endpoints requests may go to now.
    pub(crate) fn health(&self) -> HealthReport {
        let now = health::now_ms();
        HealthReport {
            endpoints: self
                .endpoints
                .load()
                .list
                .iter()
                .map(|ep| EndpointGauge {
                    addr: ep.addr,
                    healthy: ep.state.is_healthy(now),
                    outstanding: ep.state.outstanding.load(Ordering::Relaxed),
                })
                .collect(),
        }
    }

    /// A connection to `addr` from worker `worker`'s pool for one exchange,
    /// and whether it was reused: an idle one if still open and fresh, else
    /// a parked one, else a new one while under the limit, else the next
    /// one handed back. An `upgrade` request gets a new connection that
    /// can be upgraded.
    pub(crate) async fn acquire(
        &self,
        worker: usize,
        addr: SocketAddr,
        upgrade: bool,
    ) -> Result<(Connection, bool), UpstreamFailure> {
        self.connections.acquire(worker, addr, upgrade).await
    }

    /// A connection to `addr` from worker `worker`'s pool for a request the
    /// direct exchange can carry (no body, no upgrade), and whether it was
    /// reused: an idle wire, else an idle hyper connection, else as
    /// [`Self::acquire`] but a new or parked socket becomes a wire.
    pub(crate) async fn acquire_wire(
        &self,
        worker: usize,
        addr: SocketAddr,
    ) -> Result<(Acquired, bool), UpstreamFailure> {
        self.connections.acquire_wire(worker, addr).await
    }

    /// Replace a wire that failed under a request by a new one to `addr`,
    /// keeping its place under the limit.
    pub(crate) async fn reconnect_wire(
        &self,
        addr: SocketAddr,
        conn: Connection<Wire>,
    ) -> Result<Connection<Wire>, UpstreamFailure> {
        self.connections.reconnect_wire(addr, conn).await
    }

    /// Hand a wire back after its response body ended cleanly.
    pub(crate) fn checkin_wire(&self, conn: Connection<Wire>) {
        self.connections.checkin_wire(conn);
    }

    /// Whether the upstream shares its connections per client.
    pub(crate) fn shares_clients(&self) -> bool {
        self.config.max_connections_per_client.is_some()
    }

    /// A place in `client`'s share of `addr`'s connections on `worker`
    /// (`max_connections_per_client`), waiting while the client holds its
    /// whole share; `None` when the upstream sets no share.
    pub(crate) async fn share(
        &self,
        worker: usize,
        addr: SocketAddr,
        client: std::net::IpAddr,
    ) -> Option<Share> {
        self.shares.take(worker, addr, client).await
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
        let current = self.endpoints();
        if let Some(next) = resolve::resolve(&self.config, &current).await {
            self.set_endpoints(next);
        }
    }

    /// Use `next` as the endpoints from now on; the connections to an
    /// address that left the set are closed (idle and parked ones at once,
    /// busy ones when their exchange ends).
    fn set_endpoints(&self, next: Vec<Arc<Endpoint>>) {
        self.endpoints.store(Arc::new(EndpointSet::new(next)));
        self.sweep();
    }

    /// The pool's housekeeping (`pool/sweep.rs`): parked sockets unused for
    /// `upstream_idle` closed, slots of addresses no longer in the set
    /// dropped.
    fn sweep(&self) -> usize {
        let current: Vec<SocketAddr> = self.endpoints.load().list.iter().map(|e| e.addr).collect();
        self.connections.sweep(&current)
    }

    /// Start the background work while the pool is alive: re-resolving host
    /// names every `resolve_interval`, active health checks, the watch over
    /// the direct exchange's connections (`pool.rs`), and the
    /// connection pool's sweep (every quarter of `upstream_idle`, between
    /// 100 ms and 15 s, so a parked socket is closed at most that much
    /// after `upstream_idle`).
    pub(crate) fn spawn_tasks(self: &Arc<Self>) {
        checker::spawn(self);
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(pool::WATCH_TICK).await;
                match weak.upgrade() {
                    Some(pool) => pool.connections.watch(),
                    None => return,
                }
            }
        });
        let weak: Weak<Self> = Arc::downgrade(self);
        let every = (self.config.idle_timeout / 4)
            .clamp(Duration::from_millis(100), Duration::from_secs(15));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match weak.upgrade() {
                    Some(pool) => pool.sweep(),
                    None => return,
                };
            }
        });
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
