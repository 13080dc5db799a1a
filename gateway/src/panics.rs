//! Panics on the gateway's worker threads, made visible.
//!
//! tokio catches a task's panic and keeps the event loop going, so a bug
//! that panics in a connection task cuts that connection's requests and
//! nothing else shows it: the process used to exit 0 after a drain that
//! had panicked 172 times. Each worker thread registers a [`PanicWatch`];
//! a panic on such a thread logs an error line naming where it happened,
//! counts in `gateway_worker_panics_total`, and makes
//! [`crate::Gateway::run`] return an error (so `gateway run` exits
//! non-zero). Panics elsewhere (test threads, other programs embedding the
//! gateway) pass through to the previous hook untouched.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    /// The watch of the gateway this thread works for, if any.
    static WATCH: RefCell<Option<Arc<AtomicUsize>>> = const { RefCell::new(None) };
}

/// Counts the panics on the threads of one gateway.
#[derive(Debug, Clone, Default)]
pub(crate) struct PanicWatch(Arc<AtomicUsize>);

impl PanicWatch {
    /// A watch with no panic counted; installs the process's hook once.
    pub(crate) fn new() -> Self {
        install_hook();
        PanicWatch::default()
    }

    /// Count the panics of the current thread in this watch from now on.
    pub(crate) fn enter(&self) {
        WATCH.with(|watch| *watch.borrow_mut() = Some(Arc::clone(&self.0)));
    }

    /// Panics counted so far.
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let watched = WATCH
                .try_with(|watch| watch.try_borrow().ok().and_then(|w| w.clone()))
                .ok()
                .flatten();
            if let Some(counter) = watched {
                counter.fetch_add(1, Ordering::Relaxed);
                crate::metrics::worker_panic();
                let thread = std::thread::current();
                let location = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(
                    thread = thread.name().unwrap_or("unnamed"),
                    %location,
                    %message,
                    "a gateway worker panicked: requests on that connection were cut; the gateway will exit with an error"
                );
            }
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_on_a_watched_thread_is_counted() {
        let watch = PanicWatch::new();
        let watched = watch.clone();
        let joined = std::thread::Builder::new()
            .name("gateway-worker-test".into())
            .spawn(move || {
                watched.enter();
                panic!("deliberate");
            })
            .expect("thread starts")
            .join();
        assert!(joined.is_err(), "the thread panicked");
        assert_eq!(watch.count(), 1);
    }

    #[test]
    fn a_panic_on_another_thread_is_not_counted() {
        let watch = PanicWatch::new();
        let joined = std::thread::spawn(|| panic!("not ours")).join();
        assert!(joined.is_err());
        assert_eq!(watch.count(), 0);
    }

    #[test]
    fn a_panic_in_a_task_on_a_watched_thread_is_counted() {
        // tokio catches the task's panic: the event loop goes on, and only
        // the watch tells.
        let watch = PanicWatch::new();
        let watched = watch.clone();
        std::thread::spawn(move || {
            watched.enter();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let task = tokio::spawn(async { panic!("in a task") });
                assert!(task.await.is_err());
            });
        })
        .join()
        .expect("the thread itself survives");
        assert_eq!(watch.count(), 1);
    }
}
