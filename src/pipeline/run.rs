//! What every step of a claimed task works with ([`TaskRun`]), and the one
//! outcome every step returns ([`StepOutcome`]).
use crate::agent::config::AgentConfig;
use crate::agent::runner::Launcher;
use crate::forge::{ForgeEnv, LazyForge};
use crate::path_error::PathError;
use crate::progress::Progress;
use crate::queue::{self, Entry, QueueError, Record};
use crate::schedule::limits::Limit;
use crate::task::Task;
use crate::workspace::Workspace;
use std::path::PathBuf;

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Done: the worker journals it and goes on to the next step.
    Done,
    /// The task fails, with this reason.
    Failed(String),
    /// The dispatcher was asked to stop (signal number); the next run resumes.
    Interrupted(i32),
    /// The agent ran into a usage or rate limit: the task goes back to todo/
    /// with no attempt spent, and the queue pauses.
    Paused(Limit),
}

/// What holds for every task of one dispatcher.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Keep each task's worktree after it finishes.
    pub keep: bool,
    /// Do not publish: the verified branch is the output.
    pub no_pr: bool,
    /// GitHub as the environment describes it (token, API, repository).
    pub forge_env: ForgeEnv,
}

/// One claimed task on its way through the steps.
pub struct TaskRun<'a> {
    pub ws: &'a Workspace,
    pub entry: Entry,
    pub record: Record,
    pub task: Task,
    pub agent: AgentConfig,
    /// `.agentos/worktrees/<id>`.
    pub worktree: PathBuf,
    pub settings: &'a Settings,
    /// Built the first time a publish needs it; shared by the dispatcher's tasks.
    pub forge: &'a LazyForge,
    pub launcher: &'a mut dyn Launcher,
    pub progress: &'a mut Progress,
}

impl TaskRun<'_> {
    /// Write the record durably.
    pub fn save(&self) -> Result<(), QueueError> {
        let path = self.entry.record_path();
        queue::write_record(&path, &self.record)
            .map_err(|e| PathError::new("write", &path, e).into())
    }

    /// The base commit preflight recorded.
    pub fn base(&self) -> Result<String, StepOutcome> {
        self.record
            .base_commit
            .clone()
            .ok_or_else(|| StepOutcome::Failed("the record has no base commit".into()))
    }

    /// `runs/<id>/attempt-<n>/`, created; while a revision round of the task's
    /// pull request is under way, `runs/<id>/round-<n>/`.
    pub fn run_dir(&self) -> Result<PathBuf, QueueError> {
        let folder = match self.record.review.as_ref().and_then(|r| r.round.as_ref()) {
            Some(round) => format!("round-{}", round.number),
            None => format!("attempt-{}", self.record.attempt),
        };
        let dir = self.ws.tree.runs_dir().join(&self.entry.id).join(folder);
        std::fs::create_dir_all(&dir).map_err(PathError::at("create", &dir))?;
        Ok(dir)
    }

    /// True when `git agentos cancel` asked for this task to stop.
    pub fn cancel_requested(&self) -> bool {
        queue::cancel_marker(&self.entry).exists()
    }

    /// A line for the person watching, about this task.
    pub fn say(&self, text: &str) {
        self.progress.line(&format!("{}: {text}", self.entry.id));
    }
}

/// The reason a cancelled task fails with.
pub const CANCELLED: &str = "cancelled by `git agentos cancel`";
