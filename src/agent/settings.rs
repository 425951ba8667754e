//! Where an agent's settings come from: `agent.toml`, which a repository
//! shares (and git tracks), and `local.toml` beside it, the person's own (never
//! tracked: `.agentos/.gitignore` keeps it out). What widens the sandbox is
//! taken only from a file git does not track.
use super::config::{sandbox_config, AgentError, AgentToml, SandboxConfig, SandboxMode};
use crate::queue::Tree;
use std::path::Path;

/// An agent's settings, and where its `command` came from.
#[derive(Debug, Default)]
pub struct Settings {
    pub file: AgentToml,
    /// True when `command` is the repository's: set in an agent.toml git
    /// tracks, and not in local.toml. Such a command runs only as an agent
    /// does (inside the sandbox); `doctor` does not run it.
    pub command_shared: bool,
}

/// An agent's settings: its `agent.toml`, with its `local.toml` (the person's
/// own, which git does not track) on top, field by field (`sandbox` key by key).
///
/// What widens the boundary (`sandbox = "off"`, `[sandbox] writable`,
/// `pass_env`) is taken only from a file git does not track: anyone who can
/// commit to the repository (or a repository cloned from anyone) writes the
/// tracked one. A tracked agent.toml that widens it is refused, and so is a
/// tracked local.toml, with what to do; and so is either reached through a
/// link (an agent's folder may be a link the repository commits, to a folder
/// whose files git tracks under other names).
pub fn settings_of(tree: &Tree, dir: &Path, name: &str) -> Result<Settings, AgentError> {
    let read = |file: &str| -> Result<Option<AgentToml>, AgentError> {
        let path = dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .map_err(|e| AgentError::Settings {
                    path,
                    message: e.message().trim().to_string(),
                }),
            Err(_) => Ok(None),
        }
    };
    let tracked = |file: &str| {
        let rel = Path::new(".agentos/agents").join(name).join(file);
        crate::git::is_tracked(&tree.repo_root, &rel)
    };
    // A file reached through a link (the agent's folder, or the file, a link a
    // repository can commit) is not where it seems: where it really is may be
    // tracked under another name. Its real path, when that differs.
    let linked = |file: &str| {
        let root = tree.repo_root.canonicalize().ok()?;
        let real = dir.join(file).canonicalize().ok()?;
        (real != root.join(".agentos/agents").join(name).join(file)).then_some(real)
    };
    let shared = read("agent.toml")?;
    let local = read(LOCAL_SETTINGS)?;
    if local.is_some() {
        if let Some(real) = linked(LOCAL_SETTINGS) {
            return Err(AgentError::Settings {
                path: dir.join(LOCAL_SETTINGS),
                message: format!(
                    "it is reached through a link (it is {}), and your own settings are read \
                     only from a file there: put the file itself at \
                     .agentos/agents/{name}/{LOCAL_SETTINGS}",
                    real.display()
                ),
            });
        }
        if tracked(LOCAL_SETTINGS) {
            return Err(AgentError::Settings {
                path: dir.join(LOCAL_SETTINGS),
                message: format!(
                    "git tracks this file, but its settings are yours alone (they may widen the \
                     sandbox): `git rm --cached .agentos/agents/{name}/{LOCAL_SETTINGS}` and \
                     commit that; `git agentos init` keeps it ignored"
                ),
            });
        }
    }
    let mut file = shared.unwrap_or_default();
    if let Some(sandbox) = &file.sandbox {
        let path = dir.join("agent.toml");
        let widening = widening(&sandbox_config(&path, Some(sandbox))?);
        let how = if widening.is_empty() {
            None
        } else if let Some(real) = linked("agent.toml") {
            Some(format!(
                "it is reached through a link (it is {})",
                real.display()
            ))
        } else if tracked("agent.toml") {
            Some("git tracks this file".to_string())
        } else {
            None
        };
        if let Some(how) = how {
            return Err(AgentError::Settings {
                path,
                message: format!(
                    "{how}, and it widens the agent's sandbox ({}): anyone who can \
                     commit here could decide what agents may write. Such settings are taken only \
                     from .agentos/agents/{name}/{LOCAL_SETTINGS}, which git does not track: move \
                     the ones you agree to there, and take them out of agent.toml",
                    widening.join(", ")
                ),
            });
        }
    }
    let command_shared = file.command.is_some()
        && local.as_ref().is_none_or(|l| l.command.is_none())
        && (linked("agent.toml").is_some() || tracked("agent.toml"));
    if let Some(local) = local {
        file = file.overlaid(local);
    }
    Ok(Settings {
        file,
        command_shared,
    })
}

/// The person's own settings of an agent, beside its agent.toml; never tracked.
pub const LOCAL_SETTINGS: &str = "local.toml";

/// What in these settings widens the boundary, named for a message.
fn widening(config: &SandboxConfig) -> Vec<String> {
    let mut out = Vec::new();
    if config.mode == SandboxMode::Off {
        out.push("`sandbox = \"off\"`".to_string());
    }
    if !config.writable.is_empty() {
        out.push("`[sandbox] writable`".to_string());
    }
    if !config.pass_env.is_empty() {
        out.push("`[sandbox] pass_env`".to_string());
    }
    out
}

impl AgentToml {
    /// These settings with `local`'s on top (each field it sets wins; two
    /// `[sandbox]` tables are merged key by key).
    fn overlaid(self, local: AgentToml) -> AgentToml {
        AgentToml {
            command: local.command.or(self.command),
            model: local.model.or(self.model),
            allowed_tools: local.allowed_tools.or(self.allowed_tools),
            permission_mode: local.permission_mode.or(self.permission_mode),
            timeout: local.timeout.or(self.timeout),
            start_timeout: local.start_timeout.or(self.start_timeout),
            output: local.output.or(self.output),
            memory: local.memory.or(self.memory),
            max_turns: local.max_turns.or(self.max_turns),
            max_cost_usd: local.max_cost_usd.or(self.max_cost_usd),
            sandbox: match (self.sandbox, local.sandbox) {
                // Two `[sandbox]` tables: key by key, local.toml's winning.
                (Some(toml::Value::Table(mut shared)), Some(toml::Value::Table(mine))) => {
                    shared.extend(mine);
                    Some(toml::Value::Table(shared))
                }
                (shared, mine) => mine.or(shared),
            },
        }
    }
}
