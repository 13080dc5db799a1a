//! Name resolution: an upstream's endpoint URLs become addresses at start
//! and every `resolve_interval`; every address a name resolves to is used,
//! and a lookup that fails keeps the name's previous addresses.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::config::UpstreamConfig;

use super::endpoint::Endpoint;

/// The endpoints known without a lookup: the IP literals, and the
/// addresses `known` (an earlier pool's endpoints) has for each host name.
/// Each keeps the health of its address in `known`.
pub(super) fn initial_endpoints(
    config: &UpstreamConfig,
    known: &[Arc<Endpoint>],
) -> Vec<Arc<Endpoint>> {
    let mut out: Vec<Arc<Endpoint>> = Vec::new();
    for url in &config.endpoints {
        let authority = url.authority();
        let addrs: Vec<SocketAddr> = match url.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, url.port)],
            Err(_) => known
                .iter()
                .filter(|ep| ep.configured_authority == authority)
                .map(|ep| ep.addr)
                .collect(),
        };
        for addr in addrs {
            if !out.iter().any(|ep| ep.addr == addr) {
                out.push(Endpoint::new(&config.name, addr, url, known));
            }
        }
    }
    out
}

/// Whether any endpoint uses a host name (and so needs re-resolving).
pub(super) fn has_names(config: &UpstreamConfig) -> bool {
    config
        .endpoints
        .iter()
        .any(|e| e.host.parse::<IpAddr>().is_err())
}

/// Resolve every endpoint URL now. Returns the new list when the addresses
/// changed, `None` when they did not. Endpoints whose address is unchanged
/// are kept (with their health).
pub(super) async fn resolve(
    config: &UpstreamConfig,
    current: &[Arc<Endpoint>],
) -> Option<Vec<Arc<Endpoint>>> {
    let mut next: Vec<Arc<Endpoint>> = Vec::new();
    for url in &config.endpoints {
        let configured = url.authority();
        let addrs: Vec<SocketAddr> = match url.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, url.port)],
            Err(_) => match tokio::net::lookup_host((url.host.as_str(), url.port)).await {
                Ok(found) => found.collect(),
                Err(e) => {
                    tracing::warn!(upstream = %config.name, host = %url.host, error = %e, "cannot resolve upstream host; keeping its previous addresses");
                    current
                        .iter()
                        .filter(|ep| ep.configured_authority == configured)
                        .map(|ep| ep.addr)
                        .collect()
                }
            },
        };
        for addr in addrs {
            if next.iter().any(|ep| ep.addr == addr) {
                continue;
            }
            match current.iter().find(|ep| ep.addr == addr) {
                Some(ep) => next.push(Arc::clone(ep)),
                None => next.push(Endpoint::new(&config.name, addr, url, current)),
            }
        }
    }
    let changed = next.len() != current.len()
        || next
            .iter()
            .zip(current.iter())
            .any(|(a, b)| a.addr != b.addr);
    if changed {
        let list: Vec<String> = next.iter().map(|e| e.addr.to_string()).collect();
        tracing::info!(upstream = %config.name, endpoints = %list.join(","), "upstream endpoints resolved");
        Some(next)
    } else {
        None
    }
}
