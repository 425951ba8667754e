//! Where an agent's settings come from: `agent.toml`, which a repository
//! shares (and git tracks), and `local.toml` beside it, the person's own (never
//! tracked: `.agentos/.gitignore` keeps it out). What widens the sandbox is
//! taken only from a file git does not track.
use super::config::{sandbox_config, AgentError, AgentToml, SandboxConfig, SandboxMode};
use crate::local_settings::Layered;
use crate::queue::Tree;
use serde::Deserialize;
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
    if let Some(real) = linked("agent.toml") {
        return Err(linked_shared(dir, name, &real));
    }
    // Both files are read as every settings file is (crate::local_settings):
    // without following a link at any step, a regular UTF-8 file of at most 1 MiB.
    let layered = Layered::read(
        &tree.dir,
        &format!("agents/{name}"),
        "agent.toml",
        LOCAL_SETTINGS,
    )
    .map_err(|e| AgentError::Settings {
        path: e.path,
        message: e.message,
    })?;
    let parse = |table: &toml::Table, path: &Path| {
        AgentToml::deserialize(table.clone()).map_err(|e| AgentError::Settings {
            path: path.to_path_buf(),
            message: e.message().trim().to_string(),
        })
    };
    let mut file = parse(&layered.shared, &layered.shared_path)?;
    let local_exists = std::fs::symlink_metadata(&layered.local_path).is_ok();
    let local = if local_exists {
        Some(parse(&layered.local, &layered.local_path)?)
    } else {
        None
    };
    if local.is_some() && tracked(LOCAL_SETTINGS) {
        return Err(AgentError::Settings {
            path: dir.join(LOCAL_SETTINGS),
            message: format!(
                "git tracks this file, but its settings are yours alone (they may widen the \
                 sandbox): `git rm --cached .agentos/agents/{name}/{LOCAL_SETTINGS}` and \
                 commit that; `git agentos init` keeps it ignored"
            ),
        });
    }
    if let Some(sandbox) = &file.sandbox {
        let path = dir.join("agent.toml");
        let widening = widening(&sandbox_config(&path, Some(sandbox))?);
        if !widening.is_empty() && tracked("agent.toml") {
            return Err(widens(&path, name, "git tracks this file", &widening));
        }
    }
    let command_shared = file.command.is_some()
        && local.as_ref().is_none_or(|l| l.command.is_none())
        && tracked("agent.toml");
    if let Some(local) = local {
        file = file.overlaid(local);
    }
    Ok(Settings {
        file,
        command_shared,
    })
}

/// The refusal of settings that widen the boundary, from a file `how` says
/// anyone who can commit could write.
fn widens(path: &Path, name: &str, how: &str, widening: &[String]) -> AgentError {
    AgentError::Settings {
        path: path.to_path_buf(),
        message: format!(
            "{how}, and it widens the agent's sandbox ({}): anyone who can \
             commit here could decide what agents may write. Such settings are taken only \
             from .agentos/agents/{name}/{LOCAL_SETTINGS}, which git does not track: move \
             the ones you agree to there, and take them out of agent.toml",
            widening.join(", ")
        ),
    }
}

/// The refusal of an agent.toml reached through a link (at `real`): settings
/// are read only from files in the agent's own folder. One that widens the
/// boundary is named so.
fn linked_shared(dir: &Path, name: &str, real: &Path) -> AgentError {
    let path = dir.join("agent.toml");
    let how = format!("it is reached through a link (it is {})", real.display());
    let text = crate::nofollow::read_file(real, crate::local_settings::SETTINGS_CAP)
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let sandbox = toml::from_str::<AgentToml>(&text)
        .ok()
        .and_then(|f| f.sandbox);
    let widening = sandbox
        .as_ref()
        .and_then(|s| sandbox_config(&path, Some(s)).ok())
        .map(|c| widening(&c))
        .unwrap_or_default();
    if !widening.is_empty() {
        return widens(&path, name, &how, &widening);
    }
    AgentError::Settings {
        path,
        message: format!(
            "{how}, and git agentos follows no link in its own files: an agent's settings are \
             read only from files in .agentos/agents/{name}/ itself; put the file there"
        ),
    }
}

/// The person's own settings of an agent, beside its agent.toml; never tracked.
pub const LOCAL_SETTINGS: &str = crate::local_settings::AGENT_LOCAL;

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
