//! The certificates being served, chosen by SNI: an index rebuilt whenever
//! a source (the certificate files, ACME) hands in a new set, read without
//! a lock by every handshake.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::certs::{CertInfo, Certificate};

/// Where a set of certificates comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    /// `[[tls.certificates]]` / `GATEWAY_TLS_CERT`: listed first, so the
    /// first file pair is the default and files win over ACME for a name.
    Files,
    /// Obtained by ACME.
    Acme,
}

/// The serving index: exact names, wildcard suffixes and the default.
#[derive(Default)]
struct Index {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.com` under `example.com`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
    infos: Vec<CertInfo>,
}

/// Every certificate the HTTPS listener serves.
#[derive(Default)]
pub(crate) struct CertStore {
    sources: Mutex<BTreeMap<Source, Vec<Certificate>>>,
    index: ArcSwap<Index>,
}

impl std::fmt::Debug for CertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertStore")
            .field("certificates", &self.infos())
            .finish()
    }
}

impl CertStore {
    /// Serve `certs` for `source` from now on (replacing its previous set).
    pub(crate) fn set(&self, source: Source, certs: Vec<Certificate>) {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        sources.insert(source, certs);
        let mut index = Index::default();
        for cert in sources.values().flatten() {
            for name in &cert.info.names {
                let slot = match name.strip_prefix("*.") {
                    Some(suffix) => index.wildcard.entry(suffix.to_string()),
                    None => index.exact.entry(name.clone()),
                };
                slot.or_insert_with(|| Arc::clone(&cert.key));
            }
            if index.default.is_none() {
                index.default = Some(Arc::clone(&cert.key));
            }
            index.infos.push(cert.info.clone());
            crate::metrics::certificate_expiry(cert.info.label(), cert.info.not_after);
        }
        self.index.store(Arc::new(index));
    }

    /// The certificates of `source` now served.
    pub(crate) fn get(&self, source: Source) -> Vec<Certificate> {
        let sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        sources.get(&source).cloned().unwrap_or_default()
    }

    /// Whether any certificate is served (else every handshake fails).
    pub(crate) fn is_serving(&self) -> bool {
        self.index.load().default.is_some()
    }

    /// What is served, in order (the default first).
    pub(crate) fn infos(&self) -> Vec<CertInfo> {
        self.index.load().infos.clone()
    }

    /// The certificate for `server_name`: an exact SAN, else a wildcard
    /// one level up, else the default.
    fn choose(&self, server_name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let index = self.index.load();
        if let Some(name) = server_name {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if let Some(key) = index.exact.get(&name) {
                return Some(Arc::clone(key));
            }
            if let Some((_, parent)) = name.split_once('.')
                && let Some(key) = index.wildcard.get(parent)
            {
                return Some(Arc::clone(key));
            }
        }
        index.default.clone()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.choose(client_hello.server_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(names: &[&str]) -> Certificate {
        let made = rcgen::generate_simple_self_signed(
            names.iter().map(|n| (*n).to_string()).collect::<Vec<_>>(),
        )
        .expect("cert");
        super::super::certs::from_pem(
            made.cert.pem().as_bytes(),
            made.signing_key.serialize_pem().as_bytes(),
            names[0],
            "key",
        )
        .expect("loads")
    }

    #[test]
    fn sni_picks_exact_then_wildcard_then_the_first_file_pair() {
        let store = CertStore::default();
        let default = cert(&["default.test"]);
        let shop = cert(&["shop.test"]);
        let wild = cert(&["*.api.test"]);
        let acme = cert(&["acme.test", "shop.test"]);
        store.set(Source::Acme, vec![acme.clone()]);
        store.set(
            Source::Files,
            vec![default.clone(), shop.clone(), wild.clone()],
        );
        let pick = |name: Option<&str>| store.choose(name).expect("a certificate");
        assert!(Arc::ptr_eq(&pick(Some("SHOP.test.")), &shop.key));
        assert!(Arc::ptr_eq(&pick(Some("v1.api.test")), &wild.key));
        assert!(Arc::ptr_eq(&pick(Some("acme.test")), &acme.key));
        assert!(Arc::ptr_eq(&pick(Some("a.v1.api.test")), &default.key));
        assert!(Arc::ptr_eq(&pick(None), &default.key));
        assert_eq!(store.infos()[0].names, ["default.test"]);
    }

    #[test]
    fn without_files_the_acme_certificate_is_the_default() {
        let store = CertStore::default();
        assert!(store.choose(Some("x.test")).is_none());
        let acme = cert(&["acme.test"]);
        store.set(Source::Acme, vec![acme.clone()]);
        assert!(Arc::ptr_eq(
            &store.choose(Some("x.test")).expect("default"),
            &acme.key
        ));
    }
}
