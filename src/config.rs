//! `.agentos/config.toml`: repository-wide settings.
use crate::error::{CmdResult, CommandError};
use crate::layout::Tree;
use serde::Deserialize;

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

    /// How long to wait for an answer from the GitHub API: `AGENTOS_GITHUB_TIMEOUT`
    /// (seconds), else `[github] timeout`, else 30 s.
    pub fn github_timeout(&self) -> std::time::Duration {
        std::env::var("AGENTOS_GITHUB_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .or(self.github.timeout)
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(std::time::Duration::from_secs_f64)
            .unwrap_or(std::time::Duration::from_secs(30))
    }
}

/// Read config.toml; a missing file is the defaults.
pub fn load(tree: &Tree) -> CmdResult<Config> {
    let path = tree.dir.join("config.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            CommandError::invalid(format!("{}: {}", path.display(), e.message().trim()))
                .hint("settings: autostart = true|false, remote = \"origin\", [github] repo = \"owner/name\", timeout = 30, [friction] threshold = 3")
        }),
        Err(_) => Ok(Config::default()),
    }
}
