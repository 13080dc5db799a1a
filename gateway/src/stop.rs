//! The shutdown signal as a value: every task that must stop (accept
//! loops, connections still sniffing their protocol, the admin listener,
//! the reloader) is handed a [`Stop`] and waits on it.

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
