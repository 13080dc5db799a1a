//! The shutdown signal as a value: every task that must stop (accept
//! loops, connections still sniffing their protocol, the admin listener,
//! the reloader) is handed a [`Stop`] and waits on it; and the [`Drain`] a
//! worker waits for (at most the grace period) before its event loop ends.

use std::sync::Arc;

use tokio::sync::watch;

/// Starts shutdown for every [`Stop`] made from it.
#[derive(Debug)]
pub(crate) struct StopSender(watch::Sender<bool>);

/// The receiving side of the shutdown signal; clone it for each task.
#[derive(Debug, Clone)]
pub(crate) struct Stop(watch::Receiver<bool>);

/// A new signal, not yet given.
pub(crate) fn channel() -> (StopSender, Stop) {
    let (tx, rx) = watch::channel(false);
    (StopSender(tx), Stop(rx))
}

impl StopSender {
    /// Tell every [`Stop`] to stop.
    pub(crate) fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Stop {
    /// Resolves once the signal is given (or its sender is gone).
    pub(crate) async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// What a worker must wait for before it stops: its client connections
/// and its upgraded (tunnelled) connections, each holding a
/// [`DrainGuard`] while open. Waited for at most the grace period.
#[derive(Debug, Clone)]
pub(crate) struct Drain(Arc<watch::Sender<usize>>);

/// One connection a [`Drain`] waits for, until dropped.
#[derive(Debug)]
pub(crate) struct DrainGuard(Drain);

impl Drain {
    /// Nothing open yet.
    pub(crate) fn new() -> Self {
        Drain(Arc::new(watch::Sender::new(0)))
    }

    /// Count one more connection until the guard is dropped.
    pub(crate) fn guard(&self) -> DrainGuard {
        self.0.send_modify(|open| *open += 1);
        DrainGuard(self.clone())
    }

    /// Connections open.
    pub(crate) fn open(&self) -> usize {
        *self.0.borrow()
    }

    /// Resolves once no connection is open.
    pub(crate) async fn drained(&self) {
        let mut open = self.0.subscribe();
        let _ = open.wait_for(|open| *open == 0).await;
    }
}

impl DrainGuard {
    /// The drain this guard is counted in.
    pub(crate) fn drain(&self) -> &Drain {
        &self.0
    }
}

impl Drop for DrainGuard {
    fn drop(&mut self) {
        (self.0)
            .0
            .send_modify(|open| *open = open.saturating_sub(1));
    }
}
