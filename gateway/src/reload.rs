//! Hot reload: the route table file is watched (its directory, so editors'
//! atomic renames and the Kubernetes ConfigMap symlink swap are seen) and
//! `SIGHUP` forces a reload. A new table is swapped in whole; an invalid one
//! is logged, counted and ignored. The same watcher and signal reload the
//! certificate files (`crate::certificates`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::config::{Config, ConfigError};
use crate::state::{Active, Shared};
use crate::stop::Stop;

/// Load the file again and swap it in when valid.
pub(crate) fn reload(shared: &Shared) -> Result<(), ConfigError> {
    let result = Config::load(&shared.config_path, &shared.overrides);
    match result {
        Ok(config) => {
            let previous = shared.active.load_full();
            if *previous.config == config {
                tracing::debug!("configuration unchanged");
                return Ok(());
            }
            if config.listen != previous.config.listen
                || config.admin_listen != previous.config.admin_listen
            {
                tracing::warn!("listener addresses changed; they take effect on restart");
            }
            if config.tls.as_ref().map(|t| t.listen)
                != previous.config.tls.as_ref().map(|t| t.listen)
                || config.acme != previous.config.acme
            {
                tracing::warn!("the HTTPS listener and ACME settings take effect on restart");
            }
            if config.access_output != previous.config.access_output {
                tracing::warn!(
                    "log.access_file, access_buffer and access_flush take effect on restart"
                );
            }
            for listener in config.listeners() {
                if !shared.listeners.iter().any(|l| l.on == listener.on) {
                    tracing::warn!(
                        address = %listener.on.addr,
                        tls = listener.on.tls,
                        "a new listener takes effect on restart"
                    );
                }
            }
            let routes = config.routes.len();
            shared.active.store(Arc::new(Active::build(
                config,
                Some(&previous),
                &shared.listeners,
            )));
            crate::metrics::config_reload(true);
            tracing::info!(routes, file = %shared.config_path.display(), "configuration reloaded");
            Ok(())
        }
        Err(e) => {
            crate::metrics::config_reload(false);
            tracing::error!(error = %e, "configuration rejected; the previous route table keeps serving");
            Err(e)
        }
    }
}

/// Watch the file (and the certificate files) and `SIGHUP` until `stop`
/// flips; each change reloads both (each does nothing when its files did
/// not change).
pub(crate) async fn watch_changes(shared: Arc<Shared>, watch_file: bool, mut stop: Stop) {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let mut watcher = if watch_file {
        match file_watcher(tx.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, file = %shared.config_path.display(), "cannot watch the configuration file; SIGHUP still reloads");
                None
            }
        }
    } else {
        None
    };
    let mut watched: Vec<PathBuf> = Vec::new();
    spawn_sighup(tx);
    loop {
        if let Some(w) = &mut watcher {
            // Certificate files named by a reloaded table are watched from then on.
            for dir in directories(&shared) {
                if !watched.contains(&dir) {
                    if let Err(e) = w.watch(&dir, RecursiveMode::NonRecursive) {
                        tracing::warn!(error = %e, dir = %dir.display(), "cannot watch a directory; SIGHUP still reloads");
                    }
                    watched.push(dir);
                }
            }
        }
        tokio::select! {
            got = rx.recv() => {
                if got.is_none() {
                    return;
                }
                // Editors and certificate renewals write in several steps: let them finish.
                tokio::time::sleep(Duration::from_millis(200)).await;
                while rx.try_recv().is_ok() {}
                let _ = reload(&shared);
                crate::certificates::reload(&shared);
            }
            () = stop.stopped() => return,
        }
    }
}

/// The directories to watch: the route table's (an editor's rename and the
/// kubelet's `..data` symlink swap are changes of the directory) and the
/// certificate files'.
fn directories(shared: &Shared) -> Vec<PathBuf> {
    let mut dirs = vec![match shared.config_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }];
    if let Some(tls) = &shared.active.load().config.tls {
        dirs.extend(crate::tls::files::directories(&tls.certificates));
    }
    dirs
}

fn file_watcher(tx: mpsc::Sender<()>) -> notify::Result<notify::RecommendedWatcher> {
    notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            let _ = tx.try_send(());
        }
    })
}

#[cfg(unix)]
fn spawn_sighup(tx: mpsc::Sender<()>) {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP received, reloading");
                    if tx.send(()).await.is_err() {
                        return;
                    }
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP"),
    }
}

#[cfg(not(unix))]
fn spawn_sighup(_tx: mpsc::Sender<()>) {}
