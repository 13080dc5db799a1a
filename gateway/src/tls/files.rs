//! The certificate files (`[[tls.certificates]]`): loaded at start, loaded
//! again on change; a pair that does not load keeps its previous version.

use std::path::PathBuf;

use crate::config::CertPaths;

use super::certs::{self, CertError, Certificate};

/// A pair that did not load.
#[derive(Debug)]
pub(crate) struct Refused {
    /// Its certificate file.
    pub(crate) cert: PathBuf,
    /// Why.
    pub(crate) error: CertError,
}

/// Load `pairs`, in order. A pair that does not load is left out, or, when
/// `previous` holds a pair loaded from the same certificate file, that
/// one keeps serving.
pub(crate) fn load(
    pairs: &[CertPaths],
    previous: &[Certificate],
) -> (Vec<Certificate>, Vec<Refused>) {
    let mut loaded = Vec::with_capacity(pairs.len());
    let mut refused = Vec::new();
    for pair in pairs {
        match certs::load_pair(&pair.cert, &pair.key) {
            Ok(cert) => loaded.push(cert),
            Err(error) => {
                let source = pair.cert.display().to_string();
                if let Some(old) = previous.iter().find(|c| c.info.source == source) {
                    loaded.push(old.clone());
                }
                refused.push(Refused {
                    cert: pair.cert.clone(),
                    error,
                });
            }
        }
    }
    (loaded, refused)
}

/// Whether two sets hold the same chains, in the same order.
pub(crate) fn same(a: &[Certificate], b: &[Certificate]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.key.cert == y.key.cert)
}

/// The files to watch: every certificate and key file's directory (so an
/// editor's rename and a Kubernetes Secret's `..data` symlink swap are seen).
pub(crate) fn directories(pairs: &[CertPaths]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for path in pairs.iter().flat_map(|p| [&p.cert, &p.key]) {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}
