//! `.agentos/config.toml`: repository-wide settings.
use crate::local_settings::{Layered, CONFIG_LOCAL};
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
    pub review: ReviewConfig,
    /// Settings read but not taken, and why (`autostart` from a tracked file).
    #[serde(skip)]
    pub refused: Vec<String>,
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

/// `[review]`: what starts a revision round on an open pull request, and the
/// bound on rounds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Rounds per task before a person must say `@agentos retry` (default 3).
    pub max_rounds: u32,
    /// The word a comment mentions to ask for a round (default `@agentos`).
    pub mention: String,
    /// A review requesting changes from someone with write access starts a round.
    pub on_changes_requested: bool,
    /// A comment mentioning `mention` from someone with write access does.
    pub on_mention: bool,
    /// A failing check run or commit status on the head commit does.
    pub on_failing_checks: bool,
    /// A conflict with the base branch does (the round merges the base in).
    pub on_conflict: bool,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            max_rounds: 3,
            mention: "@agentos".into(),
            on_changes_requested: true,
            on_mention: true,
            on_failing_checks: true,
            on_conflict: true,
        }
    }
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

/// Read config.toml and config.local.toml (see [`crate::local_settings`]: the
/// local file's fields win); a missing file is the defaults. `autostart = true`
/// counts only from a file git does not track: from a tracked config.toml it is
/// turned off and [`Config::refused`] says so.
pub fn load(tree: &Tree) -> Result<Config, ConfigError> {
    let layered =
        Layered::read(&tree.dir, "", "config.toml", CONFIG_LOCAL).map_err(|e| ConfigError {
            path: e.path,
            message: e.message,
        })?;
    let parse = |table: toml::Table, path: &PathBuf| -> Result<Config, ConfigError> {
        table.try_into().map_err(|e: toml::de::Error| ConfigError {
            path: path.clone(),
            message: e.message().trim().to_string(),
        })
    };
    parse(layered.shared.clone(), &layered.shared_path)?;
    parse(layered.local.clone(), &layered.local_path)?;
    let mut config = parse(layered.merged(), &layered.shared_path)?;
    if config.autostart {
        for field in layered.from_tracked(&tree.repo_root, &["autostart"]) {
            config.autostart = false;
            let shared = &layered.shared_path;
            config.refused.push(format!(
                "{}: {}",
                shared
                    .strip_prefix(&tree.repo_root)
                    .unwrap_or(shared)
                    .display(),
                crate::local_settings::refusal(&field, &layered.local_path, &tree.repo_root)
            ));
        }
    }
    Ok(config)
}
