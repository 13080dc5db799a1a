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
        let (ack, done) = std::sync::mpsc::sync_channel(1);
        if self.inner.queue.send(Msg::Flush(ack)).is_ok() {
            let _ = done.recv_timeout(FLUSH_WAIT);
        }
    }

    /// Write everything pending and end the writer thread; lines written
    /// afterwards are dropped (and counted).
    pub(crate) fn stop(&self) {
        self.inner.stopped.store(true, Ordering::Relaxed);
        let Some(writer) = lock(&self.writer).take() else {
            return;
        };
        if self.inner.queue.send(Msg::Stop).is_ok() {
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
mod tests {
    use std::sync::Condvar;

    use super::*;

    /// An output in memory that, while closed, blocks every write.
    #[derive(Clone, Default)]
    struct Output {
        bytes: Arc<Mutex<Vec<u8>>>,
        gate: Arc<(Mutex<bool>, Condvar)>,
    }

    impl Output {
        fn open() -> Self {
            let out = Output::default();
            out.release();
            out
        }
        fn release(&self) {
            *self.gate.0.lock().unwrap() = true;
            self.gate.1.notify_all();
        }
        fn lines(&self) -> Vec<String> {
            let text = String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap();
            text.lines().map(str::to_string).collect()
        }
    }

    impl Write for Output {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (open, cv) = &*self.gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn line(n: usize) -> impl FnOnce(&mut Vec<u8>) {
        move |out: &mut Vec<u8>| {
            out.extend_from_slice(format!("{{\"n\":{n},\"pad\":\"{:>80}\"}}\n", "").as_bytes());
        }
    }

    #[test]
    fn partial_buffers_are_written_every_flush_interval() {
        let out = Output::open();
        let sink =
            Sink::start(Box::new(out.clone()), 64 * 1024, Duration::from_millis(50)).unwrap();
        for n in 0..3 {
            sink.write(line(n));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while out.lines().len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(out.lines().len(), 3);
        sink.stop();
    }

    #[test]
    fn stop_writes_every_line_of_every_thread_even_ended_ones() {
        let out = Output::open();
        let sink =
            Arc::new(Sink::start(Box::new(out.clone()), 4096, Duration::from_secs(60)).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || {
                    for n in 0..250 {
                        sink.write(line(t * 1000 + n));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        sink.stop();
        let lines = out.lines();
        // Whatever the queue could not take is counted; nothing is lost silently.
        assert_eq!(lines.len() as u64 + sink.dropped(), 1000);
        for l in &lines {
            let _: serde_json::Value = serde_json::from_str(l).unwrap();
        }
        // After a stop, lines are counted as dropped.
        sink.write(line(0));
        assert_eq!(lines.len() as u64 + sink.dropped(), 1001);
    }

    #[test]
    fn a_blocked_output_never_blocks_a_worker_and_drops_are_counted() {
        let out = Output::default();
        let sink = Sink::start(Box::new(out.clone()), 4096, Duration::from_millis(20)).unwrap();
        // ~100 bytes a line: 40 lines a buffer, 16 buffers queued; the
        // rest must be dropped, not waited for.
        let total = 5000;
        for n in 0..total {
            sink.write(line(n));
        }
        assert!(sink.dropped() > 0, "nothing dropped");
        out.release();
        sink.stop();
        let written = out.lines().len() as u64;
        assert!(written > 0);
        assert_eq!(written + sink.dropped(), total as u64);
    }

    #[test]
    fn flush_writes_what_is_pending() {
        let out = Output::open();
        let sink = Sink::start(Box::new(out.clone()), 64 * 1024, Duration::from_secs(60)).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| sink.write(line(1)));
        });
        sink.write(line(2));
        sink.flush();
        assert_eq!(out.lines().len(), 2);
        assert_eq!(sink.dropped(), 0);
    }
}
