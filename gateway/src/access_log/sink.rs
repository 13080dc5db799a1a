//! Where access-log lines go, at NGINX's cost (`access_log ... buffer=64k
//! flush=1s`): each thread appends its lines to its own buffer (an
//! uncontended lock, no system call); a full buffer is handed to the
//! writer thread through a bounded queue, and the writer takes the partial
//! buffers itself every flush interval. A worker never waits for the
//! output: when the queue is full (the output is slower than the traffic)
//! the buffer's lines are dropped and counted.

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Full buffers waiting for the writer (1 MiB at the default size): room
/// for bursts while the output is briefly slow.
const QUEUE: usize = 16;

/// How long a shutdown waits for the writer to write what is pending.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

/// How often, at most, dropped lines are reported as a warning.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// A thread's buffer, shared with the writer (who empties it on each tick).
type Buffer = Arc<Mutex<Vec<u8>>>;

/// What the writer thread is told.
enum Msg {
    /// A full buffer to write.
    Full(Vec<u8>),
    /// Write everything pending (queued and partial), then answer.
    Flush(SyncSender<()>),
    /// Write everything pending and end.
    Stop,
}

/// The buffers, the queue and the writer thread of one output.
#[derive(Debug)]
pub(crate) struct Sink {
    inner: Arc<Inner>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Inner {
    /// Tells this sink's buffers from another's in a thread's list.
    id: u64,
    /// A buffer this large is handed to the writer.
    capacity: usize,
    /// How often the writer takes the partial buffers.
    flush_every: Duration,
    /// Every thread's buffer.
    buffers: Mutex<Vec<Buffer>>,
    /// Buffers the writer has written, for reuse.
    spare: Mutex<Vec<Vec<u8>>>,
    queue: SyncSender<Msg>,
    dropped: AtomicU64,
    stopped: AtomicBool,
}

thread_local! {
    /// This thread's buffer for each sink it wrote to (one in a gateway
    /// process; tests start several).
    static LOCAL: RefCell<Vec<(u64, Buffer)>> = const { RefCell::new(Vec::new()) };
}

/// Lock, ignoring poisoning: a buffer stays valid bytes whatever panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sink {
    /// Start the writer thread writing to `out`; buffers are handed over
    /// at `capacity` bytes and taken every `flush_every`.
    pub(crate) fn start(
        out: Box<dyn Write + Send>,
        capacity: usize,
        flush_every: Duration,
    ) -> io::Result<Sink> {
        static IDS: AtomicU64 = AtomicU64::new(0);
        let (queue, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let inner = Arc::new(Inner {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            capacity,
            flush_every,
            buffers: Mutex::new(Vec::new()),
            spare: Mutex::new(Vec::new()),
            queue,
            dropped: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
        });
        let writer = {
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name("access-log".into())
                .spawn(move || write_loop(&inner, &rx, out))?
        };
        Ok(Sink {
            inner,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Append one line (`format` writes it) to this thread's buffer; hand
    /// the buffer to the writer when full. Never blocks on the output.
    pub(crate) fn write(&self, format: impl FnOnce(&mut Vec<u8>)) {
        let inner = &*self.inner;
        if inner.stopped.load(Ordering::Relaxed) {
            inner.count_dropped(1);
            return;
        }
        let mut format = Some(format);
        let done = LOCAL.try_with(|local| {
            let mut local = local.borrow_mut();
            let buffer = inner.local_buffer(&mut local);
            let full = {
                let mut buf = lock(buffer);
                if let Some(format) = format.take() {
                    format(&mut buf);
                }
                if buf.len() < inner.capacity {
                    return;
                }
                std::mem::replace(&mut *buf, inner.spare_buffer())
            };
            inner.hand_off(full);
        });
        // This thread is exiting (its buffers are gone): hand the line over alone.
        if done.is_err()
            && let Some(format) = format
        {
            let mut buf = Vec::new();
            format(&mut buf);
            inner.hand_off(buf);
        }
    }

    /// Write every line appended so far (waits at most a few seconds for
    /// a slow output). Lines written meanwhile may wait for the next tick.
    pub(crate) fn flush(&self) {
        let deadline = Instant::now() + FLUSH_WAIT;
        let (ack, done) = std::sync::mpsc::sync_channel(1);
        if self.inner.send_until(Msg::Flush(ack), deadline) {
            let _ = done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        }
    }

    /// Write everything pending and end the writer thread; lines written
    /// afterwards are dropped (and counted).
    pub(crate) fn stop(&self) {
        self.inner.stopped.store(true, Ordering::Relaxed);
        let Some(writer) = lock(&self.writer).take() else {
            return;
        };
        if self
            .inner
            .send_until(Msg::Stop, Instant::now() + FLUSH_WAIT)
        {
            let _ = writer.join();
        }
    }

    /// Lines dropped so far because the output was too slow (or stopped).
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Inner {
    /// This thread's buffer for this sink, made and registered on first use.
    fn local_buffer<'a>(&self, local: &'a mut Vec<(u64, Buffer)>) -> &'a Buffer {
        let at = match local.iter().position(|(id, _)| *id == self.id) {
            Some(at) => at,
            None => {
                // Buffers only this thread still holds belong to stopped sinks.
                local.retain(|(_, buffer)| Arc::strong_count(buffer) > 1);
                let buffer = Arc::new(Mutex::new(Vec::with_capacity(self.capacity)));
                lock(&self.buffers).push(Arc::clone(&buffer));
                local.push((self.id, buffer));
                local.len() - 1
            }
        };
        &local[at].1
    }

    /// Queue `msg` for the writer, retrying while the queue is full until
    /// `deadline`: a stalled output must not hang a shutdown.
    fn send_until(&self, mut msg: Msg, deadline: Instant) -> bool {
        loop {
            match self.queue.try_send(msg) {
                Ok(()) => return true,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    msg = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return false,
            }
        }
    }

    /// An empty buffer, reused when the writer has one.
    fn spare_buffer(&self) -> Vec<u8> {
        lock(&self.spare)
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.capacity))
    }

    /// Give a full buffer to the writer, or drop (and count) its lines
    /// when the queue is full: the worker does not wait.
    fn hand_off(&self, full: Vec<u8>) {
        match self.queue.try_send(Msg::Full(full)) {
            Ok(()) => {}
            Err(
                TrySendError::Full(Msg::Full(buf)) | TrySendError::Disconnected(Msg::Full(buf)),
            ) => {
                self.count_dropped(lines(&buf));
                self.recycle(buf);
            }
            Err(_) => {}
        }
    }

    fn count_dropped(&self, lines: u64) {
        self.dropped.fetch_add(lines, Ordering::Relaxed);
        crate::metrics::access_log_dropped(lines);
    }

    /// Keep a written buffer for reuse (as many as can be in flight).
    fn recycle(&self, mut buf: Vec<u8>) {
        buf.clear();
        let mut spare = lock(&self.spare);
        if spare.len() < QUEUE {
            spare.push(buf);
        }
    }

    /// Take every thread's partial buffer (forgetting those of threads
    /// that have ended) and write them.
    fn write_partial(&self, out: &mut dyn Write) {
        let buffers: Vec<Buffer> = {
            let mut all = lock(&self.buffers);
            // Only the list holds a buffer whose thread ended: this take is its last.
            let taken = all.clone();
            all.retain(|b| Arc::strong_count(b) > 2);
            taken
        };
        for buffer in buffers {
            let partial = {
                let mut buf = lock(&buffer);
                if buf.is_empty() {
                    continue;
                }
                std::mem::replace(&mut *buf, self.spare_buffer())
            };
            self.write_out(out, partial);
        }
    }

    /// Write one buffer; on an output error its lines count as dropped.
    fn write_out(&self, out: &mut dyn Write, buf: Vec<u8>) {
        if out.write_all(&buf).is_err() {
            self.count_dropped(lines(&buf));
        }
        self.recycle(buf);
    }
}

/// Lines in a buffer (each ends with a newline).
fn lines(buf: &[u8]) -> u64 {
    buf.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The writer thread: write full buffers as they come, partial ones every
/// flush interval, everything on flush and stop; warn about dropped lines.
fn write_loop(inner: &Inner, rx: &Receiver<Msg>, mut out: Box<dyn Write + Send>) {
    let mut next_tick = Instant::now() + inner.flush_every;
    let mut reported = 0;
    let mut last_warning: Option<Instant> = None;
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Msg::Full(buf)) => inner.write_out(&mut *out, buf),
            Ok(Msg::Flush(ack)) => {
                let stop = drain(inner, rx, &mut *out);
                let _ = ack.send(());
                if stop {
                    lock(&inner.buffers).clear();
                    return;
                }
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => {
                drain(inner, rx, &mut *out);
                lock(&inner.buffers).clear();
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                inner.write_partial(&mut *out);
                let _ = out.flush();
                next_tick = Instant::now() + inner.flush_every;
                let dropped = inner.dropped.load(Ordering::Relaxed);
                if dropped > reported && last_warning.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
                    tracing::warn!(
                        dropped = dropped - reported,
                        total = dropped,
                        "access log lines dropped: the output is slower than the traffic"
                    );
                    reported = dropped;
                    last_warning = Some(Instant::now());
                }
            }
        }
    }
}

/// Write the queued full buffers, then the partial ones, then flush;
/// answer the flushes queued meanwhile. True when a stop was queued.
fn drain(inner: &Inner, rx: &Receiver<Msg>, out: &mut dyn Write) -> bool {
    let mut acks = Vec::new();
    let mut stop = false;
    while let Ok(msg) = rx.try_recv() {
        match msg {
            Msg::Full(buf) => inner.write_out(out, buf),
            Msg::Flush(ack) => acks.push(ack),
            Msg::Stop => stop = true,
        }
    }
    inner.write_partial(out);
    let _ = out.flush();
    for ack in acks {
        let _ = ack.send(());
    }
    stop
}

/// Standard output, locked for each buffer so that the diagnostic log
/// lines (tracing writes through the same lock) never land inside one.
pub(crate) struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::stdout().lock().write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        io::stdout().lock().write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stdout().lock().flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "sink_tests.rs"]
mod tests;
