//! The command boundary: the one error type every command returns, its mapping
//! to exit codes, and the conversions from the library's typed errors, where each
//! gets its hints once (as jj's `command_error.rs` does).
use crate::agent::config::AgentError;
use crate::config::ConfigError;
use crate::dispatch::DispatchError;
use crate::forge::ForgeError;
use crate::git::GitError;
use crate::hooks::templates::TemplateError;
use crate::hooks::HookError;
use crate::memory::mcp::McpError;
use crate::memory::MemoryError;
use crate::path_error::PathError;
use crate::pipeline::verify::VerifyError;
use crate::queue::QueueError;
use crate::task::TaskFileError;
use crate::workspace::WorkspaceError;
use std::fmt;

/// What kind of failure this is; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A task failed or verification rejected the change (exit 1).
    Failed,
    /// Bad usage or invalid input (exit 2).
    Invalid,
    /// The environment is not usable: not a git repo, lock held, agent CLI missing (exit 3).
    Environment,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failed => 1,
            ErrorKind::Invalid => 2,
            ErrorKind::Environment => 3,
        }
    }
}

/// An error with a message that says what happened and to what, plus hints on what to do.
#[derive(Debug)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
    pub hints: Vec<String>,
}

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CommandError {
            kind,
            message: message.into(),
            hints: Vec::new(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
    pub fn env(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Environment, message)
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
    /// The same error, its message prefixed (`--file x.md: …`).
    pub fn context(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for CommandError {}

pub type CmdResult<T = ()> = Result<T, CommandError>;

fn env(e: impl fmt::Display) -> CommandError {
    CommandError::env(e.to_string())
}

fn invalid(e: impl fmt::Display) -> CommandError {
    CommandError::invalid(e.to_string())
}

impl From<crate::clock::BadNow> for CommandError {
    fn from(e: crate::clock::BadNow) -> Self {
        invalid(e).hint("write it like 2026-01-31T12:00:00Z, or unset it")
    }
}

impl From<PathError> for CommandError {
    fn from(e: PathError) -> Self {
        env(e)
    }
}

impl From<GitError> for CommandError {
    fn from(e: GitError) -> Self {
        match e {
            GitError::NotARepository { .. } => env(e)
                .hint("run git agentos inside a git repository, or create one with `git init`"),
            GitError::Bare { .. } => {
                env(e).hint("git agentos needs a repository with a working tree")
            }
            GitError::NoHead { .. } => env(e).hint("make a first commit, or pass --base REV"),
            GitError::UnknownRevision { .. } => {
                invalid(e).hint("name a branch, tag or commit that exists in this repository")
            }
            GitError::NotACommit { .. } => invalid(e),
            GitError::Spawn(_) => env(e).hint("install git and put it on PATH"),
            GitError::Tampered { .. }
            | GitError::TamperedConfig { .. }
            | GitError::WrongHead { .. } => CommandError::failed(e.to_string())
                .hint("verify the task's branch instead: remove the worktree (`git agentos clean`) and verify again"),
            GitError::BranchTaken { .. } => invalid(e)
                .hint("rename or delete that branch (`git branch -m`), or choose another --id"),
            GitError::BranchGone { .. } => {
                env(e).hint("run the task again with `git agentos retry ID`")
            }
            _ => env(e),
        }
    }
}

impl From<QueueError> for CommandError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Io(e) => e.into(),
            QueueError::NoSuchTask { ref near, .. } => {
                let hint = near.as_ref().map(|n| format!("did you mean `{n}`?"));
                let mut err = invalid(&e);
                if let Some(hint) = hint {
                    err = err.hint(hint);
                }
                err.hint("`git agentos list` shows every task")
            }
            QueueError::NotAnId { .. } => invalid(e).hint(
                "ids use lower-case letters, digits, `.`, `_` and `-` (the task file's name without `.md`); `git agentos list` shows them",
            ),
            QueueError::Finish { ref rel, .. } => {
                let hint = format!("make {rel} writable (or free some disk space); the task waits in doing/ and the next `run` finishes it");
                env(e).hint(hint)
            }
            QueueError::IdTaken { .. } => invalid(e).hint(
                "ids are unique across todo/, doing/, review/, done/ and failed/: choose another --id",
            ),
            QueueError::Running { .. } => invalid(e).hint("cancel it first"),
            QueueError::TooLate { ref id } => {
                let hint = format!("its work is on branch agentos/{id}: close its pull request, or delete the branch, if you do not want it");
                CommandError::failed(e.to_string()).hint(hint)
            }
            QueueError::Done { .. } => {
                invalid(e).hint("to do more, queue a new task: git agentos add …")
            }
            QueueError::InReview { ref url, .. } => {
                let on = url
                    .as_deref()
                    .map_or_else(|| "its pull request".to_string(), |u| u.to_string());
                invalid(&e).hint(format!(
                    "comment `@agentos retry` on {on} for more revision rounds; `git agentos sync` makes a pass now"
                ))
            }
            QueueError::NotRetryable { .. } => invalid(e).hint(
                "this file was rejected as a copy of another task; give it a new id by renaming it",
            ),
            QueueError::Queued { .. } | QueueError::Finished { .. } | QueueError::Exists(_) => {
                invalid(e)
            }
        }
    }
}

impl From<WorkspaceError> for CommandError {
    fn from(e: WorkspaceError) -> Self {
        match e {
            WorkspaceError::Git(e) => e.into(),
            WorkspaceError::UnsafeState(problems) => {
                let mut message =
                    String::from("git agentos will not use this repository's .agentos/:");
                for p in &problems {
                    message.push_str(&format!("\n  {p}"));
                }
                let mut err = CommandError::env(message);
                for p in problems {
                    if !err.hints.contains(&p.fix) {
                        err = err.hint(p.fix);
                    }
                }
                err
            }
        }
    }
}

impl From<TaskFileError> for CommandError {
    fn from(e: TaskFileError) -> Self {
        invalid(e)
    }
}

impl From<AgentError> for CommandError {
    fn from(e: AgentError) -> Self {
        let hint = match &e {
            AgentError::Unknown { name, .. } => format!(
                "create .agentos/agents/{name}/AGENT.md, or set `agent` to one of the agents above"
            ),
            AgentError::Instructions { .. } => {
                "every agent folder holds an AGENT.md with its instructions".into()
            }
            AgentError::Settings { .. } => "fields: command, model, allowed_tools, permission_mode, timeout, start_timeout, output, memory, sandbox".into(),
            AgentError::Duration { .. } => "write it like \"90s\", \"30m\" or \"1h30m\"".into(),
        };
        invalid(e).hint(hint)
    }
}

impl From<ConfigError> for CommandError {
    fn from(e: ConfigError) -> Self {
        invalid(e).hint("settings: autostart = true|false, remote = \"origin\", [github] repo = \"owner/name\", timeout = 30, [friction] threshold = 3, [review] max_rounds = 3, mention = \"@agentos\", on_changes_requested, on_mention, on_failing_checks, on_conflict = true|false")
    }
}

impl From<TemplateError> for CommandError {
    fn from(e: TemplateError) -> Self {
        match &e {
            TemplateError::Missing { name, .. } => {
                let hint = format!("add .agentos/templates/{name}.md, or use one of those");
                invalid(e).hint(hint)
            }
            _ => invalid(e),
        }
    }
}

impl From<HookError> for CommandError {
    fn from(e: HookError) -> Self {
        match e {
            HookError::Git(e) => e.into(),
            HookError::Io(e) => e.into(),
            HookError::ChainTaken { .. } => invalid(&e).hint(
                "look at both files: keep the one you want as the hook, move the other away, then run hooks install again",
            ),
            HookError::BrokenBlock { .. } => invalid(&e).hint(
                "remove git agentos's lines from the hook by hand (from the `# >>> git agentos` line to the end of its block), or put the closing marker line back, then run the command again",
            ),
        }
    }
}

impl From<crate::fleet::FleetError> for CommandError {
    fn from(e: crate::fleet::FleetError) -> Self {
        use crate::fleet::FleetError;
        match e {
            FleetError::BadName(_) => invalid(e).hint("give another name with --name"),
            FleetError::NotInitialised(_) => {
                env(e).hint("run `git agentos init` in it first, then add it")
            }
            FleetError::Taken { .. } => invalid(e).hint(
                "give this one another name with --name, or `git agentos fleet rm` the other first",
            ),
            FleetError::Unknown(_) => invalid(e).hint("`git agentos fleet list` shows the names"),
            FleetError::NotALink(_) => invalid(e).hint("move it away by hand if it is not yours"),
            FleetError::Io { .. } => env(e),
        }
    }
}

impl From<MemoryError> for CommandError {
    fn from(e: MemoryError) -> Self {
        match e {
            MemoryError::NoHome => {
                env(e).hint("set AGENTOS_HOME to the folder that holds the memory vault")
            }
            MemoryError::Empty => {
                invalid(e).hint("give the text: `git agentos memory add \"what to remember\"`")
            }
            MemoryError::TooManyTags(_) => {
                invalid(e).hint("keep a note to a few tags that say what it is about")
            }
            MemoryError::TooLong(_) => invalid(e)
                .hint("keep notes short; link to a file in the repository for the long form"),
            MemoryError::BadTag(_) => {
                invalid(e).hint("a tag is one word of letters, digits, `-`, `_`, `.` or `/`")
            }
            MemoryError::BadId(_) | MemoryError::NoSuchNote { .. } => {
                invalid(e).hint("`git agentos memory list` shows the ids")
            }
            MemoryError::NoFreeId { .. } => env(e),
            MemoryError::Io(e) => e.into(),
        }
    }
}

impl From<McpError> for CommandError {
    fn from(e: McpError) -> Self {
        CommandError::env(format!("mcp: {e}"))
    }
}

impl From<VerifyError> for CommandError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Git(e) => e.into(),
            VerifyError::NoBase { .. } | VerifyError::Targets(_) => invalid(e),
        }
    }
}

impl From<ForgeError> for CommandError {
    fn from(e: ForgeError) -> Self {
        env(e)
    }
}

impl From<DispatchError> for CommandError {
    fn from(e: DispatchError) -> Self {
        match e {
            DispatchError::Queue(e) => e.into(),
            DispatchError::Git(e) => e.into(),
            DispatchError::Workspace(e) => e.into(),
            DispatchError::LockLost { .. } => env(e).hint(
                "start `git agentos run` (or `watch`) again; the lock lives in the git folder, where it is not mistaken for a stale file",
            ),
            DispatchError::LockHeld { .. } => env(e).hint(
                "only one `run` or `watch` may process a repository's queue; wait for it or stop it",
            ),
            DispatchError::AgentMissing { claude, .. } => {
                let mut err = env(e);
                if claude {
                    err = err.hint("install Claude Code: npm install -g @anthropic-ai/claude-code");
                }
                err.hint("or point AGENTOS_AGENT_CMD, or `command` in agent.toml, at the agent to run")
            }
            DispatchError::Signals(_) | DispatchError::Watch { .. } | DispatchError::Thread(_) => {
                env(e)
            }
        }
    }
}

impl From<crate::manual::ManualError> for CommandError {
    fn from(e: crate::manual::ManualError) -> Self {
        match e {
            crate::manual::ManualError::NoHome => {
                env(e).hint("set HOME, or pass --dir to say where the manual goes")
            }
            crate::manual::ManualError::Io(e) => env(e)
                .hint("pass --dir with a folder you can write to (it is where `man` will look)"),
        }
    }
}

impl From<crate::ops::AddError> for CommandError {
    fn from(e: crate::ops::AddError) -> Self {
        use crate::ops::AddError;
        match e {
            AddError::Invalid(_) | AddError::BadId { .. } => invalid(e),
            AddError::Agent(e) => CommandError::from(e).context("field `agent`"),
            AddError::Template(e) => e.into(),
            AddError::Git(e) => e.into(),
            AddError::Path(e) => e.into(),
            AddError::Queue(e) => e.into(),
        }
    }
}
