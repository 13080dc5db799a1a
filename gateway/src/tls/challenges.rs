//! HTTP-01 challenge answers (RFC 8555 §8.3) that the plain listener
//! serves at `/.well-known/acme-challenge/<token>`: published by the ACME
//! issuer while an order is being validated, in memory and in the storage
//! directory, so that replicas sharing the storage answer too.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// The path prefix of HTTP-01 challenges.
pub(crate) const PREFIX: &str = "/.well-known/acme-challenge/";

/// Published challenge answers.
#[derive(Debug, Default)]
pub(crate) struct Challenges {
    tokens: Mutex<HashMap<String, String>>,
    /// `<storage>/http-01`, when ACME is on: answers other replicas published.
    shared_dir: Mutex<Option<PathBuf>>,
}

impl Challenges {
    /// Also answer from files in `dir` (named by token).
    pub(crate) fn share_through(&self, dir: PathBuf) {
        *self.shared_dir.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir);
    }

    /// Answer `token` with `key_authorization` until [`Challenges::remove`].
    pub(crate) fn publish(&self, token: &str, key_authorization: &str) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.insert(token.to_string(), key_authorization.to_string());
        if let Some(dir) = self.dir()
            && is_token(token)
        {
            let _ = std::fs::create_dir_all(&dir);
            // Public (it is what the CA fetches), written whole, through
            // no link.
            let _ = crate::local_ca::write_public(&dir.join(token), key_authorization);
        }
    }

    /// Stop answering `token`.
    pub(crate) fn remove(&self, token: &str) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.remove(token);
        if let Some(dir) = self.dir()
            && is_token(token)
        {
            let _ = std::fs::remove_file(dir.join(token));
        }
    }

    /// The answer for the request path `path`, if it is a published challenge.
    pub(crate) fn answer(&self, path: &str) -> Option<String> {
        let token = path.strip_prefix(PREFIX)?;
        if !is_token(token) {
            return None;
        }
        let known = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned();
        known.or_else(|| crate::local_ca::read_no_follow(&self.dir()?.join(token)).ok())
    }

    fn dir(&self) -> Option<PathBuf> {
        self.shared_dir
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A token is base64url (RFC 8555 §8.1): never a path.
fn is_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_token_is_answered_until_removed_and_paths_are_not_tokens() {
        let c = Challenges::default();
        c.publish("abc_-1", "abc_-1.thumb");
        assert_eq!(
            c.answer("/.well-known/acme-challenge/abc_-1").as_deref(),
            Some("abc_-1.thumb")
        );
        assert_eq!(c.answer("/.well-known/acme-challenge/../x"), None);
        assert_eq!(c.answer("/abc_-1"), None);
        c.remove("abc_-1");
        assert_eq!(c.answer("/.well-known/acme-challenge/abc_-1"), None);
    }

    #[test]
    fn another_replicas_answer_is_read_from_the_shared_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let other = Challenges::default();
        other.share_through(dir.path().to_path_buf());
        other.publish("tok", "tok.thumb");
        let this = Challenges::default();
        this.share_through(dir.path().to_path_buf());
        assert_eq!(
            this.answer("/.well-known/acme-challenge/tok").as_deref(),
            Some("tok.thumb")
        );
    }
}
