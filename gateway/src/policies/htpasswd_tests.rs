//! htpasswd parsing: accepted and refused schemes, reloads.

use std::path::Path;
use std::time::Duration;

use super::*;

pub(crate) fn bcrypt_of(password: &str) -> String {
    bcrypt::hash(password, 4).expect("bcrypt")
}

pub(crate) fn argon2id_of(password: &str) -> String {
    use argon2::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2")
        .to_string()
}

fn file() -> &'static Path {
    Path::new("/etc/gateway/htpasswd")
}

#[test]
fn accepts_bcrypt_and_argon2id() {
    let b = bcrypt_of("pw-b");
    let y = b.replacen("$2b$", "$2y$", 1);
    let a = argon2id_of("pw-a");
    let text = format!("# admins\n\nalice:{b}\nyann:{y}:a comment\r\narno:{a}\n");
    let users = parse(&text, file()).expect("valid");
    assert_eq!(users.len(), 3);
    assert!(users["alice"].verify(b"pw-b"));
    assert!(!users["alice"].verify(b"pw-x"));
    assert!(users["yann"].verify(b"pw-b"));
    assert!(users["arno"].verify(b"pw-a"));
    assert!(!users["arno"].verify(b"pw-b"));
    assert_eq!(users["arno"].text(), a);
}

#[test]
fn refuses_weak_schemes_with_the_line_and_advice() {
    let cases = [
        ("bob:$apr1$lZL6V/ci$eIMz/iKDkbtys/uU7LEK00", "$apr1$"),
        ("bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "{SHA}"),
        ("bob:{SSHA}abcdefghijklmnop", "{SHA}"),
        ("bob:rl0uEEvY/vEAc", "crypt DES"),
        ("bob:$1$abc$abcdefghijklmnopqrstuv", "MD5-crypt"),
        ("bob:$6$salt$hash", "SHA-crypt"),
        ("bob:{PLAIN}password", "plain text"),
        ("bob:password", "plain text or an unknown scheme"),
        ("bob:", "plain text or an unknown scheme"),
        (
            "bob:$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
            "only the Argon2id",
        ),
        ("bob:$2y$10$tooshort", "not a valid bcrypt"),
        ("bob:$argon2id$nonsense", "not a valid Argon2id"),
    ];
    for (line, words) in cases {
        let text = format!("# first\n{line}\n");
        let e = parse(&text, file()).expect_err(line);
        assert_eq!(e.line, 2, "{line}");
        assert!(e.message.contains(words), "{line}: {}", e.message);
        assert!(e.message.contains("bob"), "{line}: {}", e.message);
        if !line.starts_with("bob:$argon2id") {
            assert!(
                e.message.contains("htpasswd -B /etc/gateway/htpasswd bob"),
                "{line}: {}",
                e.message
            );
        }
    }
}

#[test]
fn refuses_malformed_lines() {
    let b = bcrypt_of("x");
    for (text, words) in [
        ("nocolon".to_string(), "user:hash"),
        (format!(":{b}"), "user name"),
        (format!("a:{b}\na:{b}"), "listed twice"),
    ] {
        let e = parse(&text, file()).expect_err(&text);
        assert!(e.message.contains(words), "{text}: {}", e.message);
    }
}

#[test]
fn load_names_the_file_and_line() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path().join("htpasswd");
    std::fs::write(&p, "ok:$apr1$x$y\n").expect("write");
    let e = load(&p).expect_err("weak");
    assert!(e.starts_with(&format!("{}:1: ", p.display())), "{e}");
    std::fs::write(&p, "# nobody\n").expect("write");
    assert!(load(&p).expect_err("empty").contains("has no users"));
    assert!(load(&dir.path().join("missing")).is_err());
}

#[test]
fn reloads_when_the_file_changes_and_keeps_users_on_a_bad_edit() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path().join("htpasswd");
    std::fs::write(&p, format!("alice:{}\n", bcrypt_of("a"))).expect("write");
    let h = Htpasswd::open(&p, Duration::ZERO);
    assert!(h.users().contains_key("alice"));
    // A new version (another size) is seen.
    std::fs::write(
        &p,
        format!("bob:{}\ncarol:{}\n", bcrypt_of("b"), bcrypt_of("c")),
    )
    .expect("write");
    let users = h.users();
    assert!(users.contains_key("bob") && !users.contains_key("alice"));
    // A bad edit keeps the previous users.
    std::fs::write(&p, "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n").expect("write");
    assert!(h.users().contains_key("bob"));
    // A symlink swap (a Kubernetes Secret) is seen too.
    let other = dir.path().join("other");
    std::fs::write(&other, format!("dave:{}\n", bcrypt_of("d"))).expect("write");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&p, &link).expect("symlink");
    let h = Htpasswd::open(&link, Duration::ZERO);
    assert!(h.users().is_empty(), "the bad file loads no users");
    let tmp = dir.path().join("link.tmp");
    std::os::unix::fs::symlink(&other, &tmp).expect("symlink");
    std::fs::rename(&tmp, &link).expect("swap");
    assert!(h.users().contains_key("dave"));
}

#[test]
fn checks_at_most_every_interval() {
    let dir = tempfile::tempdir().expect("dir");
    let p = dir.path().join("htpasswd");
    std::fs::write(&p, format!("alice:{}\n", bcrypt_of("a"))).expect("write");
    let h = Htpasswd::open(&p, Duration::from_secs(3600));
    std::fs::write(&p, format!("bob:{}\n", bcrypt_of("b"))).expect("write");
    assert!(h.users().contains_key("alice"));
}
