//! The certificate files' life: loaded at start (every pair must load),
//! checked by `gateway check`, and loaded again when their directory
//! changes (an editor's rename, a Kubernetes Secret's `..data` symlink
//! swap), on `SIGHUP`, or when a configuration reload names other files.
//! A pair that does not load is logged and counted; its previous version
//! keeps serving, and open connections are never touched.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::config::{Config, TlsConfig};
use crate::error::GatewayError;
use crate::state::Shared;
use crate::stop::Stop;
use crate::tls::certs::{self, unix_now};
use crate::tls::{Source, TlsState, files};

/// Load every file pair into `tls` at start; the first that does not load stops it.
pub(crate) fn load_at_start(tls: &TlsState, config: &TlsConfig) -> Result<(), GatewayError> {
    let (loaded, refused) = files::load(&config.certificates, &[]);
    if let Some(first) = refused.into_iter().next() {
        return Err(GatewayError::Certificate {
            cert: first.cert,
            message: first.error.to_string(),
        });
    }
    tls.store.set(Source::Files, loaded);
    Ok(())
}

/// Load the files again; `true` when every pair loaded.
pub(crate) fn reload(shared: &Shared) -> bool {
    let (Some(tls), Some(config)) = (&shared.tls, shared.active.load().config.tls.clone()) else {
        return true;
    };
    let previous = tls.store.get(Source::Files);
    let (loaded, refused) = files::load(&config.certificates, &previous);
    for r in &refused {
        tracing::error!(cert = %r.cert.display(), error = %r.error, "certificate rejected; the previous one keeps serving");
    }
    if refused.is_empty() && files::same(&loaded, &previous) {
        tracing::debug!("certificate files unchanged");
        return true;
    }
    tls.store.set(Source::Files, loaded);
    crate::metrics::tls_reload(refused.is_empty());
    if refused.is_empty() {
        tracing::info!(
            certificates = config.certificates.len(),
            "certificates reloaded"
        );
    }
    refused.is_empty()
}

/// Watch the certificate files' directories and `SIGHUP` until `stop`.
pub(crate) async fn watch(shared: Arc<Shared>, watch_files: bool, mut stop: Stop) {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let sender = tx.clone();
    let mut watcher = if watch_files {
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && !event.kind.is_access()
            {
                let _ = sender.try_send(());
            }
        })
        .map_err(|e| tracing::warn!(error = %e, "cannot watch certificate files; SIGHUP still reloads them"))
        .ok()
    } else {
        None
    };
    let mut watched: Vec<PathBuf> = Vec::new();
    spawn_sighup(tx);
    loop {
        if let (Some(w), Some(config)) = (&mut watcher, &shared.active.load().config.tls) {
            for dir in files::directories(&config.certificates) {
                if !watched.contains(&dir) {
                    if let Err(e) = w.watch(&dir, RecursiveMode::NonRecursive) {
                        tracing::warn!(error = %e, dir = %dir.display(), "cannot watch a certificate directory");
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
                // Files are replaced in several steps (cert, then key): let them settle.
                tokio::time::sleep(Duration::from_millis(200)).await;
                while rx.try_recv().is_ok() {}
                reload(&shared);
            }
            () = stop.stopped() => return,
        }
    }
}

#[cfg(unix)]
fn spawn_sighup(tx: mpsc::Sender<()>) {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
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

/// What `gateway check` says of the certificate files: one line per pair
/// (names, days to expiry), or the first problem: a file unreadable, a key
/// not matching, an expired certificate, a configured name not covered.
pub(crate) fn check_report(config: &Config) -> Result<Vec<String>, String> {
    let Some(tls) = &config.tls else {
        return Ok(Vec::new());
    };
    let now = unix_now();
    let mut lines = Vec::new();
    for (i, pair) in tls.certificates.iter().enumerate() {
        let key = format!("tls.certificates[{i}]");
        let cert = certs::load_pair(&pair.cert, &pair.key).map_err(|e| format!("{key}: {e}"))?;
        if let Some(missing) = pair.names.iter().find(|n| !cert.info.covers(n)) {
            return Err(format!(
                "{key}: {} does not cover `{missing}` (it names {})",
                pair.cert.display(),
                cert.info.names.join(", ")
            ));
        }
        lines.push(format!(
            "certificate {}: {}; expires in {} days",
            pair.cert.display(),
            cert.info.names.join(", "),
            cert.info.days_left(now)
        ));
    }
    if let Some(acme) = &config.acme {
        lines.push(format!(
            "acme: {} from {} (storage {})",
            acme.domains.join(", "),
            acme.directory,
            acme.storage.display()
        ));
    }
    Ok(lines)
}
