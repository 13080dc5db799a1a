//! The workspace's shape, checked mechanically for every crate: no import
//! circle between a crate's top-level modules (folders), none between its
//! files either (a child using its parent's items excepted: that is how a
//! folder's `mod.rs` shares its types; and sea-orm entities, whose
//! relations name each other by design), and no source file over 500
//! lines. It lives in the launcher because the launcher is the one crate
//! that sees the whole workspace.
//!
//! Edges are read from the source text: every `crate::a::b` path (also
//! inside `use crate::{...}` groups) and every `super::` path, resolved to
//! the longest known module, comments left out. (A parent's relative
//! `use child::X` is not read: a parent using its children cannot close a
//! circle that a child's use of its parent does not, and those are
//! allowed.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 500;

/// Every crate of the workspace (its folder).
const CRATES: [&str; 5] = ["common", "gateway", "users", "products", "launcher"];

/// Module path (`proxy::forward`; the crate root is empty) -> file, for
/// the crate in folder `krate`.
fn modules(krate: &str) -> BTreeMap<String, PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src");
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let mut segments: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segments.last().is_some_and(|s| s == "mod" || s == "lib") {
                segments.pop();
            }
            // The binary is its own crate.
            if segments == ["main"] {
                continue;
            }
            found.insert(segments.join("::"), path);
        }
    }
    found
}

/// The code of `text` without `//` comments (doc links are no imports).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a `use` group expands to: `a::{b, c::d}` -> `a::b`, `a::c::d`.
fn expand(prefix: &str, group: &str, out: &mut Vec<String>) {
    let mut depth = 0;
    let mut start = 0;
    let mut items = Vec::new();
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        match item.find('{') {
            Some(open) => {
                let head = item[..open].trim_end_matches("::");
                let inner = &item[open + 1..item.rfind('}').unwrap()];
                expand(&join(prefix, head), inner, out);
            }
            None => out.push(join(prefix, item.split(" as ").next().unwrap().trim())),
        }
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}::{b}"),
    }
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(p, _)| p)
}

/// The module paths `module`'s code refers to, absolute (`a::b::Item`).
fn references(module: &str, text: &str) -> Vec<String> {
    let text = code(text);
    let mut paths = Vec::new();
    for (anchor, base) in [
        ("crate::", String::new()),
        ("super::", parent(module).to_string()),
    ] {
        let mut rest = text.as_str();
        while let Some(i) = rest.find(anchor) {
            let before = rest[..i].chars().last();
            rest = &rest[i + anchor.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut base = base.clone();
            let mut tail = rest;
            // `super::super::x`
            while let Some(t) = tail.strip_prefix("super::") {
                base = parent(&base).to_string();
                tail = t;
            }
            if let Some(group) = tail.strip_prefix('{') {
                let end = matching_brace(group);
                expand(&base, &group[..end], &mut paths);
            } else {
                let end = tail
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(tail.len());
                let path = tail[..end].trim_end_matches(':');
                if let Some(open) = path
                    .strip_suffix("::")
                    .filter(|_| tail[end..].starts_with('{'))
                {
                    let group = &tail[end + 1..];
                    expand(
                        &join(&base, open),
                        &group[..matching_brace(group)],
                        &mut paths,
                    );
                } else {
                    paths.push(join(&base, path));
                }
            }
        }
    }
    paths
}

fn matching_brace(group: &str) -> usize {
    let mut depth = 1;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    group.len()
}

/// The longest known module `path` lies in.
fn resolve<'m>(path: &str, modules: &'m BTreeMap<String, PathBuf>) -> &'m str {
    let mut candidate = path;
    loop {
        if let Some((name, _)) = modules.get_key_value(candidate) {
            return name;
        }
        if candidate.is_empty() {
            return modules.get_key_value("").map(|(k, _)| k.as_str()).unwrap();
        }
        candidate = parent(candidate);
    }
}

/// Module -> the modules it refers to (self excluded), in crate `krate`.
fn file_edges(krate: &str) -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules(krate);
    let mut edges = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        // An inline test module's `super::` is the file's own module.
        let (main, tests) = text
            .split_once("#[cfg(test)]\nmod tests {")
            .unwrap_or((&text, ""));
        let mut refs = references(module, main);
        refs.extend(references(&join(module, "tests"), tests));
        let targets: BTreeSet<String> = refs
            .iter()
            .map(|p| resolve(p, &modules).to_string())
            .filter(|t| t != module)
            .collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

/// A circle in `edges`, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or("")
}

fn show(cycle: &[String]) -> String {
    cycle
        .iter()
        .map(|m| if m.is_empty() { "crate" } else { m })
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[test]
fn top_level_modules_import_each_other_without_a_circle() {
    for krate in CRATES {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, targets) in file_edges(krate) {
            let entry = edges.entry(top(&from).to_string()).or_default();
            entry.extend(
                targets
                    .iter()
                    .map(|t| top(t).to_string())
                    .filter(|t| t != top(&from)),
            );
        }
        if let Some(cycle) = find_cycle(&edges) {
            panic!("import circle between modules of {krate}: {}", show(&cycle));
        }
    }
}

#[test]
fn the_checker_reads_the_gateway_layering() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in file_edges("gateway") {
        edges
            .entry(top(&from).to_string())
            .or_default()
            .extend(targets.iter().map(|t| top(t).to_string()));
    }
    assert!(edges["proxy"].contains("upstreams"), "{edges:?}");
    assert!(edges["listen"].contains("proxy"), "{edges:?}");
}

#[test]
fn files_import_each_other_without_a_circle() {
    for krate in CRATES {
        let mut edges = file_edges(krate);
        for (from, targets) in &mut edges {
            // A child using its ancestors' items is how a folder shares its
            // types; sea-orm entities declare their relations both ways.
            targets.retain(|t| {
                !(t.is_empty()
                    || from.starts_with(&format!("{t}::"))
                    || (from.starts_with("entity::") && t.starts_with("entity::")))
            });
        }
        if let Some(cycle) = find_cycle(&edges) {
            panic!("import circle between files of {krate}: {}", show(&cycle));
        }
    }
}

#[test]
fn the_checker_sees_use_groups_and_super_paths() {
    let refs = references(
        "proxy::forward",
        "use crate::{a::{b, c::D}, e as f};\nuse super::ctx::X; // crate::comment\nlet x = crate::g::h(1);",
    );
    assert_eq!(refs, ["a::b", "a::c::D", "e", "g::h", "proxy::ctx::X"]);
}

#[test]
fn no_source_file_is_over_500_lines() {
    let long: Vec<String> = CRATES
        .iter()
        .flat_map(|krate| modules(krate).into_values())
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}
