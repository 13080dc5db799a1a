//! A local certificate authority for HTTPS on a developer's machine (as
//! mkcert and Caddy do): a CA key and certificate kept in a directory,
//! and leaf certificates it issues for `localhost` and friends. The
//! launcher's opt-in HTTPS mode uses it; tests use it as their PKI.
//!
//! Keys are ECDSA P-256. Nothing here is meant for production: the CA key
//! sits next to its certificate.

use std::io;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A CA that issues leaf certificates.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa").finish_non_exhaustive()
    }
}

/// A certificate and its key, both PEM.
#[derive(Debug, Clone)]
pub struct IssuedPair {
    /// The leaf certificate followed by nothing else (the CA is the root).
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

/// File names inside the CA directory.
const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca-key.pem";

impl LocalCa {
    /// A new CA named `name` (its subject's common name).
    pub fn generate(name: &str) -> Result<LocalCa, rcgen::Error> {
        let key = KeyPair::generate()?;
        let params = ca_params(name)?;
        let cert_pem = params.self_signed(&key)?.pem();
        Ok(LocalCa {
            issuer: Issuer::new(params, key),
            cert_pem,
        })
    }

    /// The CA in `dir` (`ca.pem`, `ca-key.pem`), made (and the directory
    /// created) on first use.
    pub fn load_or_create(dir: &Path, name: &str) -> io::Result<LocalCa> {
        let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
        let present = |p: &Path| std::fs::symlink_metadata(p).is_ok();
        if present(&cert_path) && present(&key_path) {
            let cert_pem = read_no_follow(&cert_path)?;
            let key = KeyPair::from_pem(&read_no_follow(&key_path)?).map_err(other)?;
            // Issuing needs the CA's subject and key only: the same name
            // gives the same subject as the stored certificate's.
            let issuer = Issuer::new(ca_params(name).map_err(other)?, key);
            return Ok(LocalCa { issuer, cert_pem });
        }
        std::fs::create_dir_all(dir)?;
        let ca = LocalCa::generate(name).map_err(other)?;
        write_private(&key_path, &ca.issuer.key().serialize_pem())?;
        write_public(&cert_path, &ca.cert_pem)?;
        Ok(ca)
    }

    /// The CA certificate (PEM), what clients are told to trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid
    /// from now for `days`.
    pub fn issue(&self, names: &[&str], days: u32) -> Result<IssuedPair, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_string()).collect::<Vec<_>>())?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = std::time::SystemTime::now();
        params.not_before = (now - std::time::Duration::from_secs(3600)).into();
        params.not_after = (now + std::time::Duration::from_secs(86_400 * u64::from(days))).into();
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The CA's certificate parameters: its subject is `name`.
fn ca_params(name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// Replace `path` with `text`, readable by its owner only (mode 0600 where
/// that means something), on every write, not only the first.
///
/// The text goes to a new file with a name of its own beside `path`
/// (created exclusively: `O_EXCL` never follows a symbolic link, and two
/// writers never share it), which is then renamed over `path`: a reader
/// sees the old file or the new one, never half of one, and a symbolic
/// link at `path` is replaced, never followed.
pub fn write_private(path: &Path, text: &str) -> io::Result<()> {
    write_replacing(path, text, 0o600)
}

/// [`write_private`] for a file anyone may read (a certificate): 0644.
pub(crate) fn write_public(path: &Path, text: &str) -> io::Result<()> {
    write_replacing(path, text, 0o644)
}

fn write_replacing(path: &Path, text: &str, mode: u32) -> io::Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        let mut file = options.open(&tmp)?;
        // The mode given at creation is masked by the umask: set it whole.
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        #[cfg(not(unix))]
        let _ = mode;
        io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The contents of the regular file `path`; a symbolic link there is
/// refused (`InvalidData`), not followed. A missing file is `NotFound`.
pub(crate) fn read_no_follow(path: &Path) -> io::Result<String> {
    let before = std::fs::symlink_metadata(path)?;
    if !before.file_type().is_file() {
        return Err(not_regular(path));
    }
    let mut file = std::fs::File::open(path)?;
    // The name may have been swapped for a link since: the file opened
    // must be the one looked at.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let opened = file.metadata()?;
        if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
            return Err(not_regular(path));
        }
    }
    let mut text = String::new();
    io::Read::read_to_string(&mut file, &mut text)?;
    Ok(text)
}

fn not_regular(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{} is not a regular file (a symbolic link is not followed)",
            path.display()
        ),
    )
}

/// The CA of `dir` and a `localhost` certificate from it (for `localhost`,
/// `127.0.0.1` and `::1`, 90 days), written as `localhost.pem` and
/// `localhost-key.pem`; returns (CA file, certificate file, key file).
pub fn localhost_certificate(dir: &Path) -> io::Result<(PathBuf, PathBuf, PathBuf)> {
    let ca = LocalCa::load_or_create(dir, "shop local development CA")?;
    let pair = ca
        .issue(&["localhost", "127.0.0.1", "::1"], 90)
        .map_err(other)?;
    let (cert, key) = (dir.join("localhost.pem"), dir.join("localhost-key.pem"));
    write_private(&key, &pair.key_pem)?;
    write_public(&cert, &pair.cert_pem)?;
    Ok((dir.join(CA_CERT), cert, key))
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn every_write_leaves_the_file_0600_even_one_that_was_readable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "old").expect("write");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private(&key, "new").expect("written");
        assert_eq!(mode(&key), 0o600);
        assert_eq!(read_no_follow(&key).expect("read"), "new");
        write_public(&dir.path().join("cert.pem"), "c").expect("written");
        assert_eq!(mode(&dir.path().join("cert.pem")), 0o644);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 2);
    }

    #[test]
    fn a_symbolic_link_is_replaced_on_write_and_refused_on_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "precious").expect("write");
        let key = dir.path().join("key.pem");
        symlink(&target, &key).expect("symlink");
        let err = read_no_follow(&key).expect_err("a link is not read");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        write_private(&key, "secret").expect("written");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "precious");
        assert!(
            std::fs::symlink_metadata(&key)
                .expect("exists")
                .file_type()
                .is_file()
        );
        assert_eq!(mode(&key), 0o600);
        // A dangling link is not created through either.
        let dangling = dir.path().join("dangling.pem");
        symlink(dir.path().join("nowhere"), &dangling).expect("symlink");
        write_private(&dangling, "k").expect("written");
        assert!(!dir.path().join("nowhere").exists());
    }

    #[test]
    fn a_ca_directory_whose_key_is_a_link_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        LocalCa::load_or_create(dir.path(), "t").expect("created");
        let key = dir.path().join(CA_KEY);
        let moved = dir.path().join("moved.pem");
        std::fs::rename(&key, &moved).expect("rename");
        symlink(&moved, &key).expect("symlink");
        assert!(LocalCa::load_or_create(dir.path(), "t").is_err());
    }
}
