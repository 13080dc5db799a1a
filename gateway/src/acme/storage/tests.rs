//! The storage's files and its ordering lock.

use super::*;

fn storage(dir: &Path) -> Storage {
    Storage::new(&AcmeConfig {
        directory: "https://acme.test:14000/dir".into(),
        domains: vec!["shop.test".into()],
        contact: vec![],
        storage: dir.to_path_buf(),
        ca_file: None,
        retry_initial: Duration::from_secs(1),
    })
}

/// Make the lock at `path` look untouched for 11 minutes.
fn age(path: &Path) {
    let old = SystemTime::now() - Duration::from_secs(660);
    std::fs::File::open(path)
        .expect("lock")
        .set_modified(old)
        .expect("mtime");
    assert!(is_stale(path));
}

#[test]
fn certificates_are_kept_per_server_and_the_lock_is_exclusive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = storage(dir.path());
    s.prepare().expect("writable");
    assert!(s.load_certificate().is_none());
    s.save_certificate("CERT", "KEY").expect("saved");
    assert_eq!(s.load_certificate(), Some(("CERT".into(), "KEY".into())));
    assert!(
        dir.path()
            .join("certificates/acme.test_14000_dir/shop.test/cert.pem")
            .exists()
    );
    let held = s.try_lock().expect("io").expect("free");
    assert!(s.try_lock().expect("io").is_none());
    drop(held);
    assert!(s.try_lock().expect("io").is_some());
    assert!(s.load_account().expect("io").is_none());
}

#[test]
fn a_stale_lock_is_taken_over_and_its_old_holder_does_not_release_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = storage(dir.path());
    s.prepare().expect("writable");
    let old = s.try_lock().expect("io").expect("free");
    age(&s.lock_path());
    let new = s.try_lock().expect("io").expect("stale: taken over");
    assert!(!is_stale(&s.lock_path()));
    assert!(s.try_lock().expect("io").is_none());
    // The replica that hung wakes up and finishes: the lock is not its own.
    drop(old);
    assert!(s.lock_path().exists());
    assert!(s.try_lock().expect("io").is_none());
    drop(new);
    assert!(!s.lock_path().exists());
    // Nothing but the lock directory's own files is left behind.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| n == "http-01"), "{left:?}");
}

#[test]
fn racing_takers_of_a_stale_lock_end_with_one_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = storage(dir.path());
    s.prepare().expect("writable");
    for round in 0..30 {
        let stale = s.try_lock().expect("io").expect("free");
        age(&s.lock_path());
        // The dead replica's lock stays (it died without releasing).
        std::mem::forget(stale);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let winners: Vec<OrderLock> = std::thread::scope(|scope| {
            let takers: Vec<_> = (0..8)
                .map(|_| {
                    let (s, barrier) = (s.clone(), barrier.clone());
                    scope.spawn(move || {
                        barrier.wait();
                        s.try_lock().expect("io")
                    })
                })
                .collect();
            takers
                .into_iter()
                .filter_map(|t| t.join().expect("taker"))
                .collect()
        });
        assert!(
            winners.len() <= 1,
            "round {round}: {} holders",
            winners.len()
        );
        drop(winners);
        // Whoever won released it; a stale leftover is cleaned next time.
        if s.lock_path().exists() {
            age(&s.lock_path());
            drop(s.try_lock().expect("io").expect("stale again"));
        }
    }
}

#[tokio::test]
async fn a_held_lock_is_touched_and_a_lost_one_is_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = storage(dir.path());
    s.prepare().expect("writable");
    let held = s
        .try_lock_touching_every(Duration::from_millis(20))
        .expect("io")
        .expect("free");
    age(&s.lock_path());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!is_stale(&s.lock_path()), "the holder touches its lock");
    // Another replica's lock now (taken over): not touched, not removed.
    std::fs::write(s.lock_path(), "another pid 1").expect("replaced");
    age(&s.lock_path());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(is_stale(&s.lock_path()));
    drop(held);
    assert_eq!(
        std::fs::read_to_string(s.lock_path()).expect("kept"),
        "another pid 1"
    );
}

#[test]
fn concurrent_saves_never_share_a_temporary_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = storage(dir.path());
    s.prepare().expect("writable");
    std::thread::scope(|scope| {
        for t in 0..4 {
            let s = s.clone();
            scope.spawn(move || {
                for i in 0..50 {
                    s.save_certificate(&format!("CERT {t} {i}"), &format!("KEY {t} {i}"))
                        .expect("every save succeeds");
                }
            });
        }
    });
    let (cert, key) = s.load_certificate().expect("stored");
    assert!(cert.starts_with("CERT ") && key.starts_with("KEY "));
    let files = std::fs::read_dir(s.certificate_dir()).expect("dir").count();
    assert_eq!(files, 2, "temporary files left behind");
}

#[test]
fn a_stored_key_and_certificate_of_two_orders_are_refused_as_a_pair() {
    let ca = crate::local_ca::LocalCa::generate("t").expect("ca");
    let (a, b) = (
        ca.issue(&["shop.test"], 30).expect("a"),
        ca.issue(&["shop.test"], 30).expect("b"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let s = storage(dir.path());
    s.prepare().expect("writable");
    // Two orders interleaved: B's key, then A's certificate.
    s.save_certificate(&b.cert_pem, &b.key_pem).expect("saved");
    write_private(&s.certificate_dir().join("cert.pem"), &a.cert_pem).expect("saved");
    let (cert, key) = s.load_certificate().expect("stored");
    let err = crate::tls::certs::from_pem(cert.as_bytes(), key.as_bytes(), "acme", "acme key")
        .expect_err("a mismatched pair");
    assert!(err.to_string().contains("does not match"), "{err}");
}

#[cfg(unix)]
#[test]
fn stored_files_are_private_on_every_write_and_links_are_not_followed() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().expect("tempdir");
    let s = storage(dir.path());
    s.prepare().expect("writable");
    s.save_certificate("CERT", "KEY").expect("saved");
    let key = s.certificate_dir().join("key.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    s.save_certificate("CERT2", "KEY2").expect("saved");
    let mode = |p: &Path| std::fs::metadata(p).expect("file").permissions().mode() & 0o777;
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&s.certificate_dir().join("cert.pem")), 0o600);

    // A key that is a link elsewhere is not read, and a save replaces
    // the link instead of writing through it.
    let outside = dir.path().join("outside.pem");
    std::fs::write(&outside, "NOT A KEY OF OURS").expect("write");
    std::fs::remove_file(&key).expect("rm");
    symlink(&outside, &key).expect("symlink");
    assert!(s.load_certificate().is_none());
    s.save_certificate("CERT3", "KEY3").expect("saved");
    assert_eq!(
        std::fs::read_to_string(&outside).expect("read"),
        "NOT A KEY OF OURS"
    );
    assert_eq!(s.load_certificate(), Some(("CERT3".into(), "KEY3".into())));

    // The account file and the lock alike.
    let account = s.account_file();
    std::fs::create_dir_all(account.parent().expect("parent")).expect("dir");
    symlink(&outside, &account).expect("symlink");
    assert!(s.load_account().is_err());
    std::fs::remove_file(&account).expect("rm");
    symlink(&outside, s.lock_path()).expect("symlink");
    age(&outside);
    assert!(s.try_lock().expect("io").is_none());
    assert_eq!(
        std::fs::read_to_string(&outside).expect("read"),
        "NOT A KEY OF OURS"
    );
}
