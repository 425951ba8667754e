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
    #[serde(default)]
    pub github: GitHub,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHub {
    pub repo: Option<String>,
    pub remote: Option<String>,
}

/// Read config.toml; a missing file is the defaults.
pub fn load(tree: &Tree) -> CmdResult<Config> {
    let path = tree.dir.join("config.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            CommandError::invalid(format!("{}: {}", path.display(), e.message().trim()))
                .hint("settings: autostart = true|false, [github] repo = \"owner/name\", remote = \"origin\"")
        }),
        Err(_) => Ok(Config::default()),
    }
}
