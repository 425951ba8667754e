//! One task as its page shows it: the file's fields and body, its record (the
//! step timeline, the agent's outcome, the pull request), the reason it failed,
//! its attempts, the verification report and the agent's stream of the attempt
//! shown. Found by id in the state folders only; nothing is read through a link.
use super::columns::read_record;
use super::files::{self, Lines, TEXT_CAP};
use crate::agent::transcript;
use crate::clock::Timestamp;
use crate::queue::{self, Entry, Record, State, Tree};
use crate::task::{self, Task};

/// Why a task page cannot be shown.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    /// What was asked for is not a task id (`../../etc/passwd`).
    NotAnId,
    /// No state folder holds a task with that id.
    NoSuchTask,
}

#[derive(Debug)]
pub struct TaskPage {
    pub id: String,
    pub state: State,
    /// The file, relative to the repository.
    pub file: String,
    /// The task as its file says, when it reads.
    pub task: Option<Task>,
    /// Why the file cannot run (a todo/ file that breaks a rule, or is unreadable).
    pub problem: Option<String>,
    pub record: Option<Record>,
    /// Why it failed, whole.
    pub reason: Option<String>,
    /// A cancel was asked for and the dispatcher has not acted yet.
    pub cancelling: bool,
    /// The attempts that left a run folder, oldest first.
    pub attempts: Vec<u32>,
    /// The attempt shown: the one asked for, else the latest.
    pub attempt: Option<u32>,
    /// That attempt's verification report (Markdown).
    pub report: Option<String>,
    /// That attempt's stream, by complete lines.
    pub log: Option<Lines>,
    /// The tail of that attempt's stderr.
    pub stderr: Option<String>,
    /// Records of runs before a retry: when each ended and why.
    pub earlier: Vec<Record>,
    pub now: Timestamp,
}

impl TaskPage {
    pub fn title(&self) -> &str {
        self.task.as_ref().map_or(&self.id, |t| t.title.as_str())
    }

    /// The task is claimed and not finished.
    pub fn is_running(&self) -> bool {
        self.record
            .as_ref()
            .is_some_and(|r| r.claimed_at.is_some() && r.finished_at.is_none())
            && !matches!(self.state, State::Todo | State::Review)
    }

    pub fn shows_latest_attempt(&self) -> bool {
        self.attempt == self.attempts.last().copied()
    }
}

/// The task `id` of `tree`, with attempt `attempt` (or the latest) shown; its
/// stream read only when `with_log`.
pub fn read(
    tree: &Tree,
    id: &str,
    attempt: Option<u32>,
    with_log: bool,
    now: Timestamp,
) -> Result<TaskPage, Missing> {
    task::check_id(id).map_err(|_| Missing::NotAnId)?;
    let entry = queue::find(tree, id)
        .ok()
        .flatten()
        .ok_or(Missing::NoSuchTask)?;
    let (task, problem) = load(&entry);
    let record = read_record(&entry);
    let reason = files::read_text(&entry.reason_path(), TEXT_CAP).map(|r| r.trim_end().to_string());
    let runs = tree.runs_dir();
    let attempts: Vec<u32> = transcript::attempts(&runs, id)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let attempt = attempt
        .filter(|n| attempts.contains(n))
        .or(attempts.last().copied());
    let dir = attempt.and_then(|n| files::real_dir(&runs, &[id, &format!("attempt-{n}")]));
    let (report, log, stderr) = match &dir {
        Some(dir) => (
            files::read_text(&dir.join("report.md"), TEXT_CAP),
            with_log
                .then(|| files::read_lines(&dir.join("agent.jsonl"), None))
                .flatten(),
            files::read_tail(&dir.join("agent.stderr"), 8 * 1024)
                .map(|l| l.text)
                .filter(|t| !t.trim().is_empty()),
        ),
        None => (None, None, None),
    };
    Ok(TaskPage {
        id: id.to_string(),
        state: entry.state,
        file: entry
            .path
            .strip_prefix(&tree.repo_root)
            .unwrap_or(&entry.path)
            .display()
            .to_string(),
        task,
        problem,
        cancelling: queue::cancel_marker(&entry).exists(),
        record,
        reason,
        attempts,
        attempt,
        report,
        log,
        stderr,
        earlier: earlier_records(tree, id),
        now,
    })
}

/// The task file read (never through a link) and, in todo/, checked.
fn load(entry: &Entry) -> (Option<Task>, Option<String>) {
    match task::load(&entry.path) {
        Ok(task) if entry.state == State::Todo => {
            let problem = task::validate(&task).err().map(|p| p.to_string());
            (Some(task), problem)
        }
        Ok(task) => (Some(task), None),
        Err(e) => (None, Some(e.problem.to_string())),
    }
}

/// `runs/<id>/record-before-retry-*.json`, oldest first.
fn earlier_records(tree: &Tree, id: &str) -> Vec<Record> {
    let Some(dir) = files::real_dir(&tree.runs_dir(), &[id]) else {
        return Vec::new();
    };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("record-before-retry-") && n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|n| files::read_text(&dir.join(n), TEXT_CAP))
        .filter_map(|text| serde_json::from_str(&text).ok())
        .collect()
}

/// The new complete lines of attempt `attempt`'s stream from `offset`; None when
/// the file is gone or was replaced (start over).
pub fn log_since(tree: &Tree, id: &str, attempt: u32, offset: u64) -> Option<Lines> {
    let dir = files::real_dir(&tree.runs_dir(), &[id, &format!("attempt-{attempt}")])?;
    files::read_lines(&dir.join("agent.jsonl"), Some(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ids_found_only_in_the_state_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        tree.ensure_runtime().expect("runtime");
        let now = Timestamp::EPOCH;
        for bad in [
            "../../etc/passwd",
            "..",
            "a/b",
            "",
            "A",
            ".hidden",
            "x\u{0}",
        ] {
            assert_eq!(
                read(&tree, bad, None, true, now).err(),
                Some(Missing::NotAnId),
                "{bad}"
            );
        }
        assert_eq!(
            read(&tree, "nope", None, true, now).err(),
            Some(Missing::NoSuchTask)
        );
        // A run folder alone is not a task.
        std::fs::create_dir_all(tree.runs_dir().join("ghost/attempt-1")).expect("mkdir");
        assert_eq!(
            read(&tree, "ghost", None, true, now).err(),
            Some(Missing::NoSuchTask)
        );
    }
}
