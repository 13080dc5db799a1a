//! The certificate files' life: loaded at start (every pair must load),
//! checked by `gateway check`, and loaded again when their directory
//! changes (an editor's rename, a Kubernetes Secret's `..data` symlink
//! swap), on `SIGHUP`, or when a configuration reload names other files
//! (`crate::reload` watches and calls [`reload`]).
//! A pair that does not load is logged and counted; its previous version
//! keeps serving, and open connections are never touched.

use crate::config::{Config, TlsConfig, UnknownSni};
use crate::error::GatewayError;
use crate::state::Shared;
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
    tls.store
        .refuse_unknown_names(config.unknown_sni == UnknownSni::Refuse);
    Ok(())
}

/// Load the files again; `true` when every pair loaded.
pub(crate) fn reload(shared: &Shared) -> bool {
    let (Some(tls), Some(config)) = (&shared.tls, shared.active.load().config.tls.clone()) else {
        return true;
    };
    tls.store
        .refuse_unknown_names(config.unknown_sni == UnknownSni::Refuse);
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
