//! One worker thread of the public listener: its own single-threaded event
//! loop accepting from the shared socket, and every connection it accepts
//! served on it to the end (HTTP/1.1 with keep-alive, pipelining,
//! half-close and upgrades, or HTTP/2 prior knowledge), with the graceful
//! drain on shutdown: each connection is told to finish (hyper's graceful
//! shutdown), and the worker waits for its connections and the upgraded
//! ones made on it ([`Drain`]) for at most the grace period.
//!
//! At accept a connection takes its place under
//! `limits.connections_per_client` (refused with `429` beyond it). The
//! connection settings (`timeouts.header_read`, `timeouts.client_send`,
//! `limits.http2_max_concurrent_streams`) are those of the configuration
//! active when the connection is accepted: a reload applies them to new
//! connections.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::FutureExt;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::{HttpService, service_fn};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::client_limit::{Admitted, ClientConnections};
use crate::config::Config;
use crate::content::returns::CloseWithoutAnswer;
use crate::headers::{self, Peer};
use crate::proxy::ClientConn;
use crate::state::Shared;
use crate::stop::{Drain, DrainGuard, Stop};

use super::accept::{Listening, accept_any, refusal};
use super::client_io::{ClientIo, ClientSocket, ConnState};
use super::drive::{drive, report};
use super::first_read::{self, Opening};
use super::keep_alive::{self, Served, Tracked};
use super::parking::{Lot, Parked};
use super::tls::TlsListener;

/// What a worker thread hands to everything it runs: the values the
/// request path would otherwise reach for globally.
pub(super) struct Worker {
    /// Which worker this is: its requests use the upstream connections of
    /// this index.
    pub(super) index: usize,
    /// The gateway's state.
    pub(super) shared: Arc<Shared>,
    /// The shutdown signal.
    pub(super) stop: Stop,
    /// How long the drain may take.
    pub(super) grace: Duration,
    /// Connections open per client address, shared by every worker.
    pub(super) clients: Arc<ClientConnections>,
}

/// How client connections are served, per protocol.
struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    /// The wait for a request head (and for a new connection's first bytes).
    header_read: Duration,
    /// The longest a client socket may take no bytes.
    client_send: Duration,
    /// How long an idle HTTP/1 keep-alive connection is kept.
    client_idle: Duration,
    /// The configuration these were built from.
    config: Arc<Config>,
}

/// The connection builders for client connections under `config`.
fn connection_builders(config: &Arc<Config>) -> Builders {
    // hyper answers a bare 431 past its buffer; below it (twice the limit)
    // the proxy answers 431 with a problem body.
    let buffer = usize::try_from(config.header_limit.saturating_mul(2))
        .unwrap_or(usize::MAX)
        .max(16 * 1024);
    let mut h1 = http1::Builder::new();
    h1.timer(TokioTimer::new())
        .header_read_timeout(config.timeouts.header_read)
        .keep_alive(true)
        .half_close(true)
        .max_buf_size(buffer);
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(buffer).unwrap_or(u32::MAX))
        // Pings find dead HTTP/2 clients; idle HTTP/1 connections end at the
        // header-read timeout (hyper starts it when waiting for the next head).
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_concurrent_streams(config.client_limits.http2_max_concurrent_streams);
    Builders {
        http1: h1,
        http2: h2,
        header_read: config.timeouts.header_read,
        client_send: config.timeouts.client_send,
        client_idle: config.timeouts.client_idle,
        config: Arc::clone(config),
    }
}

impl Worker {
    /// Accept from every listener (the public one, the HTTPS one when on,
    /// the servers' own) and serve until the stop signal, then drain for at
    /// most the grace period.
    pub(super) async fn accept_loop(mut self, listeners: Vec<Listening>) {
        let mut builders = Arc::new(connection_builders(&self.shared.active.load().config));
        let drain = Drain::new();
        let (lot, keeper) = Lot::new(self.stop.clone());
        tokio::spawn(keeper);
        let mut next = 0;
        loop {
            let (accepted, listening) = tokio::select! {
                accepted = accept_any(&listeners, &mut next) => accepted,
                () = self.stop.stopped() => break,
            };
            let over_tls = listening.tls.as_ref();
            let (stream, peer) = match accepted {
                Ok(conn) => conn,
                // Another worker took it.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(admitted) = self.admit(&mut builders, &stream, peer, over_tls.is_some())
            else {
                continue;
            };
            // On Linux TCP_NODELAY comes from the listening socket
            // (`listen::listen`); elsewhere it is set here.
            #[cfg(not(target_os = "linux"))]
            let _ = stream.set_nodelay(true);
            let guard = drain.guard();
            let opened = Opened {
                guard,
                admitted,
                lot: lot.clone(),
            };
            self.serve_connection(&builders, listening, opened, stream, peer);
        }
        drop(listeners);
        tracing::debug!(
            connections = drain.open(),
            worker = self.index,
            "draining connections"
        );
        let grace = self.grace;
        if tokio::time::timeout(grace, drain.drained()).await.is_err() {
            tracing::warn!(?grace, "grace period over; closing remaining connections");
        }
    }

    /// Take the connection's place under `limits.connections` and
    /// `limits.connections_per_client` (trusted proxies exempt from the
    /// latter), with the builders of the active configuration; `None` (and
    /// the connection answered `503` or `429` and closed, or just closed on
    /// the HTTPS listener) when over either.
    fn admit(
        &self,
        builders: &mut Arc<Builders>,
        stream: &TcpStream,
        peer: SocketAddr,
        over_tls: bool,
    ) -> Option<Admitted> {
        let active = self.shared.active.load();
        if !Arc::ptr_eq(&active.config, &builders.config) {
            *builders = Arc::new(connection_builders(&active.config));
        }
        let ip = peer.ip().to_canonical();
        let exempt = headers::is_trusted(ip, &active.config.trusted_proxies);
        let limits = &active.config.client_limits;
        match self.clients.admit(
            ip,
            limits.connections,
            limits.connections_per_client,
            exempt,
        ) {
            Ok(admitted) => Some(admitted),
            Err(refused) => {
                tracing::debug!(%peer, ?refused, "connection refused at accept");
                if !over_tls {
                    super::client_io::write_final(stream, &refusal(refused));
                }
                None
            }
        }
    }

    /// Serve one connection on this worker to its end: on the plain
    /// listener the first read tells HTTP/2 from HTTP/1.1; on the HTTPS one
    /// (`tls`) the handshake does (ALPN).
    fn serve_connection(
        &self,
        builders: &Arc<Builders>,
        listening: &Listening,
        opened: Opened,
        stream: TcpStream,
        peer: SocketAddr,
    ) {
        let builders = Arc::clone(builders);
        let shared = Arc::clone(&self.shared);
        let stop = self.stop.clone();
        let worker = self.index;
        let tls = listening.tls.clone();
        let setup = Setup {
            shared,
            worker,
            listener: listening.index,
            opened,
            peer,
            state: Arc::new(ConnState::default()),
            stop,
        };
        tokio::spawn(async move {
            // Everything before the plain HTTP/1.1 keep-alive loop (the
            // first read, TLS, HTTP/2, served to their end there) runs in a
            // box of its own, made outside this block so that its state is
            // not also laid out in the task of every HTTP/1.1 turn.
            let open = open(&builders, tls, stream, setup);
            if let Some((conn, io)) = open.await {
                conn.serve_http1(builders, io).await;
            }
        });
    }
}

/// What an accepted connection holds for as long as it is open.
struct Opened {
    /// The worker's drain waits for it.
    guard: DrainGuard,
    /// Its place under `limits.connections_per_client`.
    admitted: Admitted,
    /// Where it waits while idle between requests.
    lot: Lot,
}

/// What a connection is served with, before its protocol is known.
struct Setup {
    shared: Arc<Shared>,
    worker: usize,
    /// The listener's index (which servers answer).
    listener: usize,
    opened: Opened,
    peer: SocketAddr,
    state: Arc<ConnState>,
    stop: Stop,
}

impl Setup {
    /// The connection as served, `client` being its peer as requests see it.
    fn into_conn(self, client: Peer) -> Conn {
        let Opened {
            guard,
            admitted,
            lot,
        } = self.opened;
        Conn {
            shared: self.shared,
            client: Arc::new(ClientConn {
                peer: client,
                worker: self.worker,
                listener: self.listener,
                drain: guard.drain().clone(),
                admitted,
            }),
            peer: self.peer,
            state: self.state,
            stop: self.stop,
            _guard: guard,
            lot,
        }
    }
}

/// Open a connection, in a box: a TLS connection (handshake, then HTTP/2
/// or HTTP/1.1 by ALPN) and a plain HTTP/2 one are served to their end in
/// it; a plain HTTP/1.1 one is handed back (`Some`) after its first read.
fn open(
    builders: &Arc<Builders>,
    tls: Option<TlsListener>,
    stream: TcpStream,
    setup: Setup,
) -> Pin<Box<impl Future<Output = Option<(Conn, ClientIo)>> + Send + use<>>> {
    let builders = Arc::clone(builders);
    Box::pin(async move {
        let send = builders.client_send;
        let state = Arc::clone(&setup.state);
        let ip = setup.peer.ip();
        if let Some(tls) = tls {
            let stream = tls.handshake(stream, setup.stop.clone()).await?;
            let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let io = ClientIo::new(stream, Vec::new(), !http2, state, send);
            let conn = setup.into_conn(Peer::over_tls(ip));
            if http2 {
                conn.serve_h2(&builders, io).await;
            } else {
                conn.serve_http1(builders, io).await;
            }
            return None;
        }
        let stop = setup.stop.clone();
        let opening = first_read::open(stream, builders.header_read, state, stop, send).await;
        match opening {
            Opening::Http1(io) => Some((setup.into_conn(Peer::new(ip)), io)),
            Opening::Http2(io) => {
                setup.into_conn(Peer::new(ip)).serve_h2(&builders, io).await;
                None
            }
            Opening::Closed | Opening::TimedOut => None,
        }
    })
}

/// One accepted connection, past its first read or handshake.
struct Conn {
    shared: Arc<Shared>,
    client: Arc<ClientConn>,
    peer: SocketAddr,
    state: Arc<ConnState>,
    stop: Stop,
    /// The worker's drain waits until the connection is dropped.
    _guard: DrainGuard,
    lot: Lot,
}

impl Conn {
    /// The service hyper calls for each request: [`crate::proxy::handle`],
    /// with the connection told when a request starts and when hyper is
    /// done with its response ([`Tracked`]).
    fn service(
        &self,
    ) -> impl HttpService<
        Incoming,
        ResBody = Tracked,
        Error = CloseWithoutAnswer,
        Future: Send + 'static,
    > + Clone
    + Send
    + Unpin
    + use<> {
        let shared = Arc::clone(&self.shared);
        let client = Arc::clone(&self.client);
        let counter = Arc::clone(&self.state);
        service_fn(move |req| {
            counter.request_started();
            let state = Arc::clone(&counter);
            // A combinator, not an `async` block awaiting the proxy's
            // future: such a block stores the captured future twice
            // (rust-lang/rust#62958), here 9.7 instead of 4.8 KB, which
            // hyper then copies into place for every request.
            crate::proxy::handle(Arc::clone(&shared), Arc::clone(&client), req).map(
                move |handled| {
                    let Ok(response) = handled;
                    if response.status() == http::StatusCode::SWITCHING_PROTOCOLS {
                        state.upgraded.store(true, Ordering::Relaxed);
                    }
                    if response.extensions().get::<CloseWithoutAnswer>().is_some() {
                        // `return 444`: nothing is written; the response
                        // (and its access log line) ends here.
                        drop(response);
                        state.response_finished();
                        return Err(CloseWithoutAnswer);
                    }
                    Ok(response.map(|body| Tracked::new(body, state)))
                },
            )
        })
    }

    /// Serve `io` with hyper's HTTP/2 server to its end.
    async fn serve_h2<S>(self, builders: &Builders, io: ClientIo<S>)
    where
        S: ClientSocket + AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let conn = builders.http2.serve_connection(io, self.service());
        drive(
            conn,
            |c| c.graceful_shutdown(),
            self.stop,
            builders.client_idle,
            &self.state,
            self.peer,
        )
        .await;
    }

    /// Serve `io` with hyper's HTTP/1.1 server until it ends, or until it
    /// is idle between requests: then the task ends and the connection
    /// waits in the worker's lot, which serves it again in a new task when
    /// the client speaks (`keep_alive.rs`, `parking.rs`).
    async fn serve_http1<S>(mut self, builders: Arc<Builders>, io: ClientIo<S>)
    where
        S: ClientSocket + AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let served = keep_alive::serve_http1(
            &builders.http1,
            io.with_parking(),
            self.service(),
            &self.state,
            keep_alive::park_after(builders.header_read),
            &mut self.stop,
        )
        .await;
        match served {
            Served::Ended(result) => report(result, self.peer),
            Served::Idle(io) => {
                let lot = self.lot.clone();
                let idle = builders.client_idle;
                lot.park(
                    Box::new(IdleConn {
                        conn: self,
                        io,
                        builders,
                    }),
                    idle,
                );
            }
        }
    }
}

/// An HTTP/1.1 connection idle between requests, in its worker's lot.
struct IdleConn<S: ClientSocket> {
    conn: Conn,
    io: ClientIo<S>,
    builders: Arc<Builders>,
}

impl<S> Parked for IdleConn<S>
where
    S: ClientSocket + AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn poll_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        self.io.poll_read_ready(cx)
    }

    fn resume(self: Box<Self>, parked: Duration) {
        let IdleConn { conn, io, builders } = *self;
        // Back within the parking delay: a busy client, whose next pauses
        // must last that long before it parks again.
        let busy = parked < keep_alive::park_after(builders.header_read);
        conn.state.busy.store(busy, Ordering::Relaxed);
        tokio::spawn(conn.serve_http1(builders, io));
    }
}
