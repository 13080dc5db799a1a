//! Upstream pools: the resolved endpoints of one named upstream, which one
//! takes the next request (round robin, skipping endpoints that just failed
//! to connect), periodic re-resolution of host names, and the keep-alive
//! connection pool used to reach them (one per worker thread: a connection
//! is taken for one exchange and handed back when the response body ends).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use std::collections::HashMap;
use std::sync::Mutex;

use arc_swap::ArcSwap;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::body::RequestBody;
use crate::config::UpstreamConfig;
use crate::failure::UpstreamFailure;

/// A keep-alive HTTP/1.1 connection to an endpoint.
pub type Connection = SendRequest<RequestBody>;

/// Idle connections of one worker, by endpoint address.
type IdleConnections = HashMap<SocketAddr, Vec<(Connection, Instant)>>;

/// One resolved address of an upstream.
#[derive(Debug)]
pub struct Endpoint {
    /// The address connections go to.
    pub addr: SocketAddr,
    /// `ip:port`, for the request URI (the pool key).
    pub authority: http::uri::Authority,
    /// The configured `host:port` this address was resolved from.
    pub configured_authority: String,
    /// When it last failed to connect (ms since the pool's epoch; 0 = never).
    failed_at_ms: AtomicU64,
}

/// The endpoints of one upstream and the connection pool to them.
#[derive(Debug)]
pub struct UpstreamPool {
    /// The configuration this pool was built from.
    pub config: UpstreamConfig,
    endpoints: ArcSwap<Vec<Arc<Endpoint>>>,
    next: AtomicUsize,
    epoch: Instant,
    /// Idle connections per worker thread, so a request and its upstream
    /// connection live on the same event loop (each lock is uncontended).
    idle: Vec<Mutex<IdleConnections>>,
    /// `Host` for routes that send the upstream's authority (the first
    /// configured endpoint's `host:port`).
    host: Option<http::HeaderValue>,
}

impl UpstreamPool {
    /// A pool with the endpoints that resolve now (host names resolve in the
    /// background when `spawn_resolver` runs).
    pub fn new(config: UpstreamConfig, workers: usize) -> Arc<Self> {
        let idle = (0..workers.max(1)).map(|_| Mutex::default()).collect();
        let literal: Vec<Arc<Endpoint>> = config
            .endpoints
            .iter()
            .filter_map(|e| {
                e.host
                    .parse::<IpAddr>()
                    .ok()
                    .map(|ip| endpoint(SocketAddr::new(ip, e.port), e.authority()))
            })
            .flatten()
            .collect();
        let host = config
            .endpoints
            .first()
            .map(|e| crate::headers::shared_value(e.authority()));
        Arc::new(UpstreamPool {
            host,
            config,
            endpoints: ArcSwap::from_pointee(literal),
            next: AtomicUsize::new(0),
            epoch: Instant::now(),
            idle,
        })
    }

    /// The `Host` header for routes with the upstream host policy.
    pub fn host_header(&self) -> Option<http::HeaderValue> {
        self.host.clone()
    }

    /// The upstream's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    fn idle_slot(&self) -> &Mutex<IdleConnections> {
        &self.idle[crate::server::worker_index() % self.idle.len()]
    }

    /// An idle connection to `addr` of this worker, if one is still open and
    /// not older than the idle timeout.
    pub fn checkout(&self, addr: SocketAddr) -> Option<Connection> {
        let mut idle = self.idle_slot().lock().ok()?;
        let list = idle.get_mut(&addr)?;
        while let Some((conn, since)) = list.pop() {
            if !conn.is_closed() && since.elapsed() < self.config.idle_timeout {
                return Some(conn);
            }
        }
        None
    }

    /// Hand a connection back after its response body ended.
    pub fn checkin(&self, addr: SocketAddr, conn: Connection) {
        if conn.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle_slot().lock() {
            let list = idle.entry(addr).or_default();
            if list.len() < self.config.max_idle_per_endpoint {
                list.push((conn, Instant::now()));
            }
        }
    }

    /// Open a new connection to `addr` (TCP_NODELAY, connect timeout).
    pub async fn connect(&self, addr: SocketAddr) -> Result<Connection, UpstreamFailure> {
        let stream = match tokio::time::timeout(
            self.config.connect_timeout,
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Err(_) => return Err(UpstreamFailure::ConnectTimeout),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(UpstreamFailure::ConnectTimeout);
            }
            Ok(Err(_)) => return Err(UpstreamFailure::Connect),
            Ok(Ok(stream)) => stream,
        };
        let _ = stream.set_nodelay(true);
        let (conn, driver) = hyper::client::conn::http1::Builder::new()
            // hyper's default read buffer may grow to ~400 KiB per connection
            // while streaming large bodies; 64 KiB costs no throughput.
            .max_buf_size(64 * 1024)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|_| UpstreamFailure::Protocol)?;
        let name = self.config.name.clone();
        tokio::spawn(async move {
            if let Err(e) = driver.await {
                tracing::debug!(upstream = %name, error = %e, "upstream connection ended with an error");
            }
        });
        Ok(conn)
    }

    /// The current endpoints.
    pub fn endpoints(&self) -> Arc<Vec<Arc<Endpoint>>> {
        self.endpoints.load_full()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// The endpoint for the next request: round robin over the endpoints
    /// that have not failed within the cooldown; when all have, round robin
    /// over all (an upstream coming back must be found again).
    pub fn pick(&self, avoid: Option<&Endpoint>) -> Option<Arc<Endpoint>> {
        let endpoints = self.endpoints.load();
        let n = endpoints.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        let cooldown = u64::try_from(self.config.failure_cooldown.as_millis()).unwrap_or(u64::MAX);
        for i in 0..n {
            let ep = &endpoints[(start + i) % n];
            let failed = ep.failed_at_ms.load(Ordering::Relaxed);
            let healthy = failed == 0 || now.saturating_sub(failed) >= cooldown;
            let avoided = avoid.is_some_and(|a| a.addr == ep.addr) && n > 1;
            if healthy && !avoided {
                return Some(Arc::clone(ep));
            }
        }
        Some(Arc::clone(&endpoints[start % n]))
    }

    /// Skip `ep` for the failure cooldown (passive health check).
    pub fn mark_failed(&self, ep: &Endpoint) {
        ep.failed_at_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A successful exchange clears the failure mark.
    pub fn mark_ok(&self, ep: &Endpoint) {
        if ep.failed_at_ms.load(Ordering::Relaxed) != 0 {
            ep.failed_at_ms.store(0, Ordering::Relaxed);
        }
    }

    /// Whether any endpoint uses a host name (and so needs re-resolving).
    fn has_names(&self) -> bool {
        self.config
            .endpoints
            .iter()
            .any(|e| e.host.parse::<IpAddr>().is_err())
    }

    /// Resolve every endpoint URL now; a name that fails to resolve keeps
    /// its previous addresses.
    pub async fn resolve(&self) {
        let current = self.endpoints.load_full();
        let mut next: Vec<Arc<Endpoint>> = Vec::new();
        for url in &self.config.endpoints {
            let configured = url.authority();
            let addrs: Vec<SocketAddr> = match url.host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, url.port)],
                Err(_) => match tokio::net::lookup_host((url.host.as_str(), url.port)).await {
                    Ok(found) => found.collect(),
                    Err(e) => {
                        tracing::warn!(upstream = %self.config.name, host = %url.host, error = %e, "cannot resolve upstream host; keeping its previous addresses");
                        current
                            .iter()
                            .filter(|ep| ep.configured_authority == configured)
                            .map(|ep| ep.addr)
                            .collect()
                    }
                },
            };
            for addr in addrs {
                if next.iter().any(|ep| ep.addr == addr) {
                    continue;
                }
                // Keep the existing entry (and its failure mark) when unchanged.
                match current.iter().find(|ep| ep.addr == addr) {
                    Some(ep) => next.push(Arc::clone(ep)),
                    None => next.extend(endpoint(addr, configured.clone())),
                }
            }
        }
        let changed = next.len() != current.len()
            || next
                .iter()
                .zip(current.iter())
                .any(|(a, b)| a.addr != b.addr);
        if changed {
            let list: Vec<String> = next.iter().map(|e| e.addr.to_string()).collect();
            tracing::info!(upstream = %self.config.name, endpoints = %list.join(","), "upstream endpoints resolved");
            self.endpoints.store(Arc::new(next));
        }
    }

    /// Re-resolve host names every `resolve_interval` while the pool is alive.
    pub fn spawn_resolver(self: &Arc<Self>) {
        if !self.has_names() {
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

fn endpoint(addr: SocketAddr, configured_authority: String) -> Option<Arc<Endpoint>> {
    let authority = http::uri::Authority::try_from(addr.to_string()).ok()?;
    Some(Arc::new(Endpoint {
        addr,
        authority,
        configured_authority,
        failed_at_ms: AtomicU64::new(0),
    }))
}
