//! Every key of the files table refused and accepted.

use std::path::Path;

use super::*;

fn check(toml_text: &str) -> Result<FilesConfig, String> {
    let section: FilesSection = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    let c = Checker {
        file: Path::new("gateway.toml"),
    };
    validate(&c, "routes[0].files", &section).map_err(|e| e.to_string())
}

fn root() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn refused(body: &str, key: &str, words: &str) {
    let dir = root();
    let text = format!("root = \"{}\"\n{body}", dir.path().display());
    let err = check(&text).expect_err(body);
    assert!(
        err.contains(&format!("gateway.toml: {key}: ")),
        "{body}: {err}"
    );
    assert!(err.contains(words), "{body}: {err}");
}

#[test]
fn defaults() {
    let dir = root();
    let c = check(&format!("root = \"{}\"", dir.path().display())).expect("valid");
    assert_eq!(c.base, FilesBase::Root(dir.path().to_path_buf()));
    assert_eq!(c.index, vec!["index.html"]);
    assert_eq!(c.try_files, None);
    assert_eq!(c.expires, Expires::Off);
    assert_eq!(c.cache_control, None);
    assert!(!c.precompressed);
    assert!(!c.dotfiles);
    assert_eq!(c.default_type, "application/octet-stream");
}

#[test]
fn every_key_accepted() {
    let dir = root();
    let c = check(&format!(
        r#"alias = "{}"
index = ["index.htm", "default.html"]
try_files = ["$uri", "$uri/", "/fallback/$uri", "/index.html?from=$uri&$args"]
expires = "7d"
cache_control = "public, immutable"
precompressed = true
dotfiles = true
default_type = "text/plain"
"#,
        dir.path().display()
    ))
    .expect("valid");
    assert_eq!(c.base, FilesBase::Alias(dir.path().to_path_buf()));
    assert_eq!(c.index, vec!["index.htm", "default.html"]);
    let tf = c.try_files.expect("try_files");
    assert_eq!(
        tf.candidates,
        vec![
            TryCandidate {
                template: "$uri".into(),
                dir: false
            },
            TryCandidate {
                template: "$uri".into(),
                dir: true
            },
            TryCandidate {
                template: "/fallback/$uri".into(),
                dir: false
            },
        ]
    );
    assert_eq!(
        tf.fallback,
        TryFallback::Uri("/index.html?from=$uri&$args".into())
    );
    assert_eq!(c.expires, Expires::Seconds(7 * 86_400));
    assert_eq!(c.cache_control.as_deref(), Some("public, immutable"));
    assert!(c.precompressed && c.dotfiles);
    assert_eq!(c.default_type, "text/plain");
}

#[test]
fn fallbacks() {
    let dir = root();
    let with = |tf: &str| {
        check(&format!(
            "root = \"{}\"\ntry_files = {tf}",
            dir.path().display()
        ))
        .expect(tf)
        .try_files
        .expect("try_files")
        .fallback
    };
    assert_eq!(with(r#"["$uri", "=404"]"#), TryFallback::Status(404));
    assert_eq!(
        with(r#"["$uri", "@app"]"#),
        TryFallback::Named("app".into())
    );
    assert_eq!(
        with(r#"["$uri", "/index.html"]"#),
        TryFallback::Uri("/index.html".into())
    );
}

#[test]
fn base_refused() {
    let dir = root();
    let file = dir.path().join("f");
    std::fs::write(&file, "x").expect("write");
    let d = dir.path().display();
    let cases = [
        (String::new(), "routes[0].files.root", "required"),
        (
            format!("root = \"{d}\"\nalias = \"{d}\""),
            "routes[0].files.alias",
            "not both",
        ),
        (
            "root = \"relative/dir\"".into(),
            "routes[0].files.root",
            "absolute",
        ),
        (
            format!("root = \"{d}/missing\""),
            "routes[0].files.root",
            "No such file",
        ),
        (
            format!("alias = \"{}\"", file.display()),
            "routes[0].files.alias",
            "not a directory",
        ),
    ];
    for (text, key, words) in cases {
        let err = check(&text).expect_err(&text);
        assert!(err.contains(&format!("{key}: ")), "{text}: {err}");
        assert!(err.contains(words), "{text}: {err}");
    }
}

#[test]
fn index_refused() {
    for bad in ["", ".", "..", "a/b", "a\\\\b"] {
        refused(
            &format!("index = [\"ok.html\", \"{bad}\"]"),
            "routes[0].files.index[1]",
            "",
        );
    }
}

#[test]
fn try_files_refused() {
    let key = "routes[0].files.try_files";
    refused(r#"try_files = ["=404"]"#, key, "candidate and a fallback");
    refused(
        r#"try_files = ["index.html", "=404"]"#,
        &format!("{key}[0]"),
        "must start with `/` or `$uri`",
    );
    refused(
        r#"try_files = ["$uri", "$request_uri", "=404"]"#,
        &format!("{key}[1]"),
        "must start",
    );
    refused(
        r#"try_files = ["/$host/x", "=404"]"#,
        &format!("{key}[0]"),
        "`$host` is not known",
    );
    refused(
        r#"try_files = ["$uri?x=1", "=404"]"#,
        &format!("{key}[0]"),
        "only the fallback",
    );
    refused(
        r#"try_files = ["/../etc/$uri", "=404"]"#,
        &format!("{key}[0]"),
        "`..`",
    );
    refused(
        r#"try_files = ["$uri", "=99"]"#,
        &format!("{key}[1]"),
        "200 to 599",
    );
    refused(
        r#"try_files = ["$uri", "=abc"]"#,
        &format!("{key}[1]"),
        "200 to 599",
    );
    refused(
        r#"try_files = ["$uri", "@"]"#,
        &format!("{key}[1]"),
        "not a route name",
    );
    refused(
        r#"try_files = ["$uri", "@a b"]"#,
        &format!("{key}[1]"),
        "not a route name",
    );
    refused(
        r#"try_files = ["$uri", "/x?$cookie_a"]"#,
        &format!("{key}[1]"),
        "`$cookie_a` is not known",
    );
    refused(
        r#"try_files = ["$uri", "/a b"]"#,
        &format!("{key}[1]"),
        "cannot have",
    );
}

#[test]
fn expires_parsed_and_refused() {
    assert_eq!(parse_expires("off"), Ok(Expires::Off));
    assert_eq!(parse_expires("epoch"), Ok(Expires::Epoch));
    assert_eq!(parse_expires("max"), Ok(Expires::Max));
    assert_eq!(parse_expires("30"), Ok(Expires::Seconds(30)));
    assert_eq!(parse_expires("30s"), Ok(Expires::Seconds(30)));
    assert_eq!(parse_expires("5m"), Ok(Expires::Seconds(300)));
    assert_eq!(parse_expires("+12h"), Ok(Expires::Seconds(43_200)));
    assert_eq!(parse_expires("-1h"), Ok(Expires::Seconds(-3_600)));
    assert_eq!(parse_expires("2w"), Ok(Expires::Seconds(1_209_600)));
    assert_eq!(parse_expires("1M"), Ok(Expires::Seconds(2_592_000)));
    assert_eq!(parse_expires("1y"), Ok(Expires::Seconds(31_536_000)));
    for bad in ["", "soon", "1x", "10ms", "1.5h", "h"] {
        assert!(parse_expires(bad).is_err(), "{bad}");
    }
    assert!(parse_expires("100y").is_err_and(|e| e.contains("too long")));
    refused(
        r#"expires = "1 day""#,
        "routes[0].files.expires",
        "not `off`",
    );
}

#[test]
fn cache_control_and_type_refused() {
    refused(
        r#"cache_control = " ""#,
        "routes[0].files.cache_control",
        "empty",
    );
    refused(
        "cache_control = \"public\\nx\"",
        "routes[0].files.cache_control",
        "not a valid header value",
    );
    refused(
        "expires = \"1h\"\ncache_control = \"public, max-age=5\"",
        "routes[0].files.cache_control",
        "one place",
    );
    refused(
        r#"default_type = "text""#,
        "routes[0].files.default_type",
        "not a media type",
    );
    for key in ["precompressed", "dotfiles"] {
        let err = check(&format!("root = \"/\"\n{key} = \"yes\"")).expect_err(key);
        assert!(err.contains("invalid type"), "{key}: {err}");
    }
}

#[test]
fn unknown_key_refused() {
    let err = check("root = \"/\"\nautoindex = true").expect_err("unknown key");
    assert!(err.contains("autoindex"), "{err}");
}

#[test]
fn cache_control_without_expires_may_carry_max_age() {
    let dir = root();
    let c = check(&format!(
        "root = \"{}\"\ncache_control = \"max-age=60\"",
        dir.path().display()
    ))
    .expect("valid");
    assert_eq!(c.cache_control.as_deref(), Some("max-age=60"));
}
