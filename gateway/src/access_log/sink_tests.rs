//! The writer: flush interval, stop, blocked outputs, drops.

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
    let sink = Sink::start(Box::new(out.clone()), 64 * 1024, Duration::from_millis(50)).unwrap();
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
    let sink = Arc::new(Sink::start(Box::new(out.clone()), 4096, Duration::from_secs(60)).unwrap());
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
fn a_flush_gives_up_on_a_stalled_output() {
    let out = Output::default();
    let sink = Sink::start(Box::new(out.clone()), 4096, Duration::from_secs(60)).unwrap();
    for n in 0..2000 {
        sink.write(line(n));
    }
    // Returns (after FLUSH_WAIT) although the writer is stuck: a
    // stalled stdout must not hang the gateway's shutdown.
    sink.flush();
    out.release();
    sink.stop();
    assert_eq!(out.lines().len() as u64 + sink.dropped(), 2000);
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
