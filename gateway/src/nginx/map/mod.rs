//! NGINX directives into the route table: the walk over `http`, `server`
//! and `location`, one verdict per directive (translated, needs no
//! translation, or untranslated with the reason), reported once at the
//! place it is written.

mod catalog;
mod cors;
mod directives;
mod error_pages;
mod global;
mod host_if;
mod listens;
mod location;
mod model;
mod route;
mod server;
mod upstream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::emit;
use super::parse::{Directive, Parsed};

pub use model::Table;

/// A directive the gateway cannot express: `FILE:LINE: directive: why`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untranslated {
    /// The file it is written in.
    pub file: PathBuf,
    /// Its line.
    pub line: u32,
    /// Its name.
    pub directive: String,
    /// Why it is not translated.
    pub why: String,
}

impl std::fmt::Display for Untranslated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.directive.escape_debug(),
            self.why
        )
    }
}

/// The untranslated directives, in file order of discovery.
pub struct Report<'a> {
    files: &'a [PathBuf],
    /// What was not translated.
    pub items: Vec<Untranslated>,
}

impl Report<'_> {
    fn file(&self, d: &Directive) -> PathBuf {
        self.files.get(d.file).cloned().unwrap_or_default()
    }

    /// `FILE:LINE` of `d`.
    pub fn place(&self, d: &Directive) -> String {
        format!("{}:{}", self.file(d).display(), d.pos.line)
    }

    /// Record `d` as untranslated; the comment to put in the table.
    pub fn untranslated(&mut self, d: &Directive, why: &str) -> String {
        let item = Untranslated {
            file: self.file(d),
            line: d.pos.line,
            directive: d.name.clone(),
            why: why.to_string(),
        };
        let comment = format!("UNTRANSLATED {item}");
        if !self.items.contains(&item) {
            self.items.push(item);
        }
        comment
    }
}

/// Where relative paths are resolved, as NGINX resolves them.
#[derive(Debug, Clone)]
pub struct Prefixes {
    /// `-p`: `root`, `alias` and log paths.
    pub prefix: PathBuf,
    /// The main file's directory: `include`, certificates, password files.
    pub conf_prefix: PathBuf,
}

impl Prefixes {
    /// `path` as NGINX would open it from the configuration directory.
    pub fn conf_path(&self, path: &str) -> String {
        if Path::new(path).is_absolute() {
            path.to_string()
        } else {
            self.conf_prefix.join(path).display().to_string()
        }
    }
}

/// The translation: the TOML text and what could not be translated.
#[derive(Debug)]
pub struct Translation {
    /// The route table.
    pub toml: String,
    /// The directives not translated.
    pub untranslated: Vec<Untranslated>,
}

/// Translate a parsed configuration.
pub fn translate(parsed: &Parsed, prefixes: &Prefixes) -> Translation {
    let mut report = Report {
        files: &parsed.files,
        items: Vec::new(),
    };
    let mut table = Table::default();
    let main_file = parsed.files.first().cloned().unwrap_or_default();
    table.comments.push(format!(
        "Route table translated by `gateway import-nginx` from {}.",
        main_file.display()
    ));
    table.comments.push(format!(
        "NGINX prefix (-p): {}; configuration prefix: {}.",
        prefixes.prefix.display(),
        prefixes.conf_prefix.display()
    ));
    for (file, pos, why) in &parsed.unreadable {
        let d = Directive {
            name: "include".into(),
            args: Vec::new(),
            block: None,
            file: *file,
            pos: *pos,
        };
        if why.contains("mime.types") {
            // The gateway has its own MIME table.
        } else if why.contains("letsencrypt/options-ssl-nginx.conf") {
            // Certbot's TLS tuning (protocols, ciphers, session cache): the
            // gateway's rustls settings apply, as for those directives.
            table.comments.push(format!(
                "{}: Certbot's TLS options need no translation (the gateway's own TLS settings apply)",
                report.place(&d)
            ));
        } else {
            let c = report.untranslated(&d, why);
            table.comments.push(c);
        }
    }
    // A `sites-available` file has no `http {}`: its top level is http's.
    let mut http_level: Vec<&Directive> = Vec::new();
    for d in &parsed.directives {
        match d.name.as_str() {
            "http" => http_level.extend(d.children()),
            "events" => {}
            "server" | "upstream" | "map" | "limit_req_zone" | "limit_conn_zone" => {
                http_level.push(d)
            }
            name if catalog::needs_no_translation(name) => {}
            "env" | "worker_priority" => {}
            name => {
                let c = report.untranslated(d, catalog::why_not(name));
                table.comments.push(c);
            }
        }
    }
    let http: Vec<Directive> = http_level.into_iter().cloned().collect();
    let mut level = global::http(&http, &mut table, &mut report);
    server::servers(
        &level.servers,
        &http,
        &level.names,
        &mut level.ctx,
        prefixes,
        &mut table,
        &mut report,
    );
    if table.routes.is_empty() && table.servers.is_empty() {
        placeholder_route(&mut table);
    }
    if !report.items.is_empty() {
        table.comments.push(format!(
            "{} directive(s) not translated: see the UNTRANSLATED comments.",
            report.items.len()
        ));
    }
    let toml = emit::render(&table.sections());
    Translation {
        toml,
        untranslated: report.items,
    }
}

/// A table needs a route: with nothing to proxy, one that answers 502 so
/// the table still passes `gateway check`.
fn placeholder_route(table: &mut Table) {
    table.upstreams.insert(
        "unreachable".into(),
        model::Upstream {
            comments: vec!["Nothing in the file proxies: a placeholder that answers 502.".into()],
            endpoints: vec![("http://127.0.0.1:9".into(), 1, false)],
            ..model::Upstream::default()
        },
    );
    table.routes.push(model::Route {
        comments: vec!["Placeholder: nothing translatable serves requests.".into()],
        prefix: "/".into(),
        upstream: "unreachable".into(),
        strip_prefix: false,
        ..model::Route::default()
    });
}

/// Upstream blocks by NGINX name -> table name.
pub(super) type UpstreamNames = BTreeMap<String, String>;
