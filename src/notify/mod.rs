//! Notifiers: programs that hear when something needs a person. An executable
//! named for an event (`task-done`, `task-failed`, `needs-human`, `paused`,
//! `resumed`) in `$AGENTOS_HOME/hooks/` or in a repository's `.agentos/hooks/`
//! is run with the event as one JSON object on stdin. The folder is the
//! config: a file there is a subscription. run.rs runs each in the background,
//! with a time limit; one that fails or hangs is killed and recorded as
//! friction, and never delays or fails a task.
//!
//! A clone brings `.agentos/` with it, written by anyone who could push: like
//! an agent's `command` (see [`crate::local_settings`]), a notifier in
//! `.agentos/hooks/` runs only when git does not track it (and it is a regular
//! file, not a link): one that is committed is refused, and the refusal is
//! friction. `.agentos/.gitignore` leaves the folder out. `$AGENTOS_HOME/hooks/`
//! is the person's own.
mod run;

pub use run::{wait_all, LIMIT};

use crate::clock::Timestamp;
use crate::queue::{self, State, Tree};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TaskDone,
    TaskFailed,
    /// Review rounds exhausted, a sandbox escape, a crash loop.
    NeedsHuman,
    Paused,
    Resumed,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::TaskDone,
        Kind::TaskFailed,
        Kind::NeedsHuman,
        Kind::Paused,
        Kind::Resumed,
    ];

    /// The event's name: the notifier's file name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::TaskDone => "task-done",
            Kind::TaskFailed => "task-failed",
            Kind::NeedsHuman => "needs-human",
            Kind::Paused => "paused",
            Kind::Resumed => "resumed",
        }
    }
}

/// The one JSON object a notifier reads on stdin. Never a token: nothing here
/// comes from the environment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub event: &'static str,
    /// The repository's top folder.
    pub repository: String,
    /// Its name in the fleet (else its folder's).
    pub repository_name: String,
    pub task: Option<String>,
    pub title: Option<String>,
    /// The task's state folder now (`done`, `failed`, `review`, `todo`).
    pub state: Option<String>,
    pub reason: Option<String>,
    pub branch: Option<String>,
    pub pull_request: Option<String>,
    /// What the task's agent reported it spent.
    pub cost_usd: Option<f64>,
    pub time: Timestamp,
}

impl Event {
    /// An event about the queue as a whole (`paused`, `resumed`).
    pub fn about_queue(tree: &Tree, name: Option<&str>, kind: Kind, reason: Option<&str>) -> Event {
        let root = &tree.repo_root;
        let folder = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Event {
            event: kind.name(),
            repository: root.display().to_string(),
            repository_name: name.map_or(folder, str::to_string),
            task: None,
            title: None,
            state: None,
            reason: reason.map(crate::forge::redact),
            branch: None,
            pull_request: None,
            cost_usd: None,
            time: crate::clock::now(),
        }
    }

    /// An event about task `id`, filled in from its file and record where they
    /// are now.
    pub fn about_task(
        tree: &Tree,
        name: Option<&str>,
        kind: Kind,
        id: &str,
        reason: Option<&str>,
    ) -> Event {
        let mut event = Event::about_queue(tree, name, kind, reason);
        event.task = Some(id.to_string());
        let Some(entry) = queue::find(tree, id).ok().flatten() else {
            return event;
        };
        event.state = Some(entry.state.name().to_string());
        let load = if matches!(entry.state, State::Done | State::Failed) {
            crate::task::load_finished(&entry.path)
        } else {
            crate::task::load(&entry.path)
        };
        event.title = load.ok().map(|t| t.title);
        if let Some(record) = queue::read_record(&entry.record_path()).ok().flatten() {
            event.branch = record.branch.clone();
            event.pull_request = record
                .pr_url
                .clone()
                .or_else(|| record.review.as_ref().map(|r| r.url.clone()));
            event.cost_usd = record.agent_result.as_ref().and_then(|r| r.total_cost_usd);
            if event.reason.is_none() {
                event.reason = record.reason.as_deref().map(crate::forge::redact);
            }
        }
        event
    }
}

/// Run every notifier subscribed to `event` (in the background; this returns
/// at once). Problems are friction in `tree`'s log, never an error.
pub fn emit(tree: &Tree, event: &Event) {
    let Ok(json) = serde_json::to_string(event) else {
        return;
    };
    for notifier in notifiers(tree, event.event) {
        match notifier {
            Ok(path) => run::start(tree, event.event, path, json.clone()),
            Err(refusal) => refused(tree, event.event, &refusal),
        }
    }
}

/// The notifiers of `event`: the person's, then the repository's (or why one
/// of the repository's is refused).
fn notifiers(tree: &Tree, event: &str) -> Vec<Result<PathBuf, String>> {
    let mut found = Vec::new();
    if let Ok(home) = crate::memory::agentos_home() {
        let path = home.join("hooks").join(event);
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            found.push(Ok(path));
        }
    }
    let path = tree.dir.join("hooks").join(event);
    if let Some(checked) = repository_notifier(tree, &path) {
        found.push(checked);
    }
    found
}

/// A repository's notifier: a regular file (never a link) git does not track.
fn repository_notifier(tree: &Tree, path: &Path) -> Option<Result<PathBuf, String>> {
    let hooks = path.parent()?;
    let hooks_meta = std::fs::symlink_metadata(hooks).ok()?;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let rel = path.strip_prefix(&tree.repo_root).unwrap_or(path).display();
    if !hooks_meta.is_dir() || !meta.is_file() {
        return Some(Err(format!(
            "{rel} is not run: a notifier must be a regular file in a real .agentos/hooks/ folder, not a link"
        )));
    }
    if crate::local_settings::tracked(&tree.repo_root, path) {
        return Some(Err(format!(
            "{rel} is not run: git tracks it, so anyone who can push to the repository wrote it, and it would run on your machine; to opt in on this machine, `git rm --cached` it (it stays yours, untracked), or put it in $AGENTOS_HOME/hooks/"
        )));
    }
    Some(Ok(path.to_path_buf()))
}

/// True when a task failed for a reason a person must look at: an escape
/// from its sandbox or worktree, or a crash loop.
pub fn needs_human(reason: &str) -> bool {
    matches!(
        crate::friction::classify_failure("", reason),
        "escape" | "crash-loop"
    )
}

fn refused(tree: &Tree, event: &str, why: &str) {
    tracing::warn!(event, "{why}");
    crate::friction::note(
        tree,
        crate::friction::Event::new("notifier-refused", "", why),
    );
}

#[cfg(test)]
mod tests;
