//! From a decoded URI to a file under the root, never outside it.
//!
//! The URI's segments are checked ([`super::uri::segments`]) and joined to
//! the root (or, for `alias`, the URI after the route's prefix to the
//! alias). The result is then resolved with `canonicalize` (every symlink
//! followed) and must still lie under the root's own canonical form, which
//! is taken per request so that a root that is itself a symlink (a
//! Kubernetes ConfigMap's `..data`) may be swapped. Its components below
//! the root are checked for hidden names again, so a symlink named
//! `public` pointing at `.git` does not serve the repository. The file is
//! then opened by its canonical path.

use std::path::{Path, PathBuf};

use crate::config::files::{FilesBase, FilesConfig};

use super::uri::{self, Refusal};

/// What a path turned out to be.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A regular file, by its canonical path.
    File(PathBuf),
    /// A directory.
    Dir,
    /// Nothing (or something that is neither, such as a socket).
    Missing,
    /// It resolves outside the root or to a hidden name: never served, and
    /// answered as if missing.
    Refused,
}

/// The files handler's view of its directory for one request.
#[derive(Debug)]
pub(crate) struct Base<'a> {
    config: &'a FilesConfig,
    /// The route's prefix, for `alias`.
    prefix: &'a str,
    /// The root (or alias) as configured.
    dir: &'a Path,
    /// Its canonical form, taken now.
    canonical: PathBuf,
}

impl<'a> Base<'a> {
    /// The base of `config` for a route matched by `prefix`; `None` when
    /// the directory is gone.
    pub(crate) fn open(config: &'a FilesConfig, prefix: &'a str) -> Option<Self> {
        let dir = config.base.dir();
        match std::fs::canonicalize(dir) {
            Ok(canonical) => Some(Base {
                config,
                prefix,
                dir,
                canonical,
            }),
            Err(e) => {
                tracing::warn!(root = %dir.display(), error = %e, "files: the root cannot be resolved");
                None
            }
        }
    }

    /// The path `decoded` (a `$uri`-like text) names, before symlinks are
    /// followed.
    pub(crate) fn path_of(&self, decoded: &str) -> Result<PathBuf, Refusal> {
        let relative = match &self.config.base {
            FilesBase::Root(_) => decoded,
            FilesBase::Alias(_) => {
                // NGINX: the prefix is replaced when the name starts with
                // it; otherwise the whole name goes under the alias.
                let trimmed = self.prefix.trim_end_matches('/');
                match decoded.strip_prefix(trimmed) {
                    Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
                    _ => decoded,
                }
            }
        };
        let relative = if relative.is_empty() { "/" } else { relative };
        let segments = uri::segments(relative, self.config.dotfiles)?;
        let mut path = self.dir.to_path_buf();
        for s in segments {
            path.push(s);
        }
        Ok(path)
    }

    /// What `path` (from [`Base::path_of`]) is, symlinks followed and the
    /// result kept under the root.
    pub(crate) fn lookup(&self, path: &Path) -> Lookup {
        let Ok(real) = std::fs::canonicalize(path) else {
            return Lookup::Missing;
        };
        let Ok(below) = real.strip_prefix(&self.canonical) else {
            tracing::warn!(path = %path.display(), target = %real.display(), "files: refused a path that leads outside the root");
            return Lookup::Refused;
        };
        if !self.config.dotfiles
            && below
                .components()
                .any(|c| c.as_os_str().to_str().is_none_or(uri::is_hidden))
        {
            return Lookup::Refused;
        }
        match std::fs::metadata(&real) {
            Ok(m) if m.is_file() => Lookup::File(real),
            Ok(m) if m.is_dir() => Lookup::Dir,
            _ => Lookup::Missing,
        }
    }

    /// [`Base::path_of`] then [`Base::lookup`] (a refused name is missing).
    pub(crate) fn find(&self, decoded: &str) -> Lookup {
        match self.path_of(decoded) {
            Ok(p) => self.lookup(&p),
            Err(_) => Lookup::Refused,
        }
    }
}
