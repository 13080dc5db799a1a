//! The certificates being served, chosen by SNI: an index rebuilt whenever
//! a source (the certificate files, ACME) hands in a new set, read without
//! a lock by every handshake.
//!
//! A client whose SNI names no served certificate (or that sends none)
//! gets the default one, unless `tls.unknown_sni = "refuse"`: then its
//! handshake fails. The names served are also the ones the plain
//! listener's redirect to https accepts in `Host`
//! ([`CertStore::serves`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
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

impl Index {
    /// The certificate whose SANs name `name`: exact, else a wildcard one
    /// level up (case and a trailing dot ignored).
    fn named(&self, name: &str) -> Option<&Arc<CertifiedKey>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(key) = self.exact.get(&name) {
            return Some(key);
        }
        let (_, parent) = name.split_once('.')?;
        self.wildcard.get(parent)
    }
}

/// Every certificate the HTTPS listener serves.
#[derive(Default)]
pub(crate) struct CertStore {
    sources: Mutex<BTreeMap<Source, Vec<Certificate>>>,
    index: ArcSwap<Index>,
    /// `tls.unknown_sni = "refuse"`.
    refuse_unknown: AtomicBool,
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

    /// Refuse handshakes whose SNI names no served certificate (`true`),
    /// or give them the default one (`false`, the default).
    pub(crate) fn refuse_unknown_names(&self, refuse: bool) {
        self.refuse_unknown.store(refuse, Ordering::Relaxed);
    }

    /// Whether a served certificate names `host` (a host name without a
    /// port): the names the redirect to https accepts.
    pub(crate) fn serves(&self, host: &str) -> bool {
        self.index.load().named(host).is_some()
    }

    /// The default certificate's first name that is not a wildcard: where
    /// the redirect sends a `Host` that no certificate names.
    pub(crate) fn primary_name(&self) -> Option<String> {
        let index = self.index.load();
        let first = index.infos.first()?;
        first.names.iter().find(|n| !n.starts_with("*.")).cloned()
    }

    /// The certificate for `server_name`: an exact SAN, else a wildcard
    /// one level up, else the default (unless unknown names are refused).
    fn choose(&self, server_name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let index = self.index.load();
        if let Some(key) = server_name.and_then(|name| index.named(name)) {
            return Some(Arc::clone(key));
        }
        if self.refuse_unknown.load(Ordering::Relaxed) {
            return None;
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
    fn unknown_names_can_be_refused_and_the_served_names_are_known() {
        let store = CertStore::default();
        let shop = cert(&["shop.test", "*.api.test"]);
        let wild = cert(&["*.only.test"]);
        store.set(Source::Files, vec![shop.clone(), wild]);
        assert!(store.serves("Shop.Test."));
        assert!(store.serves("v1.api.test"));
        assert!(store.serves("x.only.test"));
        assert!(!store.serves("evil.test"));
        assert!(!store.serves("a.v1.api.test"));
        assert!(!store.serves("127.0.0.1"));
        assert_eq!(store.primary_name().as_deref(), Some("shop.test"));
        assert!(store.choose(Some("evil.test")).is_some());
        store.refuse_unknown_names(true);
        assert!(store.choose(Some("evil.test")).is_none());
        assert!(store.choose(None).is_none());
        assert!(Arc::ptr_eq(
            &store.choose(Some("shop.test")).expect("named"),
            &shop.key
        ));
        store.refuse_unknown_names(false);
        assert!(store.choose(None).is_some());

        let only_wildcards = CertStore::default();
        only_wildcards.set(Source::Files, vec![cert(&["*.only.test"])]);
        assert_eq!(only_wildcards.primary_name(), None);
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
