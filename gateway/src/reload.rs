//! Hot reload: the route table file is watched (its directory, so editors'
//! atomic renames and the Kubernetes ConfigMap symlink swap are seen) and
//! `SIGHUP` forces a reload. A new table is swapped in whole; an invalid one
//! is logged, counted and ignored.

use std::path::{Path, PathBuf};
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
            let certificates_changed = config.tls.as_ref().map(|t| &t.certificates)
                != previous.config.tls.as_ref().map(|t| &t.certificates);
            let routes = config.routes.len();
            shared
                .active
                .store(Arc::new(Active::build(config, Some(&previous))));
            if certificates_changed {
                crate::certificates::reload(shared);
            }
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

/// Watch the file and `SIGHUP` until `stop` flips.
pub(crate) async fn watch_changes(shared: Arc<Shared>, watch_file: bool, mut stop: Stop) {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let _watcher = if watch_file {
        match file_watcher(&shared.config_path, tx.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, file = %shared.config_path.display(), "cannot watch the configuration file; SIGHUP still reloads");
                None
            }
        }
    } else {
        None
    };
    spawn_sighup(tx);
    loop {
        tokio::select! {
            got = rx.recv() => {
                if got.is_none() {
                    return;
                }
                // Editors write in several steps: let them finish.
                tokio::time::sleep(Duration::from_millis(100)).await;
                while rx.try_recv().is_ok() {}
                let _ = reload(&shared);
            }
            () = stop.stopped() => return,
        }
    }
}

fn file_watcher(path: &Path, tx: mpsc::Sender<()>) -> notify::Result<notify::RecommendedWatcher> {
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            let _ = tx.try_send(());
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
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
