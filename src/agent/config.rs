//! An agent's folder: `agents/<name>/AGENT.md` and the optional `agent.toml`.
use super::settings::LOCAL_SETTINGS;
use crate::local_settings::refusal;
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
    /// `sandbox = "on" | "off"`, or a `[sandbox]` table: `mode`, `writable`,
    /// `pass_env` (read by [`sandbox_config`]).
    pub sandbox: Option<toml::Value>,
    /// The default turn cap of this agent's tasks.
    pub max_turns: Option<u64>,
    /// The default spending cap (US dollars) of this agent's tasks.
    pub max_cost_usd: Option<f64>,
}

/// Whether the agent's commands run inside the kernel's write boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SandboxMode {
    /// Inside it (the default); an agent that can run commands does not start
    /// where the kernel offers no Landlock.
    #[default]
    On,
    /// Outside it, on purpose.
    Off,
}

/// The `[sandbox]` settings of an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxConfig {
    pub mode: SandboxMode,
    /// More folders (or files) the agent may write: caches a build needs.
    pub writable: Vec<PathBuf>,
    /// Variables passed to the agent although they would be scrubbed.
    pub pass_env: Vec<String>,
}

/// Everything the runner needs to know about one agent.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub name: String,
    pub instructions: String,
    pub command: String,
    /// True when the command is the repository's (from an agent.toml git
    /// tracks): it runs only as an agent does, never from `doctor`.
    pub command_shared: bool,
    /// True when the command is Claude Code: the headless flags are added.
    pub is_claude: bool,
    pub model: Option<String>,
    pub allowed_tools: Vec<String>,
    /// True when agent.toml does not list the tools: the defaults then gain
    /// `Bash` inside the sandbox (see [`AgentConfig::tools`]).
    pub default_tools: bool,
    pub permission_mode: String,
    /// Start the memory server for it (`--mcp-config` for Claude Code).
    pub memory: bool,
    pub timeout: Duration,
    pub start_timeout: Duration,
    pub output: Output,
    pub sandbox: SandboxConfig,
    /// The turn cap (the task's, else agent.toml's).
    pub max_turns: Option<u64>,
    /// The spending cap in US dollars (the task's, else agent.toml's).
    pub max_cost_usd: Option<f64>,
}

impl AgentConfig {
    /// The tools pre-approved for a run: agent.toml's list, or the defaults,
    /// which gain `Bash` when the run is sandboxed (the kernel keeps its
    /// commands inside the worktree, so it can build and run the tests).
    pub fn tools(&self, sandboxed: bool) -> Vec<String> {
        let mut tools = self.allowed_tools.clone();
        if self.default_tools && sandboxed && !tools.iter().any(|t| t == "Bash") {
            tools.push("Bash".into());
        }
        tools
    }

    /// How this agent can run commands, if it can (None: file tools only).
    pub fn runs_commands(&self, sandboxed: bool) -> Option<String> {
        if !self.is_claude {
            return Some(format!("its command `{}` is not Claude Code", self.command));
        }
        if self.permission_mode == "bypassPermissions" {
            return Some("`permission_mode = \"bypassPermissions\"` allows every tool".into());
        }
        self.tools(sandboxed)
            .into_iter()
            .find(|t| COMMAND_TOOLS.contains(&tool_name(t)))
            .map(|t| format!("`{t}` is among its allowed tools"))
    }
}

/// Claude Code's tools that run commands.
pub const COMMAND_TOOLS: [&str; 2] = ["Bash", "BashOutput"];

/// The tool of an `allowed_tools` entry: `Bash(npm test:*)` is `Bash`.
fn tool_name(entry: &str) -> &str {
    entry.split('(').next().unwrap_or(entry).trim()
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

/// Load an agent by name. `command_override` is `AGENTOS_AGENT_CMD`. A
/// `command` from a file git tracks is refused (see [`crate::local_settings`]).
pub fn load(
    tree: &Tree,
    name: &str,
    command_override: Option<&str>,
) -> Result<AgentConfig, AgentError> {
    load_checked(tree, name, command_override, true)
}

/// Load an agent's settings for what does not start it (its verify commands'
/// sandbox, `doctor`'s report): a `command` from a tracked file is not refused,
/// as it is not run; [`AgentConfig::command_shared`] says so.
pub fn load_settings(
    tree: &Tree,
    name: &str,
    command_override: Option<&str>,
) -> Result<AgentConfig, AgentError> {
    load_checked(tree, name, command_override, false)
}

fn load_checked(
    tree: &Tree,
    name: &str,
    command_override: Option<&str>,
    runs_command: bool,
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
    let settings = super::settings::settings_of(tree, &dir, name)?;
    let file = settings.file;
    let caps = crate::task::Task {
        max_turns: file.max_turns,
        max_cost_usd: file.max_cost_usd.map(crate::task::Usd),
        ..Default::default()
    };
    if let Err(problem) = crate::task::check_caps(&caps) {
        return Err(AgentError::Settings {
            path: toml_path,
            message: problem.to_string(),
        });
    }
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
    // A command from a committed file would run whatever the repository says.
    if command_override.is_none() && runs_command && settings.command_shared {
        return Err(AgentError::Settings {
            path: toml_path,
            message: format!(
                "{}, or set AGENTOS_AGENT_CMD",
                refusal("command", &dir.join(LOCAL_SETTINGS), &tree.repo_root)
            ),
        });
    }
    let command = command_override
        .map(str::to_string)
        .or(file.command.clone())
        .unwrap_or_else(|| "claude".to_string());
    let is_claude = is_claude_command(&command);
    Ok(AgentConfig {
        name: name.to_string(),
        command_shared: settings.command_shared && command_override.is_none(),
        instructions,
        is_claude,
        model: file.model.clone(),
        allowed_tools: file
            .allowed_tools
            .clone()
            .unwrap_or_else(|| DEFAULT_TOOLS.iter().map(|s| s.to_string()).collect()),
        default_tools: file.allowed_tools.is_none(),
        permission_mode: file
            .permission_mode
            .clone()
            .unwrap_or_else(|| "acceptEdits".to_string()),
        timeout: duration("timeout", &file.timeout, DEFAULT_TIMEOUT)?,
        start_timeout: duration("start_timeout", &file.start_timeout, DEFAULT_START_TIMEOUT)?,
        output: file.output.unwrap_or(Output::StreamJson),
        memory: file.memory.unwrap_or(true),
        sandbox: sandbox_config(&toml_path, file.sandbox.as_ref())?,
        max_turns: file.max_turns,
        max_cost_usd: file.max_cost_usd,
        command,
    })
}

/// Read `sandbox = "on" | "off"` or the `[sandbox]` table (`mode`, `writable`
/// with `~` expanded, `pass_env`).
pub fn sandbox_config(
    path: &Path,
    value: Option<&toml::Value>,
) -> Result<SandboxConfig, AgentError> {
    let bad = |message: String| AgentError::Settings {
        path: path.to_path_buf(),
        message,
    };
    let mode = |v: &toml::Value| match v.as_str() {
        Some("on") => Ok(SandboxMode::On),
        Some("off") => Ok(SandboxMode::Off),
        _ => Err(bad(format!(
            "`sandbox`: `{v}` is neither \"on\" nor \"off\""
        ))),
    };
    let strings = |key: &str, v: &toml::Value| -> Result<Vec<String>, AgentError> {
        v.as_array()
            .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect())
            .ok_or_else(|| bad(format!("`sandbox.{key}` must be a list of strings")))
    };
    let mut config = SandboxConfig::default();
    match value {
        None => {}
        Some(v @ toml::Value::String(_)) => config.mode = mode(v)?,
        Some(toml::Value::Table(table)) => {
            for (key, v) in table {
                match key.as_str() {
                    "mode" => config.mode = mode(v)?,
                    "writable" => {
                        for entry in strings(key, v)? {
                            config.writable.push(expand_home(&entry).ok_or_else(|| {
                                bad(format!("`sandbox.writable`: `{entry}` is not an absolute path; write it from `/` or `~/`"))
                            })?);
                        }
                    }
                    "pass_env" => config.pass_env = strings(key, v)?,
                    other => {
                        return Err(bad(format!(
                            "unknown field `sandbox.{other}` (fields: mode, writable, pass_env)"
                        )))
                    }
                }
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "`sandbox` must be \"on\", \"off\" or a table, not `{other}`"
            )))
        }
    }
    Ok(config)
}

/// `~` and `~/…` from HOME; an absolute path as it is; anything else is None.
fn expand_home(entry: &str) -> Option<PathBuf> {
    let home = || {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    };
    if entry == "~" {
        return home();
    }
    if let Some(rest) = entry.strip_prefix("~/") {
        return home().map(|h| h.join(rest));
    }
    let path = PathBuf::from(entry);
    path.is_absolute().then_some(path)
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
    fn sandbox_settings_in_both_forms() {
        let path = Path::new("agent.toml");
        let read = |text: &str| {
            let value: toml::Table = toml::from_str(text).expect("toml");
            sandbox_config(path, value.get("sandbox"))
        };
        assert_eq!(read("").expect("none").mode, SandboxMode::On);
        assert_eq!(
            read("sandbox = \"off\"").expect("off").mode,
            SandboxMode::Off
        );
        let home = std::env::var("HOME").expect("HOME");
        let table =
            read("[sandbox]\nwritable = [\"~/.npm\", \"/opt/cache\"]\npass_env = [\"NPM_TOKEN\"]")
                .expect("table");
        assert_eq!(
            table.writable,
            [
                PathBuf::from(&home).join(".npm"),
                PathBuf::from("/opt/cache")
            ]
        );
        assert_eq!(table.pass_env, ["NPM_TOKEN"]);
        for bad in [
            "sandbox = \"of\"",
            "sandbox = 1",
            "[sandbox]\nwritable = [\"cache\"]",
            "[sandbox]\nwritable = \"~/.npm\"",
            "[sandbox]\nwriteable = []",
        ] {
            let e = read(bad).expect_err(bad).to_string();
            assert!(
                e.starts_with("agent.toml: `sandbox") || e.contains("sandbox."),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn default_tools_gain_bash_only_inside_the_sandbox() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        let agent = load(&tree, "default", None).expect("default");
        assert_eq!(agent.tools(false), ["Read", "Glob", "Grep"]);
        assert_eq!(agent.tools(true), ["Read", "Glob", "Grep", "Bash"]);
        assert!(agent.runs_commands(false).is_none());
        assert!(agent.runs_commands(true).is_some());
        let other = load(&tree, "default", Some("./my-agent.sh")).expect("override");
        assert!(other.runs_commands(false).is_some());
    }

    #[test]
    fn recognises_claude() {
        assert!(is_claude_command("claude"));
        assert!(is_claude_command("/opt/node_modules/.bin/claude --debug"));
        assert!(is_claude_command("/x/claude-code/bin/claude.exe"));
        assert!(!is_claude_command("./fake-agent.sh"));
        assert!(!is_claude_command("claudette"));
    }
}
