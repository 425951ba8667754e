//! An agent's folder: `agents/<name>/AGENT.md` and the optional `agent.toml`.
use crate::queue::Tree;
use crate::task::parse_duration;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The built-in instructions of the `default` agent when it has no folder (and
/// what `init` writes into `agents/default/AGENT.md`).
pub const DEFAULT_INSTRUCTIONS: &str = "\
# The default agent

You are a careful software engineer working on one task in a git worktree.

- Change only the files the task lists as its targets.
- Keep the change small and focused; match the style of the code around it.
- When you are done, stop: git agentos commits, verifies and publishes your work.

Memory topics to search first (this file stays a thin boot loader; the knowledge
lives in `git agentos memory`): conventions, testing, this repository's name.
";

/// An agent that does not exist or whose folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("there is no agent `{name}`: no folder .agentos/agents/{name}/ (agents here: {list})")]
    Unknown { name: String, list: String },
    #[error("agent `{name}`: cannot read {}: {source}", path.display())]
    Instructions {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Settings { path: PathBuf, message: String },
    #[error("{}: field `{field}`: `{text}` is not a duration", path.display())]
    Duration {
        path: PathBuf,
        field: String,
        text: String,
    },
}

/// How the runner talks to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// Claude Code's stream-json: `system/init` confirms the start, `result` ends it.
    StreamJson,
    /// Anything else: started when spawned, judged by its exit code.
    Plain,
}

/// `agents/<name>/agent.toml`; every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentToml {
    /// The command line (program and arguments). Default: `claude`.
    pub command: Option<String>,
    pub model: Option<String>,
    /// Tools Claude Code may use without asking.
    pub allowed_tools: Option<Vec<String>>,
    /// Claude Code's `--permission-mode`. Default: acceptEdits.
    pub permission_mode: Option<String>,
    /// Wall-clock limit for the agent. Default: 30m.
    pub timeout: Option<String>,
    /// How long to wait for the agent to confirm it started. Default: 60s.
    pub start_timeout: Option<String>,
    pub output: Option<Output>,
    /// Hand the agent the memory server (`git agentos mcp`). Default: true.
    pub memory: Option<bool>,
}

/// Everything the runner needs to know about one agent.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub name: String,
    pub instructions: String,
    pub command: String,
    /// True when the command is Claude Code: the headless flags are added.
    pub is_claude: bool,
    pub model: Option<String>,
    pub allowed_tools: Vec<String>,
    pub permission_mode: String,
    /// Start the memory server for it (`--mcp-config` for Claude Code).
    pub memory: bool,
    pub timeout: Duration,
    pub start_timeout: Duration,
    pub output: Output,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);
/// Tools pre-approved by default: read-only ones. Edits need no approval under
/// `acceptEdits`, which confines them to the worktree; listing Write or Edit here
/// would approve them everywhere (measured: Claude Code 2.1.328 then wrote into
/// the main checkout), so they are deliberately absent.
pub const DEFAULT_TOOLS: [&str; 3] = ["Read", "Glob", "Grep"];

/// An agent other than `default` must have its folder; the error names the agents
/// that exist.
pub fn check_exists(tree: &Tree, name: &str) -> Result<(), AgentError> {
    if name == "default" || tree.agents_dir().join(name).is_dir() {
        Ok(())
    } else {
        Err(unknown_agent(tree, name))
    }
}

/// Load an agent by name. `command_override` is `AGENTOS_AGENT_CMD`.
pub fn load(
    tree: &Tree,
    name: &str,
    command_override: Option<&str>,
) -> Result<AgentConfig, AgentError> {
    check_exists(tree, name)?;
    let dir = tree.agents_dir().join(name);
    let instructions = match std::fs::read_to_string(dir.join("AGENT.md")) {
        Ok(text) => text,
        Err(_) if name == "default" => DEFAULT_INSTRUCTIONS.to_string(),
        Err(source) => {
            return Err(AgentError::Instructions {
                name: name.to_string(),
                path: dir.join("AGENT.md"),
                source,
            })
        }
    };
    let toml_path = dir.join("agent.toml");
    let file: AgentToml = match std::fs::read_to_string(&toml_path) {
        Ok(text) => toml::from_str(&text).map_err(|e| AgentError::Settings {
            path: toml_path.clone(),
            message: e.message().trim().to_string(),
        })?,
        Err(_) => AgentToml::default(),
    };
    let duration =
        |field: &str, value: &Option<String>, default: Duration| -> Result<Duration, AgentError> {
            match value {
                None => Ok(default),
                Some(text) => parse_duration(text)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| AgentError::Duration {
                        path: toml_path.clone(),
                        field: field.to_string(),
                        text: text.clone(),
                    }),
            }
        };
    let command = command_override
        .map(str::to_string)
        .or(file.command.clone())
        .unwrap_or_else(|| "claude".to_string());
    let is_claude = is_claude_command(&command);
    Ok(AgentConfig {
        name: name.to_string(),
        instructions,
        is_claude,
        model: file.model.clone(),
        allowed_tools: file
            .allowed_tools
            .clone()
            .unwrap_or_else(|| DEFAULT_TOOLS.iter().map(|s| s.to_string()).collect()),
        permission_mode: file
            .permission_mode
            .clone()
            .unwrap_or_else(|| "acceptEdits".to_string()),
        timeout: duration("timeout", &file.timeout, DEFAULT_TIMEOUT)?,
        start_timeout: duration("start_timeout", &file.start_timeout, DEFAULT_START_TIMEOUT)?,
        output: file.output.unwrap_or(Output::StreamJson),
        memory: file.memory.unwrap_or(true),
        command,
    })
}

/// The first word of the command line names Claude Code (`claude`, a path ending
/// in `/claude`, or the npm package's `claude.exe`).
pub fn is_claude_command(command: &str) -> bool {
    let first = command.split_whitespace().next().unwrap_or("");
    let name = Path::new(first)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    name == "claude" || name == "claude.exe"
}

/// The program of a command line when it cannot be found (a path that does not
/// exist, or a name on no PATH folder). None when found or not a simple word.
pub fn missing_program(command: &str) -> Option<String> {
    let first = command.split_whitespace().next()?;
    let program = first.trim_matches(|c| c == '\'' || c == '"');
    if program.is_empty() || program.contains(['$', '`', '=']) {
        return None;
    }
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    let found = if program.contains('/') {
        executable(Path::new(program))
    } else {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path).any(|dir| executable(&dir.join(program)))
    };
    (!found).then(|| program.to_string())
}

fn unknown_agent(tree: &Tree, name: &str) -> AgentError {
    let mut known: Vec<String> = std::fs::read_dir(tree.agents_dir())
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    known.sort();
    let list = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    AgentError::Unknown {
        name: name.to_string(),
        list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_claude() {
        assert!(is_claude_command("claude"));
        assert!(is_claude_command("/opt/node_modules/.bin/claude --debug"));
        assert!(is_claude_command("/x/claude-code/bin/claude.exe"));
        assert!(!is_claude_command("./fake-agent.sh"));
        assert!(!is_claude_command("claudette"));
    }
}
