//! Why the dispatcher stops (a task's own failure is never one of these: it is
//! the task's reason, in failed/).
use crate::git::GitError;
use crate::queue::QueueError;
use crate::workspace::WorkspaceError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("another dispatcher holds the queue of {}: {holder}", root.display())]
    LockHeld { root: PathBuf, holder: String },
    /// The lock file was deleted or replaced: another dispatcher may have started.
    #[error("the dispatcher lock `{}` was deleted or replaced while this dispatcher ran, so another one may have started: this one stopped claiming tasks (the ones it had claimed are finished)", path.display())]
    LockLost { path: PathBuf },
    #[error("cannot set up signal handling: {0}")]
    Signals(std::io::Error),
    #[error("cannot watch {what} for changes: {message}")]
    Watch { what: String, message: String },
    /// A missing agent CLI is the environment's fault, not the task's: it stays queued.
    #[error("the agent command `{program}` (agent `{agent}`) is not installed or not on PATH; `{id}` stays queued")]
    AgentMissing {
        program: String,
        agent: String,
        id: String,
        claude: bool,
    },
    #[error("cannot start a worker thread: {0}")]
    Thread(std::io::Error),
}

impl From<crate::path_error::PathError> for DispatchError {
    fn from(e: crate::path_error::PathError) -> Self {
        DispatchError::Queue(e.into())
    }
}
