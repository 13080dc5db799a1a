//! `Config::parse` never panics: on any text, on token soup that looks
//! like a route table, and on a valid table with one value, key or span of
//! text changed. It answers `Ok` or a precise refusal naming the file and
//! a position or a key. Bounded (256 cases each), part of the normal run.

use std::sync::LazyLock;

use proptest::prelude::*;

use super::*;

/// A valid table using every key, the base that mutations start from.
const FULL: &str = r#"
trusted_proxies = ["10.0.0.0/8", "::1"]
[listen]
public = "0.0.0.0:80"
admin = "127.0.0.1:9000"
workers = 2
[limits]
body = "1MiB"
headers = 32768
[timeouts]
header_read = "15s"
connect = 2
response = "30s"
upstream_idle = "1m"
shutdown_grace = "500ms"
[log]
format = "json"
level = "info"
access = true
[upstreams.users]
endpoints = ["http://users:8000", "http://[::1]:8001"]
resolve_interval = "5s"
connect_timeout = "1s"
max_idle_per_endpoint = 16
max_connections_per_endpoint = 8
balance = "round_robin"
[upstreams.users.health_check]
path = "/health"
interval = "2s"
timeout = "500ms"
healthy_threshold = 1
unhealthy_threshold = 2
[upstreams.users.outlier]
consecutive_connect_failures = 2
consecutive_5xx = 4
base_ejection = "1s"
max_ejection = "1m"
max_ejected_percent = 30
[[routes]]
prefix = "/users/"
upstream = "users"
strip_prefix = true
host = "upstream"
body_limit = "2MiB"
response_timeout = "10s"
[routes.retry]
attempts = 2
on_status = [502, 503]
budget_percent = 10
budget_min_per_second = 1
"#;

/// Pieces of route tables, valid and not, for token soup and insertions.
const TOKENS: &[&str] = &[
    "\n",
    " ",
    "=",
    "[",
    "]",
    "[[routes]]",
    "[upstreams.users]",
    "[upstreams.]",
    "[listen]",
    "[limits]",
    "[timeouts]",
    "prefix",
    "upstream",
    "endpoints",
    "body",
    "workers",
    "\"",
    "'''",
    "\"\"\"",
    "#",
    ",",
    ".",
    "\"/users/\"",
    "\"/\"",
    "\"users\"",
    "\"http://a:1\"",
    "[\"http://a:1\"]",
    "\"1MiB\"",
    "\"99999999999999999999GiB\"",
    "\"18446744073709551615h\"",
    "\"0s\"",
    "0",
    "-1",
    "1e400",
    "9223372036854775807",
    "18446744073709551616",
    "true",
    "{}",
    "\"é\"",
    "\u{1F600}",
    "\\u0000",
    "\"\\u0000\"",
    "\r\n",
    "\t",
    "inf",
    "nan",
];

/// Values to put in place of any value of [`FULL`]: mostly text (what
/// most keys hold, including control characters), some numbers at their
/// edges, and a few arrays and tables.
fn value() -> impl Strategy<Value = toml::Value> {
    let text = prop_oneof![
        prop::sample::select(vec![
            "",
            "0",
            "-1",
            "1 parsec",
            "0s",
            "18446744073709551615h",
            "99999999999999999999",
            "1GiB",
            "/",
            "/é/",
            "/a/../",
            "//",
            "/%2F/",
            "users",
            "nope",
            "http://",
            "http://a@b",
            "ftp://x",
            "http://[::1",
            "http://a:99999",
            "0.0.0.0:80",
            "127.0.0.1:0",
            "::/0",
            "10.0.0.0/33",
            "json",
        ])
        .prop_map(str::to_string),
        any::<String>(),
        control_text(),
    ];
    let leaf = prop_oneof![
        4 => text.prop_map(toml::Value::String),
        1 => prop_oneof![
            any::<i64>(),
            prop::sample::select(vec![0i64, -1, 1, i64::MAX, i64::MIN, 1025, 65536]),
        ]
        .prop_map(toml::Value::Integer),
        1 => any::<f64>().prop_map(toml::Value::Float),
        1 => any::<bool>().prop_map(toml::Value::Boolean),
    ];
    prop_oneof![
        6 => leaf.clone(),
        1 => prop::collection::vec(leaf.clone(), 0..3).prop_map(toml::Value::Array),
        1 => prop::collection::btree_map("[a-z_]{1,8}", leaf, 0..3)
            .prop_map(|m| toml::Value::Table(m.into_iter().collect())),
    ]
}

/// Short text with a control character (line breaks included) in it.
fn control_text() -> impl Strategy<Value = String> {
    "[a-z/:.]{0,4}[\\x00-\\x1f\\x7f][a-z/]{0,4}"
}

/// The keys of `table` down to its leaves (array elements by index).
fn leaf_paths(value: &toml::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                path.push(k.clone());
                leaf_paths(v, path, out);
                path.pop();
            }
        }
        toml::Value::Array(a) if !a.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                path.push(i.to_string());
                leaf_paths(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn slot<'v>(root: &'v mut toml::Value, path: &[String]) -> Option<&'v mut toml::Value> {
    path.iter().try_fold(root, |v, key| match v {
        toml::Value::Table(t) => t.get_mut(key),
        toml::Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

/// `FULL` with the value at one leaf replaced (or, with `remove`, its key
/// dropped from its table), written back as TOML.
fn with_value_changed(leaf: prop::sample::Index, new: toml::Value, remove: bool) -> String {
    static BASE: LazyLock<(toml::Value, Vec<Vec<String>>)> = LazyLock::new(|| {
        let root: toml::Value = toml::from_str(FULL).expect("FULL is TOML");
        let mut paths = Vec::new();
        leaf_paths(&root, &mut Vec::new(), &mut paths);
        (root, paths)
    });
    let mut root = BASE.0.clone();
    let path = leaf.get(&BASE.1);
    let (last, parent) = path.split_last().expect("leaves have a key");
    match slot(&mut root, parent) {
        Some(toml::Value::Table(t)) if remove => {
            t.remove(last);
        }
        Some(parent) => {
            if let Some(v) = slot(parent, std::slice::from_ref(last)) {
                *v = new;
            }
        }
        None => {}
    }
    toml::to_string(&root).expect("a TOML value writes")
}

/// `text` with `edit` applied at the character boundary nearest `at`.
fn edited(text: &str, at: prop::sample::Index, edit: &Edit) -> String {
    let mut cut = at.index(text.len() + 1);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let (head, tail) = text.split_at(cut);
    match edit {
        Edit::Insert(token) => format!("{head}{token}{tail}"),
        Edit::Delete(n) => {
            let tail: String = tail.chars().skip(*n).collect();
            format!("{head}{tail}")
        }
        Edit::DuplicateLine => {
            let line_start = head.rfind('\n').map_or(0, |i| i + 1);
            let line_end = tail.find('\n').map_or(text.len(), |i| cut + i);
            format!("{head}{}{tail}", &text[line_start..line_end])
        }
    }
}

/// One change to the text of a table.
#[derive(Debug, Clone)]
enum Edit {
    Insert(&'static str),
    Delete(usize),
    DuplicateLine,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        prop::sample::select(TOKENS.to_vec()).prop_map(Edit::Insert),
        (1..12usize).prop_map(Edit::Delete),
        Just(Edit::DuplicateLine),
    ]
}

/// The property: no panic; `Ok`, or a one-line refusal naming `FILE` and
/// a position (syntax) or a key (values).
fn parses_or_refuses_precisely(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(config) => {
            prop_assert!(
                serde_json::to_vec(&config).is_ok(),
                "/config cannot show it"
            );
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.starts_with("FILE: "), "{}", message);
            prop_assert!(!message.contains('\n'), "not one line: {}", message);
            // serde's message for an untagged enum names no expectation.
            prop_assert!(
                !message.contains("did not match any variant"),
                "{}",
                message
            );
            match &e {
                ConfigError::Syntax { message, .. } => {
                    prop_assert!(!message.trim().is_empty(), "empty syntax message")
                }
                ConfigError::Invalid { key, problem, .. } => {
                    prop_assert!(!key.is_empty() && !problem.is_empty(), "{}", message)
                }
                ConfigError::Read { .. } => prop_assert!(false, "nothing was read"),
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_parses_or_is_refused_precisely(text in any::<String>()) {
        parses_or_refuses_precisely(&text)?;
    }

    #[test]
    fn token_soup_parses_or_is_refused_precisely(
        tokens in prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..40)
    ) {
        parses_or_refuses_precisely(&tokens.concat())?;
    }

    #[test]
    fn a_valid_table_with_its_text_edited_parses_or_is_refused_precisely(
        edits in prop::collection::vec((any::<prop::sample::Index>(), edit()), 1..4)
    ) {
        let text = edits.iter().fold(FULL.to_string(), |t, (at, e)| edited(&t, *at, e));
        parses_or_refuses_precisely(&text)?;
    }

    #[test]
    fn a_valid_table_with_a_value_changed_parses_or_is_refused_precisely(
        leaf in any::<prop::sample::Index>(),
        new in value(),
        remove in prop::bool::weighted(0.2),
    ) {
        parses_or_refuses_precisely(&with_value_changed(leaf, new, remove))?;
    }

    #[test]
    fn a_value_with_control_characters_is_refused_on_one_line(
        leaf in any::<prop::sample::Index>(),
        text in control_text(),
    ) {
        parses_or_refuses_precisely(&with_value_changed(leaf, toml::Value::String(text), false))?;
    }
}

#[test]
fn the_base_table_is_valid() {
    accepted(FULL);
}
