//! `.agentos/config.toml`: repository-wide settings.
use crate::queue::Tree;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Start `watch` from the post-commit hook when no dispatcher runs.
    #[serde(default)]
    pub autostart: bool,
    /// The remote that task branches are pushed to (default `origin`).
    pub remote: Option<String>,
    #[serde(default)]
    pub github: GitHub,
    #[serde(default)]
    pub friction: Friction,
    #[serde(default)]
    pub budget: Budget,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// What the agents may spend in a local day (US dollars); once reached, the
    /// queue pauses until midnight.
    pub daily_usd: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Friction {
    /// Occurrences that make a kind of friction recurring (`friction --enqueue`).
    pub threshold: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHub {
    pub repo: Option<String>,
    /// Same as the top-level `remote`, which wins when both are set.
    pub remote: Option<String>,
    /// Seconds to wait for an answer from the API before retrying (default 30).
    pub timeout: Option<f64>,
}

impl Config {
    /// The remote task branches go to.
    pub fn remote(&self) -> String {
        self.remote
            .clone()
            .or_else(|| self.github.remote.clone())
            .unwrap_or_else(|| "origin".into())
    }
}

/// config.toml that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

/// Read config.toml; a missing file is the defaults.
pub fn load(tree: &Tree) -> Result<Config, ConfigError> {
    let path = tree.dir.join("config.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| ConfigError {
            path,
            message: e.message().trim().to_string(),
        }),
        Err(_) => Ok(Config::default()),
    }
}
