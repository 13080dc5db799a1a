//! The per-request record: one access-log line and the request metrics,
//! written when the response body is finished (so `bytes` and `duration`
//! cover the whole exchange).
//!
//! The line is formatted by [`line`] into the thread's buffer of the
//! process's [`sink`] (standard output with the JSON format, or
//! `log.access_file`); with the pretty format and no file it is a regular
//! tracing event, as readable as the other log lines.

mod line;
mod sink;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};

use common::config::LogFormat;

use crate::config::Config;
use crate::error::GatewayError;
use crate::metrics::{IN_FLIGHT, REQUEST_DURATION, REQUESTS_TOTAL};
use crate::trace_context::RequestTrace;
use line::Line;
use sink::Sink;

/// The process's access-log writer, once started.
static SINK: OnceLock<Sink> = OnceLock::new();

/// Start the process's access-log writer when lines go through it: to
/// `log.access_file` when set, else to standard output with the JSON
/// format. The first gateway of a process decides (its output, buffer and
/// flush interval); later ones (tests) share it.
pub(crate) fn start(config: &Config) -> Result<(), GatewayError> {
    if SINK.get().is_some() {
        return Ok(());
    }
    let output = &config.access_output;
    let out: Box<dyn Write + Send> = match &output.file {
        Some(path) => Box::new(
            OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .map_err(|e| GatewayError::AccessLog(format!("{}: {e}", path.display())))?,
        ),
        None if config.log_format == LogFormat::Json => Box::new(sink::Stdout),
        None => return Ok(()),
    };
    let capacity = usize::try_from(output.buffer).unwrap_or(usize::MAX);
    let sink = Sink::start(out, capacity, output.flush)
        .map_err(|e| GatewayError::AccessLog(format!("cannot start its writer thread: {e}")))?;
    // Lost a race with another gateway starting: the extra sink stops when dropped.
    let _ = SINK.set(sink);
    Ok(())
}

/// Write every access-log line recorded so far (at shutdown).
pub(crate) fn flush() {
    if let Some(sink) = SINK.get() {
        sink.flush();
    }
}

/// What is known about a request by the time its response starts.
#[derive(Debug)]
pub(crate) struct Completion {
    /// When the request head arrived.
    pub(crate) started: Instant,
    /// The request id.
    pub(crate) request_id: http::HeaderValue,
    /// The client's address (behind trusted proxies, from `X-Forwarded-For`).
    pub(crate) client_ip: IpAddr,
    /// The method, as a bounded label.
    pub(crate) method: &'static str,
    /// The (normalised, when valid) path, without the query.
    pub(crate) path: String,
    /// The route prefix, or `-`.
    pub(crate) route: Arc<str>,
    /// The endpoint that answered, if any.
    pub(crate) upstream: Option<SocketAddr>,
    /// The response status.
    pub(crate) status: u16,
    /// Response body bytes sent.
    pub(crate) bytes: u64,
    /// The upstream's body broke off.
    pub(crate) aborted: bool,
    /// Write the access-log line.
    pub(crate) log: bool,
    /// The request's trace (its id is logged; its span ends here).
    pub(crate) trace: RequestTrace,
}

impl Completion {
    /// Start the record of a request (counts it in flight).
    pub(crate) fn start(
        started: Instant,
        request_id: http::HeaderValue,
        client_ip: IpAddr,
        method: &'static str,
        log: bool,
    ) -> Self {
        in_flight().increment(1.0);
        Completion {
            started,
            request_id,
            client_ip,
            method,
            path: String::new(),
            route: no_route(),
            upstream: None,
            status: 0,
            bytes: 0,
            aborted: false,
            log,
            trace: RequestTrace::default(),
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        in_flight().decrement(1.0);
        record(&self.route, self.method, self.status, elapsed.as_secs_f64());
        self.trace
            .finish(self.method, &self.route, &self.path, self.status);
        if self.log {
            let trace_id = self.trace.trace_id();
            let trace_id = trace_id.as_ref().map_or("-", |id| id.as_str());
            let line = Line {
                time: SystemTime::now(),
                request_id: self.request_id.to_str().unwrap_or_default(),
                trace_id,
                client_ip: self.client_ip,
                method: self.method,
                path: &self.path,
                route: &self.route,
                upstream: self.upstream,
                status: self.status,
                bytes: self.bytes,
                duration_ms: elapsed.as_secs_f64() * 1000.0,
                aborted: self.aborted,
            };
            match SINK.get() {
                Some(sink) => sink.write(|out| line::format(out, &line)),
                None => line::trace(&line),
            }
        }
    }
}

/// The route label of a request that matched none (`-`), shared.
fn no_route() -> Arc<str> {
    static DASH: OnceLock<Arc<str>> = OnceLock::new();
    Arc::clone(DASH.get_or_init(|| Arc::from("-")))
}

/// The in-flight gauge (looked up once; the recorder is installed by then).
fn in_flight() -> &'static metrics::Gauge {
    static GAUGE: OnceLock<metrics::Gauge> = OnceLock::new();
    GAUGE.get_or_init(|| metrics::gauge!(IN_FLIGHT))
}

type Handles = HashMap<(Arc<str>, &'static str, u16), (metrics::Counter, metrics::Histogram)>;

thread_local! {
    /// Metric handles by (route, method, status): a registry lookup builds
    /// and hashes a labelled key, which costs more than the update itself.
    static HANDLES: RefCell<Handles> = RefCell::new(HashMap::new());
}

fn record(route: &Arc<str>, method: &'static str, status: u16, seconds: f64) {
    HANDLES.with(|cell| {
        let mut handles = cell.borrow_mut();
        // Bounded: routes x known methods x statuses; cleared if many
        // reloads with changing prefixes ever make it large.
        if handles.len() > 4096 {
            handles.clear();
        }
        let (counter, histogram) = handles
            .entry((Arc::clone(route), method, status))
            .or_insert_with(|| {
                (
                    metrics::counter!(REQUESTS_TOTAL, "route" => Arc::clone(route), "method" => method, "status" => common::metrics::status_label(status)),
                    metrics::histogram!(REQUEST_DURATION, "route" => Arc::clone(route)),
                )
            });
        counter.increment(1);
        histogram.record(seconds);
    });
}
