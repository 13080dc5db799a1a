//! Layered configuration: built-in defaults, then an optional TOML file, then
//! environment variables (with a `.env` file read for local runs).
//!
//! Every setting has a flat, conventional name (`DATABASE_URL`, `LISTEN_ADDR`,
//! ...). The same name is the key in the TOML file (lower case) and the
//! environment variable (upper case), so an error can always name the variable
//! an operator has to fix.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// A configuration that stops start-up: one line naming the variable and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting is missing or has an invalid value.
    #[error("invalid configuration: {variable}: {message}")]
    Invalid {
        /// The environment variable (upper case) an operator sets to fix it.
        variable: String,
        /// What is wrong with it.
        message: String,
    },
    /// The configuration file could not be read or parsed.
    #[error("invalid configuration file {path}: {message}")]
    File {
        /// The file that was read.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl ConfigError {
    /// A setting named by its environment variable is invalid.
    pub fn invalid(variable: impl Into<String>, message: impl fmt::Display) -> Self {
        Self::Invalid {
            variable: variable.into(),
            message: message.to_string(),
        }
    }
}

/// Where configuration comes from, in increasing precedence after the
/// built-in defaults (which are the `#[serde(default)]` values of the struct).
/// `Debug` names the overrides but not their values (they carry database
/// URLs, passwords and keys).
#[derive(Clone, Default)]
pub struct Sources {
    /// Optional TOML file; a path that does not exist is an error.
    pub file: Option<PathBuf>,
    /// Read `.env` from the working directory into the environment first.
    pub dotenv: bool,
    /// Extra key/value pairs applied last (used by the launcher and tests
    /// instead of mutating the process environment).
    pub overrides: Vec<(String, String)>,
    /// Ignore the process environment entirely (tests).
    pub ignore_env: bool,
}

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let overrides: Vec<(&str, &str)> = self
            .overrides
            .iter()
            .map(|(key, _)| (key.as_str(), "[redacted]"))
            .collect();
        f.debug_struct("Sources")
            .field("file", &self.file)
            .field("dotenv", &self.dotenv)
            .field("overrides", &overrides)
            .field("ignore_env", &self.ignore_env)
            .finish()
    }
}

impl Sources {
    /// The usual sources for a binary: `.env`, the file named by `file_var`
    /// (e.g. `USERS_CONFIG`) if set, then the environment.
    pub fn from_env(file_var: &str) -> Self {
        Self {
            file: std::env::var_os(file_var).map(PathBuf::from),
            dotenv: true,
            overrides: Vec::new(),
            ignore_env: false,
        }
    }

    /// Only the given key/value pairs on top of the defaults (tests, launcher).
    pub fn only(
        overrides: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        Self {
            file: None,
            dotenv: false,
            overrides: overrides
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ignore_env: true,
        }
    }
}

/// Load a typed configuration from `sources`.
///
/// The struct's field names are the lower-case forms of the environment
/// variables. Unknown environment variables are ignored; unknown keys in the
/// TOML file are refused when the struct uses `deny_unknown_fields`.
pub fn load<T: DeserializeOwned>(sources: &Sources) -> Result<T, ConfigError> {
    if sources.dotenv {
        // A missing .env is normal (containers inject the environment).
        let _ = dotenvy::dotenv();
    }
    let mut figment = Figment::new();
    if let Some(path) = &sources.file {
        check_file(path)?;
        figment = figment.merge(Toml::file_exact(path));
    }
    if !sources.ignore_env {
        figment = figment.merge(Env::raw().map(|k| k.as_str().to_ascii_lowercase().into()));
    }
    for (key, value) in &sources.overrides {
        // Parse like the environment provider does, so "10" is a number here too.
        let value: figment::value::Value = value.parse().unwrap_or_else(|never| match never {});
        figment = figment.merge(Serialized::default(&key.to_ascii_lowercase(), value));
    }
    figment.extract::<T>().map_err(|e| {
        let culprit =
            if e.path.is_empty() && !matches!(e.kind, figment::error::Kind::MissingField(_)) {
                find_culprit::<T>(&figment, &e)
            } else {
                None
            };
        let mut err = to_config_error(e, sources);
        if let (Some(key), ConfigError::Invalid { variable, .. }) = (culprit, &mut err) {
            *variable = key.to_ascii_uppercase();
        }
        err
    })
}

/// With `#[serde(flatten)]`, serde loses the key an error is about. Find it
/// by removing one key at a time: the one whose removal changes the error.
fn find_culprit<T: DeserializeOwned>(
    figment: &Figment,
    original: &figment::Error,
) -> Option<String> {
    use figment::Provider;
    let data = figment.data().ok()?;
    let dict: figment::value::Dict = data.into_values().flatten().collect();
    let original = original.kind.to_string();
    dict.keys().find_map(|key| {
        let mut reduced = dict.clone();
        reduced.remove(key);
        let changed = match Figment::from(Serialized::defaults(reduced)).extract::<T>() {
            Ok(_) => true,
            Err(e) => e.kind.to_string() != original,
        };
        changed.then(|| key.clone())
    })
}

fn check_file(path: &Path) -> Result<(), ConfigError> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

fn to_config_error(err: figment::Error, sources: &Sources) -> ConfigError {
    // figment reports the first error; its `path` is the key being read.
    let variable = if err.path.is_empty() {
        match &err.kind {
            figment::error::Kind::MissingField(name) => name.to_ascii_uppercase(),
            _ => String::from("(configuration)"),
        }
    } else {
        let mut path = err.path.join("_").to_ascii_uppercase();
        if let figment::error::Kind::MissingField(name) = &err.kind {
            path = format!("{path}_{}", name.to_ascii_uppercase());
        }
        path
    };
    let message = match &err.kind {
        figment::error::Kind::MissingField(_) => "is required but not set".to_string(),
        kind => kind.to_string(),
    };
    if let (Some(path), Some(meta)) = (&sources.file, err.metadata.as_ref())
        && meta.name.contains("TOML")
        && !matches!(err.kind, figment::error::Kind::MissingField(_))
    {
        return ConfigError::File {
            path: path.clone(),
            message: format!("{}: {message}", variable.to_ascii_lowercase()),
        };
    }
    ConfigError::Invalid { variable, message }
}

/// A secret setting (password, key, database URL with credentials).
///
/// `Debug` and `Display` print `[redacted]`, so a secret never reaches a log
/// line or an error message; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// Log output format (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, coloured when writing to a terminal.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Deserialize a duration given in whole seconds (`30`) or with a unit
/// (`"500ms"`, `"30s"`, `"5m"`, `"1h"`).
pub fn duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<std::time::Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Secs(s) => Ok(std::time::Duration::from_secs(s)),
        Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

/// A quantity written as digits and an optional unit (`"30s"`, `"1 MiB"`,
/// `"4096"`): the number and the trimmed unit, or `None` when it does not
/// start with a number that fits in a `u64`. Durations here and sizes in
/// the gateway's route table share it.
pub fn number_and_unit(text: &str) -> Option<(u64, &str)> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    Some((digits.parse().ok()?, unit.trim()))
}

/// Parse `"500ms"`, `"30s"`, `"5m"`, `"1h"` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (n, unit) = number_and_unit(text)
        .ok_or_else(|| format!("`{text}` is not a duration (expected e.g. 500ms, 30s, 5m, 1h)"))?;
    let d = match unit {
        "" | "s" => std::time::Duration::from_secs(n),
        "ms" => std::time::Duration::from_millis(n),
        "m" => std::time::Duration::from_secs(n.saturating_mul(60)),
        "h" => std::time::Duration::from_secs(n.saturating_mul(3600)),
        other => {
            return Err(format!(
                "unknown duration unit `{other}` in `{text}` (use ms, s, m or h)"
            ));
        }
    };
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_debug_names_overrides_but_hides_their_values() {
        let sources = Sources::only([
            ("DATABASE_URL", "postgres://u:s3cret@h/db"),
            ("ADMIN_PASSWORD", "hunter2hunter2"),
        ]);
        let printed = format!("{sources:?}");
        assert!(printed.contains("DATABASE_URL"), "{printed}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(!printed.contains("hunter2hunter2"), "{printed}");
    }
    use std::time::Duration;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        database_url: Secret,
        #[serde(default = "default_port")]
        port: u16,
        #[serde(default, deserialize_with = "duration")]
        timeout: Duration,
    }

    fn default_port() -> u16 {
        8000
    }

    #[test]
    fn defaults_apply_when_unset() {
        let s: Sample = load(&Sources::only([("DATABASE_URL", "sqlite::memory:")])).expect("valid");
        assert_eq!(s.port, 8000);
        assert_eq!(s.database_url.expose(), "sqlite::memory:");
    }

    #[test]
    fn missing_required_setting_names_the_variable() {
        let err =
            load::<Sample>(&Sources::only(Vec::<(String, String)>::new())).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "invalid configuration: DATABASE_URL: is required but not set"
        );
    }

    #[test]
    fn invalid_value_names_the_variable_and_problem() {
        let err = load::<Sample>(&Sources::only([("DATABASE_URL", "x"), ("PORT", "eighty")]))
            .expect_err("invalid");
        let text = err.to_string();
        assert!(text.starts_with("invalid configuration: PORT: "), "{text}");
        assert!(text.contains("eighty"), "{text}");
    }

    #[test]
    fn file_then_overrides_take_precedence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "database_url = \"from-file\"\nport = 9\n").expect("write");
        let mut sources = Sources::only([("PORT", "10")]);
        sources.file = Some(path);
        let s: Sample = load(&sources).expect("valid");
        assert_eq!(s.database_url.expose(), "from-file");
        assert_eq!(s.port, 10);
    }

    #[test]
    fn unknown_key_in_file_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "database_url = \"x\"\nprot = 9\n").expect("write");
        let mut sources = Sources::only(Vec::<(String, String)>::new());
        sources.file = Some(path.clone());
        let err = load::<Sample>(&sources).expect_err("unknown key");
        let text = err.to_string();
        assert!(text.contains("prot"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
    }

    #[test]
    fn missing_file_is_refused() {
        let mut sources = Sources::only([("DATABASE_URL", "x")]);
        sources.file = Some(PathBuf::from("/nonexistent/shop.toml"));
        let err = load::<Sample>(&sources).expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/shop.toml"));
    }

    #[test]
    fn durations_accept_units_and_refuse_garbage() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("fast").is_err());
        let ok: Sample = load(&Sources::only([
            ("DATABASE_URL", "x"),
            ("TIMEOUT", "250ms"),
        ]))
        .expect("ok");
        assert_eq!(ok.timeout, Duration::from_millis(250));
        let err = load::<Sample>(&Sources::only([("DATABASE_URL", "x"), ("TIMEOUT", "soon")]))
            .expect_err("bad duration");
        assert!(
            err.to_string()
                .starts_with("invalid configuration: TIMEOUT:"),
            "{err}"
        );
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_display() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
    }
}
