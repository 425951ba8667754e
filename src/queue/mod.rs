//! The queue on disk: where a task file is *is* its state. layout.rs names the
//! folders of `.agentos/`, scan.rs reads them (with the todo index as a cache),
//! moves.rs makes every move between them, record.rs is the claim record and
//! step journal beside a claimed task, review.rs the pull request a task in
//! review/ waits on and the journal of its revision rounds. state_paths.rs
//! refuses a state that leads outside the repository (a symbolic link where a
//! folder should be).
//!
//! Every move is one atomic rename made durable; every record is written whole
//! (temp file, fsync, rename, fsync the folder).
mod error;
pub mod layout;
mod moves;
mod record;
pub mod review;
mod scan;
mod state_paths;
mod todo_index;

pub use error::QueueError;
pub use layout::{State, Tree, GITIGNORE};
pub use moves::{
    cancel_marker, cancel_queued, claim, enqueue_as, enqueue_new, enqueue_new_except, finish,
    free_id, reject, request_cancel, requeue, retry, rewrite,
};
pub use record::{
    earlier_records, read_record, write_record, AgentResult, Denial, Landing, Record, Restack,
    SandboxDenial, Step, StepDone,
};
pub use scan::{all_ids, entries, find, inspect_todo, is_task_id, Inspection, Ready};
pub use state_paths::{
    check_state_paths, check_state_paths_between_claims, check_task_runs, StatePathProblem,
};

use std::path::{Path, PathBuf};

/// A task file found in one of the state folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file stem.
    pub id: String,
    pub state: State,
    pub path: PathBuf,
    /// For todo/<agent>/<id>.md: the agent the folder names.
    pub folder_agent: Option<String>,
}

impl Entry {
    /// Where this entry's record (claim record, journal, result) lives.
    pub fn record_path(&self) -> PathBuf {
        sidecar(&self.path, "record.json")
    }
    /// Where a failed entry's reason lives.
    pub fn reason_path(&self) -> PathBuf {
        sidecar(&self.path, "reason")
    }
}

fn sidecar(task_path: &Path, ext: &str) -> PathBuf {
    let stem = task_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    task_path.with_file_name(format!("{stem}.{ext}"))
}

#[cfg(test)]
mod tests;
