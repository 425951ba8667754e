//! The claim record and step journal beside each claimed or finished task
//! (`<id>.record.json`): who claimed it, which steps are done, what they found.
use crate::clock::Timestamp;
use crate::durable;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::Path;

/// The steps of a task's life, in order; each is journalled when it completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Claim,
    Preflight,
    Worktree,
    Agent,
    Commit,
    Verify,
    Publish,
    Finish,
}

impl Step {
    /// Every step, in the order a task goes through them.
    pub const ALL: [Step; 8] = [
        Step::Claim,
        Step::Preflight,
        Step::Worktree,
        Step::Agent,
        Step::Commit,
        Step::Verify,
        Step::Publish,
        Step::Finish,
    ];

    /// The step's name in the journal, messages and the friction log.
    pub fn name(self) -> &'static str {
        match self {
            Step::Claim => "claim",
            Step::Preflight => "preflight",
            Step::Worktree => "worktree",
            Step::Agent => "agent",
            Step::Commit => "commit",
            Step::Verify => "verify",
            Step::Publish => "publish",
            Step::Finish => "finish",
        }
    }

    /// The fault point (`AGENTOS_FAULT`) right after the step is journalled.
    pub fn fault_after(self) -> Option<&'static str> {
        match self {
            Step::Claim => Some("after-claim"),
            Step::Worktree => Some("after-worktree"),
            Step::Agent => Some("after-agent"),
            Step::Commit => Some("after-commit"),
            Step::Verify => Some("after-verify"),
            Step::Preflight | Step::Publish | Step::Finish => None,
        }
    }
}

/// One completed step in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDone {
    pub step: Step,
    pub at: Timestamp,
    pub attempt: u32,
}

/// Moving a stacked branch onto its base branch once its dependency merged,
/// journalled step by step so a dispatcher killed midway resumes without
/// rebasing or pushing twice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Restack {
    /// The base branch, and the commit of it the branch is rebased onto.
    pub onto: String,
    pub onto_commit: String,
    /// Where the branch started (its dependency's head then): the commits
    /// after it are the task's own.
    pub from: String,
    /// The remote branch's commit before the rebase: the push's lease.
    pub old_tip: String,
    /// The rebased head, once rebased.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebased: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pushed: bool,
    /// The files a rebase conflicted on: the branch was left as it was, and a
    /// person was asked to rebase it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

/// The claim record and journal of a task, beside its file as `<id>.record.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Record {
    pub id: String,
    pub agent: String,
    /// 1 for the first attempt; a resume after a crash counts as a new attempt.
    pub attempt: u32,
    /// The dispatcher that holds the claim now.
    pub pid: u32,
    pub claimed_at: Option<Timestamp>,
    pub steps: Vec<StepDone>,
    /// One line per earlier attempt that did not finish, and why.
    pub history: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// The commit the task started from (the base, resolved at preflight).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
    /// The process group of the agent of the current attempt, once spawned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_pgid: Option<i32>,
    /// The agent's result event: outcome, turns, cost, session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_result: Option<AgentResult>,
    /// Files the agent's tools wrote (as the agent named them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent_writes: Vec<String>,
    /// Writes that went through a symbolic link: where each landed, resolved
    /// when the tool call arrived (a link removed later does not hide it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent_landings: Vec<Landing>,
    /// How the latest attempt's agent ran: `on (Landlock ABI 7)`, or `off: why`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
    /// Writes the sandbox refused the agent (read from its tool results).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sandbox_denials: Vec<SandboxDenial>,
    /// The private folder of the running attempt (TMPDIR and the rest), so the
    /// attempt after a crash removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_dir: Option<std::path::PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The task takes (or has taken) its branch: journalled before the branch is
    /// made, so that a task never resets a branch it did not create.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub branch_created: bool,
    /// Where the task branch was when the task finished (a retry may reset it
    /// only while it is still there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_tip: Option<String>,
    /// A stacked task: the dependency's branch it started from, its pull
    /// request's base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_base: Option<String>,
    /// A stacked task whose dependency merged, being moved onto its base
    /// branch: the journal of that move (cleared with `stack_base` when done).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restack: Option<Restack>,
    /// The task branch's commit after the commit step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Where the branch was pushed, and the commit the remote confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_commit: Option<String>,
    /// The pull request that carries the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr_number: Option<u64>,
    /// The pull request followed while the task is in review/ (and how it ended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<super::review::Review>,
    /// Why the task's output is its branch and not a pull request, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_note: Option<String>,
    /// The verification report of the latest verify step (repository-relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// The last attempt was stopped by a signal (a clean stop; not counted as a crash).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl Record {
    pub fn has(&self, step: Step) -> bool {
        self.steps.iter().any(|s| s.step == step)
    }
    pub fn mark(&mut self, step: Step) {
        if !self.has(step) {
            self.steps.push(StepDone {
                step,
                at: Timestamp::now(),
                attempt: self.attempt,
            });
        }
    }
    /// The first step not journalled yet: where a resume starts, and the step a
    /// task failed in.
    pub fn first_pending(&self) -> Step {
        Step::ALL
            .into_iter()
            .find(|step| !self.has(*step))
            .unwrap_or(Step::Finish)
    }

    /// The last step completed, if any.
    pub fn last_step(&self) -> Option<Step> {
        self.steps.iter().map(|s| s.step).max()
    }

    /// True when the task branch at `tip` is this record's: its worktree step
    /// made it (it may have moved since), or the step was about to and the branch
    /// is still at the base.
    pub fn owns_branch_at(&self, tip: &str) -> bool {
        self.has(Step::Worktree)
            || (self.branch_created && self.base_commit.as_deref() == Some(tip))
    }
}

/// The records of a task's earlier lives (kept in runs/<id>/ by `retry`, and
/// by a usage limit that sent it back to todo/), oldest first.
pub fn earlier_records(runs_dir: &Path, id: &str) -> Vec<Record> {
    let Ok(entries) = fs::read_dir(runs_dir.join(id)) else {
        return Vec::new();
    };
    let mut found: Vec<(u128, Record)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            // Before a retry, or sent back to todo/ by a usage limit.
            let nanos = name
                .strip_prefix("record-before-retry-")
                .or_else(|| name.strip_prefix("record-paused-"))?
                .strip_suffix(".json")?
                .parse()
                .ok()?;
            Some((nanos, read_record(&e.path()).ok()??))
        })
        .collect();
    found.sort_by_key(|(nanos, _)| *nanos);
    found.into_iter().map(|(_, r)| r).collect()
}

/// The largest record read: a record holds a task's steps and rounds, far
/// below this; a larger one (or a link, or not a regular file: a cloned
/// repository may commit `review/x.record.json -> /dev/zero`) is refused unread.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// Read a record (never through a link, at most [`MAX_RECORD_BYTES`]); a
/// missing one is None, an unreadable one or one this dispatcher could not
/// have written (see [`check_record`]) an error.
pub fn read_record(path: &Path) -> io::Result<Option<Record>> {
    let invalid = |e: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    };
    match crate::nofollow::read_file(path, MAX_RECORD_BYTES) {
        Ok(None) => Ok(None),
        Ok(Some(bytes)) => {
            let record: Record =
                serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let stem = name.strip_suffix(".record.json");
            check_record(&record, stem).map_err(invalid)?;
            Ok(Some(record))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The fields of a record that steer the dispatcher hold what it writes there:
/// the task's id (the file's, when read as `<id>.record.json`), an agent name
/// that is a slug (never a path), a base commit that is a commit id. A record
/// can come from a cloned repository; nothing in it is taken as a path.
pub fn check_record(record: &Record, id: Option<&str>) -> Result<(), String> {
    use crate::task::is_slug;
    if let Some(id) = id {
        if !record.id.is_empty() && record.id != id {
            return Err(format!(
                "the field `id` is {:?}, not the file's id `{id}`",
                record.id
            ));
        }
    }
    if !record.agent.is_empty() && !is_slug(&record.agent) {
        return Err(format!(
            "the field `agent` is {:?}, not an agent name (a slug)",
            record.agent
        ));
    }
    if let Some(base) = &record.base_commit {
        if !matches!(base.len(), 40 | 64) || !base.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "the field `base_commit` is {base:?}, not a commit id"
            ));
        }
    }
    Ok(())
}

/// Write a record durably.
pub fn write_record(path: &Path, record: &Record) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(record).map_err(io::Error::other)?;
    text.push('\n');
    durable::write(path, text.as_bytes())
}

/// The `result` event, as recorded in the claim record and shown by `show`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentResult {
    pub subtype: String,
    pub is_error: bool,
    pub num_turns: Option<u64>,
    pub total_cost_usd: Option<f64>,
    pub session_id: Option<String>,
    /// The agent's closing summary (the `result` text).
    pub summary: Option<String>,
    /// Tool calls Claude Code refused (for example writes outside the worktree).
    pub permission_denials: Vec<Denial>,
}

/// A write of the agent's tools that went through a symbolic link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Landing {
    /// The path as the tool call named it.
    pub named: String,
    /// Where it landed, resolved when the call arrived.
    pub landed: String,
    /// The link it went through: `lnk → /outside`.
    pub through: Option<String>,
}

/// A write the sandbox refused, as the agent's tool reported it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SandboxDenial {
    /// The path refused, resolved.
    pub path: String,
    /// The line of the tool's output that said so.
    pub line: String,
}

/// One refused tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Denial {
    pub tool_name: String,
    pub path: Option<String>,
}

impl AgentResult {
    /// `success, 2 turns, $0.0123`.
    pub fn describe(&self) -> String {
        let mut parts = vec![if self.subtype.is_empty() {
            "success".to_string()
        } else {
            self.subtype.clone()
        }];
        if let Some(turns) = self.num_turns {
            parts.push(format!("{turns} turns"));
        }
        if let Some(cost) = self.total_cost_usd {
            parts.push(format!("${cost:.4}"));
        }
        parts.join(", ")
    }
}
