//! The files handler's decisions on a real directory tree: `root` and
//! `alias`, `index`, `try_files`, the static module's statuses, headers,
//! precompressed siblings, streaming; the hostile-path corpus and a
//! property test ([`hostile`]); the comparison with NGINX itself
//! ([`nginx`]).

mod behaviour;
mod hostile;
mod nginx;
pub(crate) mod nginx_harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method};

use crate::config::files::{Expires, FilesBase, FilesConfig, TryCandidate, TryFallback, TryFiles};

use super::{BodyPlan, FileRequest, Plan, plan};

/// A tree under a temporary directory:
/// ```text
/// outside/secret.txt           (beside the root: never served)
/// root/a.txt                   "hello world\n", mtime 2026-01-02 03:04:05
/// root/a.txt.gz, a.txt.br      precompressed siblings
/// root/index.html, root/dir/index.html, root/noindex/x.txt
/// root/.env, root/.git/config, root/.well-known/security.txt
/// root/big.bin                 200 000 bytes
/// root/escape -> ../outside, root/escape.txt -> ../outside/secret.txt
/// root/inside.txt -> a.txt, root/latest.html -> big.bin, root/public -> .git
/// ```
pub(super) struct Tree {
    pub(super) dir: tempfile::TempDir,
}

pub(super) const MTIME: u64 = 1_767_323_045;

impl Tree {
    pub(super) fn new() -> Tree {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("root");
        let w = |rel: &str, data: &[u8]| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, data).expect("write");
        };
        std::fs::create_dir_all(dir.path().join("outside")).expect("mkdir");
        std::fs::write(dir.path().join("outside/secret.txt"), "SECRET").expect("write");
        w("a.txt", b"hello world\n");
        w("a.txt.gz", b"GZ-BYTES");
        w("a.txt.br", b"BR-BYTES");
        w("index.html", b"<h1>idx</h1>\n");
        w("dir/index.html", b"dir idx\n");
        w("noindex/x.txt", b"x\n");
        w(".env", b"secret\n");
        w(".git/config", b"[core]\n");
        w(".well-known/security.txt", b"Contact: x\n");
        w("sp ace/f%20.txt", b"odd\n");
        w("caf\u{e9}.txt", b"cafe\n");
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        w("big.bin", &big);
        std::os::unix::fs::symlink("../outside", root.join("escape")).expect("symlink");
        std::os::unix::fs::symlink("../outside/secret.txt", root.join("escape.txt"))
            .expect("symlink");
        std::os::unix::fs::symlink("a.txt", root.join("inside.txt")).expect("symlink");
        std::os::unix::fs::symlink("big.bin", root.join("latest.html")).expect("symlink");
        std::os::unix::fs::symlink(".git", root.join("public")).expect("symlink");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(MTIME);
        for f in ["a.txt", "a.txt.gz", "a.txt.br"] {
            let file = std::fs::File::options()
                .write(true)
                .open(root.join(f))
                .expect("open");
            file.set_modified(t).expect("mtime");
        }
        Tree { dir }
    }

    pub(super) fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub(super) fn config(&self) -> FilesConfig {
        config_at(&self.root())
    }
}

pub(super) fn config_at(root: &Path) -> FilesConfig {
    FilesConfig {
        base: FilesBase::Root(root.to_path_buf()),
        index: vec!["index.html".into()],
        try_files: None,
        expires: Expires::Off,
        cache_control: None,
        precompressed: false,
        dotfiles: false,
        default_type: "application/octet-stream".into(),
    }
}

pub(super) fn spa(mut c: FilesConfig) -> FilesConfig {
    c.try_files = Some(TryFiles {
        candidates: vec![
            TryCandidate {
                template: "$uri".into(),
                dir: false,
            },
            TryCandidate {
                template: "$uri".into(),
                dir: true,
            },
        ],
        fallback: TryFallback::Uri("/index.html".into()),
    });
    c
}

/// The decision for `method path` with `headers` (name, value).
pub(super) fn run(
    config: &FilesConfig,
    method: &Method,
    path: &str,
    prefix: &str,
    headers: &[(&'static str, &str)],
) -> Plan {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.append(*k, HeaderValue::from_str(v).expect("value"));
    }
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let req = FileRequest {
        method,
        path,
        query,
        prefix,
        headers: &h,
    };
    plan(
        config,
        &req,
        UNIX_EPOCH + Duration::from_secs(1_796_649_162),
    )
}

/// A served plan's status, a header, and its body bytes.
pub(super) fn body_of(p: &mut Plan) -> Vec<u8> {
    use std::io::Read;
    match p {
        Plan::Serve(_, _, BodyPlan::Empty) => Vec::new(),
        Plan::Serve(_, _, BodyPlan::Bytes(b)) => b.to_vec(),
        Plan::Serve(_, _, BodyPlan::File(f, len)) => {
            let mut v = Vec::new();
            f.take(*len).read_to_end(&mut v).expect("read");
            v
        }
        other => panic!("not served: {other:?}"),
    }
}
