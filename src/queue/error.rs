//! What the queue refuses, or cannot do, with what it names: the task, its state
//! or the folder, so the command boundary can add the hint once.
use crate::path_error::PathError;
use crate::task::Problem;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Io(#[from] PathError),
    /// A path, or anything else that is not an id, where an id was asked for.
    #[error("`{id}` is not a task id")]
    NotAnId { id: String },
    #[error("there is no task `{id}` in todo/, doing/, done/ or failed/")]
    NoSuchTask { id: String, near: Option<String> },
    /// A claimed task could not be moved to its final folder: it waits in doing/.
    #[error("cannot move `{id}` into `{}`: {source}", dir.display())]
    Finish {
        id: String,
        dir: PathBuf,
        /// The folder relative to the repository, for the hint.
        rel: String,
        source: std::io::Error,
    },
    #[error("the task id `{id}` is already used by {by}")]
    IdTaken { id: String, by: String },
    #[error("`{id}` is already queued")]
    Queued { id: String },
    #[error("`{id}` is running")]
    Running { id: String },
    #[error("`{id}` is done")]
    Done { id: String },
    /// The task finished in done/ before a cancel could stop it.
    #[error("too late: `{id}` finished (it is in done/) before the cancel could stop it")]
    TooLate { id: String },
    #[error("`{id}` already finished ({state})")]
    Finished { id: String, state: &'static str },
    /// A file rejected as a copy of another task cannot take its id back.
    #[error("{file}: {problem}")]
    NotRetryable { file: String, problem: Problem },
    #[error("{0} already exists")]
    Exists(String),
}
