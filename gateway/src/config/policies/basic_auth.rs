//! `basic_auth` (NGINX's `auth_basic` + `auth_basic_user_file`): an
//! htpasswd file of bcrypt or Argon2id hashes and the realm browsers show.
//! The file is read and every line checked here, so `gateway check`
//! refuses a weak hash with its line and how to rehash.
//!
//! ```toml
//! [routes.basic_auth]
//! realm = "Staff only"
//! file = "/etc/gateway/htpasswd"
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::super::error::{Checker, ConfigError};

/// The table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BasicAuthSection {
    /// The realm (`WWW-Authenticate: Basic realm="..."`), default
    /// `Restricted`.
    pub(crate) realm: Option<String>,
    /// The htpasswd file (absolute path).
    pub(crate) file: Option<String>,
}

/// A validated basic authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BasicAuthConfig {
    /// The realm.
    pub(crate) realm: String,
    /// The htpasswd file (re-read when it changes).
    pub(crate) file: PathBuf,
}

/// Validate a basic-auth table at `key` (`routes[1].basic_auth`).
pub(in crate::config) fn validate(
    c: &Checker<'_>,
    key: &str,
    s: &BasicAuthSection,
) -> Result<BasicAuthConfig, ConfigError> {
    let realm = s.realm.as_deref().unwrap_or("Restricted").trim();
    if realm.is_empty() {
        return Err(c.err(format!("{key}.realm"), "must not be empty"));
    }
    if realm.len() > 200
        || !realm
            .chars()
            .all(|ch| (ch == ' ' || ch.is_ascii_graphic()) && ch != '"' && ch != '\\')
    {
        return Err(c.err(
            format!("{key}.realm"),
            "at most 200 printable ASCII characters, without `\"` or `\\`",
        ));
    }
    let file_key = format!("{key}.file");
    let file = s.file.as_deref().map(str::trim).ok_or_else(|| {
        c.err(
            &file_key,
            "required: the htpasswd file (bcrypt entries: `htpasswd -cB FILE USER`)",
        )
    })?;
    let path = PathBuf::from(file);
    if !path.is_absolute() {
        return Err(c.err(&file_key, format!("`{file}` must be an absolute path")));
    }
    crate::policies::htpasswd::load(&path).map_err(|e| c.err(&file_key, e))?;
    Ok(BasicAuthConfig {
        realm: realm.to_string(),
        file: path,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::policies::htpasswd::tests::bcrypt_of;

    fn check(text: &str) -> Result<BasicAuthConfig, String> {
        let s: BasicAuthSection = toml::from_str(text).map_err(|e| e.to_string())?;
        let c = Checker {
            file: Path::new("gateway.toml"),
        };
        validate(&c, "routes[0].basic_auth", &s).map_err(|e| e.to_string())
    }

    #[test]
    fn accepted() {
        let dir = tempfile::tempdir().expect("dir");
        let f = dir.path().join("htpasswd");
        std::fs::write(&f, format!("alice:{}\n", bcrypt_of("pw"))).expect("write");
        let c = check(&format!(
            "realm = \"Staff only\"\nfile = \"{}\"",
            f.display()
        ))
        .expect("valid");
        assert_eq!(c.realm, "Staff only");
        assert_eq!(c.file, f);
        let c = check(&format!("file = \"{}\"", f.display())).expect("valid");
        assert_eq!(c.realm, "Restricted");
    }

    #[test]
    fn refused_with_the_key() {
        let dir = tempfile::tempdir().expect("dir");
        let f = dir.path().join("htpasswd");
        std::fs::write(&f, format!("alice:{}\n", bcrypt_of("pw"))).expect("write");
        let weak = dir.path().join("weak");
        std::fs::write(
            &weak,
            "# staff\nbob:$apr1$lZL6V/ci$eIMz/iKDkbtys/uU7LEK00\n",
        )
        .expect("write");
        let ok = f.display();
        let cases = [
            ("realm = \"\"".to_string(), "realm", "empty"),
            (
                format!("realm = \"a\\\"b\"\nfile = \"{ok}\""),
                "realm",
                "printable",
            ),
            (
                format!("realm = \"{}\"\nfile = \"{ok}\"", "r".repeat(201)),
                "realm",
                "200",
            ),
            (
                format!("realm = \"tab\\there\"\nfile = \"{ok}\""),
                "realm",
                "printable",
            ),
            (String::new(), "file", "required"),
            ("file = \"htpasswd\"".to_string(), "file", "absolute"),
            (
                format!("file = \"{}/missing\"", dir.path().display()),
                "file",
                "No such file",
            ),
            (
                format!("file = \"{}\"", weak.display()),
                "file",
                "weak:2: user `bob`: $apr1$ (Apache MD5) hashes are refused as too weak; rehash with `htpasswd -B",
            ),
        ];
        for (text, key, words) in cases {
            let e = check(&text).expect_err(&text);
            assert!(
                e.contains(&format!("gateway.toml: routes[0].basic_auth.{key}: ")),
                "{text}: {e}"
            );
            assert!(e.contains(words), "{text}: {e}");
        }
        assert!(
            check("files = \"x\"")
                .expect_err("unknown")
                .contains("files")
        );
    }
}
