//! The verifier: did the change land where the task said it would? Checks intent,
//! not well-formedness, and writes a Markdown report (the future PR body).
//!
//! (a) the change is not empty; (b) it touches only paths the targets cover,
//! and none that is git agentos's own (runtime state, local settings,
//! `.agentos/.gitignore`: private.rs);
//! (c) it touches every plain-path target, unless `require_all = false`;
//! (d) nothing was written outside the worktree (the agent's own write calls,
//! judged where each landed when it was made, and the writes Claude Code denied
//! it; symlinks pointing out of the repository or into its `.git/`); the
//! writes the sandbox refused are listed, not failed: nothing was written;
//! (e) every `verify` command passes in the worktree (command.rs), inside the
//! sandbox unless the task's agent runs without it on purpose;
//! (f) the task branch descends from its base commit. report.rs writes the
//! result as Markdown.
mod command;
mod private;
mod report;

pub use command::VERIFY_TIMEOUT;
pub use report::{coloured, markdown, unified_diff, DIFF_CAP};

use super::guards::Guarded;
use super::{StepOutcome, TaskRun, CANCELLED};
use crate::agent::config::AgentConfig;
use crate::git::{Change, ChangeKind, GitError, Repo};
use crate::path_error::PathError;
use crate::queue::{Denial, Landing, QueueError, Record, SandboxDenial};
use crate::task::targets::Targets;
use crate::task::Task;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why a change could not be checked at all (a rejected change is a [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("`{id}` has no base commit recorded: it never got past preflight")]
    NoBase { id: String },
    #[error(transparent)]
    Targets(#[from] crate::task::targets::GlobError),
    #[error(transparent)]
    Git(#[from] GitError),
}

/// What the verifier looks at.
pub struct Input<'a> {
    pub repo: &'a Repo,
    pub id: &'a str,
    pub task: &'a Task,
    pub base: &'a str,
    pub worktree: &'a Path,
    /// Files the agent's tools wrote, as it named them.
    pub agent_writes: &'a [String],
    /// Where those that went through a symbolic link landed.
    pub landings: &'a [Landing],
    /// The task's agent: how its verify commands are confined.
    pub agent: &'a AgentConfig,
    /// Tool calls Claude Code refused.
    pub denials: &'a [Denial],
    /// Where verify command logs go.
    pub log_dir: &'a Path,
    /// True once the task is cancelled: a verify command running then is stopped.
    pub stop: &'a dyn Fn() -> bool,
}

/// One rule's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub name: &'static str,
    pub passed: bool,
    /// Why it failed (or a short note when it passed), one line per problem.
    pub details: Vec<String>,
}

/// A verify command's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CommandOutcome {
    pub command: String,
    pub passed: bool,
    pub status: String,
    /// The last lines of its output.
    pub tail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub passed: bool,
    pub rules: Vec<Rule>,
    pub targets: Vec<String>,
    pub touched: Vec<(String, String)>,
    pub commands: Vec<CommandOutcome>,
    /// How the agent ran (`on (Landlock ABI 7)`, `off: …`), when known.
    pub sandbox: Option<String>,
    /// How the verify commands ran, when some did.
    pub commands_sandbox: Option<String>,
    /// The writes the sandbox refused the agent.
    pub sandbox_denials: Vec<SandboxDenial>,
    #[serde(skip)]
    pub diff: String,
}

impl Report {
    /// The failing rules' details, for the task's reason.
    pub fn reason(&self) -> String {
        let problems: Vec<String> = self
            .rules
            .iter()
            .filter(|r| !r.passed)
            .flat_map(|r| r.details.clone())
            .collect();
        format!("verification rejected the change: {}", problems.join("; "))
    }
}

/// Verify a task as its record describes it: its base commit (or, after a
/// revision round, where its pull request meets its base branch), the files its
/// agent wrote and the writes it was denied; its verify commands stop once
/// `subject.stop` says so.
pub fn verify_task(subject: &Subject) -> Result<Report, VerifyError> {
    let record = subject.record;
    let base = record
        .review
        .as_ref()
        .and_then(|r| r.verify_base.as_deref())
        .or(record.base_commit.as_deref())
        .ok_or_else(|| VerifyError::NoBase {
            id: subject.id.to_string(),
        })?;
    verify_task_from(subject, base)
}

/// A task as its record describes it, to verify.
pub struct Subject<'a> {
    pub repo: &'a Repo,
    pub id: &'a str,
    pub task: &'a Task,
    pub record: &'a Record,
    /// The task's agent: how its verify commands are confined.
    pub agent: &'a AgentConfig,
    pub worktree: &'a Path,
    /// Where verify command logs go.
    pub log_dir: &'a Path,
    /// Asked between verify commands: true stops them (a cancel).
    pub stop: &'a dyn Fn() -> bool,
}

/// Verify a task's change from `base` (a revision round measures the pull
/// request's whole change from where it meets its base branch).
pub fn verify_task_from(subject: &Subject, base: &str) -> Result<Report, VerifyError> {
    let record = subject.record;
    let denials = record
        .agent_result
        .as_ref()
        .map(|r| r.permission_denials.clone())
        .unwrap_or_default();
    let mut report = verify(&Input {
        repo: subject.repo,
        id: subject.id,
        task: subject.task,
        base,
        worktree: subject.worktree,
        agent_writes: &record.agent_writes,
        landings: &record.agent_landings,
        agent: subject.agent,
        denials: &denials,
        log_dir: subject.log_dir,
        stop: subject.stop,
    })?;
    report.sandbox = record.sandbox.clone();
    report.sandbox_denials = record.sandbox_denials.clone();
    Ok(report)
}

/// Check a task's change. Errors only when the change cannot be read at all.
pub fn verify(input: &Input) -> Result<Report, VerifyError> {
    let changes = input.repo.changes(input.id, input.base, input.worktree)?;
    let targets = Targets::new(&input.task.targets)?;
    let mut rules = Vec::new();

    // (a) not empty
    rules.push(Rule {
        name: "the change is not empty",
        passed: !changes.is_empty(),
        details: if changes.is_empty() {
            vec!["the agent made no change".into()]
        } else {
            vec![format!("{} path(s) changed", changes.len())]
        },
    });

    // (b) only the targets
    let mut outside = Vec::new();
    for change in &changes {
        for path in std::iter::once(&change.path).chain(change.from.as_ref()) {
            if !targets.covers(path) {
                let hint = targets
                    .closest(path)
                    .map(|t| format!("; did you mean `{t}`?"))
                    .unwrap_or_default();
                outside.push(format!("`{path}` is outside the targets{hint}"));
            }
        }
    }
    outside.extend(private::own_paths(&changes));
    rules.push(Rule {
        name: "only the targets changed",
        passed: outside.is_empty(),
        details: outside,
    });

    // (c) every plain target
    let mut missed = Vec::new();
    if input.task.require_all != Some(false) {
        for target in targets.plain() {
            let touched = changes.iter().any(|c| {
                std::iter::once(&c.path)
                    .chain(c.from.as_ref())
                    .any(|p| p == target || p.starts_with(&format!("{target}/")))
            });
            if !touched {
                missed.push(format!("the target `{target}` was not changed (set `require_all = false` if that is fine)"));
            }
        }
    }
    rules.push(Rule {
        name: "every plain-path target changed",
        passed: missed.is_empty(),
        details: missed,
    });

    // (d) nothing outside the worktree
    let mut escaped = Vec::new();
    let root = canonical(input.worktree);
    let denied: Vec<&str> = input
        .denials
        .iter()
        .filter_map(|d| d.path.as_deref())
        .collect();
    for path in input
        .agent_writes
        .iter()
        .filter(|p| !denied.contains(&p.as_str()))
    {
        let landings: Vec<&Landing> = input.landings.iter().filter(|l| &l.named == path).collect();
        for landing in &landings {
            if !Path::new(&landing.landed).starts_with(&root) {
                let through = landing
                    .through
                    .as_deref()
                    .map(|t| format!(" through the symbolic link `{t}`"))
                    .unwrap_or_default();
                escaped.push(format!(
                    "the agent wrote `{path}`, which landed at `{}`{through}, outside its worktree",
                    landing.landed
                ));
            }
        }
        if !landings.is_empty() {
            continue;
        }
        if let Some(abs) = outside_of(&root, input.worktree, path) {
            escaped.push(format!(
                "the agent tried to write `{abs}`, outside its worktree"
            ));
        }
    }
    for denial in input.denials {
        if let Some(path) = &denial.path {
            if let Some(abs) = outside_of(&root, input.worktree, path) {
                escaped.push(format!(
                    "the agent tried to write `{abs}`, outside its worktree ({} was denied)",
                    denial.tool_name
                ));
            }
        }
    }
    for change in &changes {
        if let Some(to) = &change.symlink_to {
            if leaves(&change.path, to) {
                escaped.push(format!(
                    "`{}` is a symbolic link to `{to}`, outside the repository",
                    change.path
                ));
            }
        }
    }
    escaped.extend(private::links_into_git(&changes));
    rules.push(Rule {
        name: "nothing written outside the worktree",
        passed: escaped.is_empty(),
        details: escaped,
    });

    // (f) the branch descends from its base (judged before (e), listed after it)
    let descends = input.repo.branch_descends_from(input.id, input.base)?;
    let lineage = Rule {
        name: "the branch descends from its base",
        passed: descends,
        details: if descends {
            Vec::new()
        } else {
            vec![format!(
                "the branch does not descend from its base {} (did the agent run `git reset`?): its pull request would revert work",
                input.base
            )]
        },
    };

    // (e) verify commands (only worth running on a change that is otherwise right)
    let others_pass = rules.iter().all(|r| r.passed) && lineage.passed;
    let (commands, commands_sandbox) =
        if !input.task.verify.is_empty() && input.worktree.is_dir() && others_pass {
            let (commands, plan) = command::run_all(input);
            (commands, Some(plan))
        } else {
            (Vec::new(), None)
        };
    let failed: Vec<String> = commands
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("`{}` {}", c.command, c.status))
        .collect();
    let skipped = !input.task.verify.is_empty() && commands.is_empty();
    rules.push(Rule {
        name: "the verify commands pass",
        passed: failed.is_empty(),
        details: if skipped {
            vec!["not run: the change already breaks a rule above".into()]
        } else {
            failed
        },
    });

    rules.push(lineage);
    let passed = rules.iter().all(|r| r.passed);
    Ok(Report {
        id: input.id.to_string(),
        passed,
        rules,
        targets: targets.list.clone(),
        touched: changes
            .iter()
            .map(|c| (describe(c), c.path.clone()))
            .collect(),
        commands,
        sandbox: None,
        commands_sandbox,
        sandbox_denials: Vec::new(),
        diff: report::unified_diff(&changes),
    })
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The absolute form of a path the agent named, when it is not inside the worktree.
fn outside_of(root: &Path, worktree: &Path, named: &str) -> Option<String> {
    let resolved = crate::agent::denials::resolve(named, worktree);
    (!resolved.starts_with(root)).then(|| resolved.display().to_string())
}

/// True when a symlink at `at` (repository-relative) pointing to `to` leaves the
/// repository.
fn leaves(at: &str, to: &str) -> bool {
    if Path::new(to).is_absolute() {
        return true;
    }
    let mut depth: i64 = at.matches('/').count() as i64;
    for part in to.split('/') {
        match part {
            ".." => depth -= 1,
            "" | "." => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

/// `` `README.md` (modified) ``, for a list of what a change touched.
pub fn describe_path(c: &Change) -> String {
    format!("`{}` ({})", c.path, describe(c))
}

fn describe(c: &Change) -> String {
    let kind = match c.kind {
        ChangeKind::Added => "added",
        ChangeKind::Modified => "modified",
        ChangeKind::Deleted => "deleted",
        ChangeKind::Renamed => "renamed",
        ChangeKind::TypeChanged => "type or mode changed",
    };
    match (&c.from, &c.symlink_to) {
        (Some(from), _) => format!("{kind} from `{from}`"),
        (None, Some(to)) => format!("{kind} (symlink to `{to}`)"),
        _ => kind.to_string(),
    }
}

/// The verify step: check the change (from the worktree, or the branch checked
/// out again when the worktree is gone), write the report to the attempt's run
/// folder, and fail the task when a rule is broken.
pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    if !run.worktree.is_dir() {
        if let Err(e) = run.ws.repo.worktree_at_branch(&run.entry.id, &run.worktree) {
            return Ok(StepOutcome::Failed(format!("verify: {e}")));
        }
    }
    let run_dir = run.run_dir()?;
    // A ref the verify commands move or a mode they change fails the task; with
    // no verify commands only the dispatcher's own code runs: nothing to guard.
    let guarded = if run.task.verify.is_empty() {
        None
    } else {
        let confined =
            crate::agent::sandbox::plan_commands(&run.agent, &crate::agent::sandbox::support())
                .is_sandboxed();
        match Guarded::before(run.ws, &run.entry.id, confined, "verify") {
            Ok(guarded) => Some(guarded),
            Err(failed) => return Ok(failed),
        }
    };
    let marker = crate::queue::cancel_marker(&run.entry);
    let cancelled = || marker.exists();
    let verified = verify_task(&Subject {
        repo: &run.ws.repo,
        id: &run.entry.id,
        task: &run.task,
        record: &run.record,
        agent: &run.agent,
        worktree: &run.worktree,
        log_dir: &run_dir,
        stop: &cancelled,
    });
    // Judged before a cancel is said (the modes guard puts back what it found).
    let judged = guarded.and_then(|g| g.judge("a verify command", "verify"));
    if run.cancel_requested() {
        return Ok(StepOutcome::Failed(CANCELLED.into()));
    }
    if let Some(failed) = judged {
        return Ok(failed);
    }
    let report = match verified {
        Ok(report) => report,
        Err(e) => return Ok(StepOutcome::Failed(format!("verify: {e}"))),
    };
    let report_path = run_dir.join("report.md");
    crate::durable::write(&report_path, markdown(&report).as_bytes())
        .map_err(PathError::at("write", &report_path))?;
    run.record.report = Some(run.ws.rel(&report_path).into_owned());
    if !report.passed {
        return Ok(StepOutcome::Failed(report.reason()));
    }
    Ok(StepOutcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_that_leave_the_repository() {
        assert!(leaves("link", "/etc/passwd"));
        assert!(leaves("link", "../outside"));
        assert!(leaves("a/link", "../../x"));
        assert!(!leaves("a/link", "../b/file"));
        assert!(!leaves("link", "docs/x"));
    }

    #[test]
    fn writes_outside_the_worktree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wt = dir.path().join("wt");
        std::fs::create_dir_all(&wt).expect("mkdir");
        let root = canonical(&wt);
        assert_eq!(outside_of(&root, &wt, "README.md"), None);
        assert_eq!(
            outside_of(&root, &wt, &wt.join("a/b.md").display().to_string()),
            None
        );
        assert!(outside_of(&root, &wt, "../main/README.md").is_some());
        assert!(outside_of(&root, &wt, "/etc/passwd").is_some());
        // A symlink inside the worktree that points out of it does not hide a write.
        std::os::unix::fs::symlink(dir.path(), wt.join("escape")).expect("symlink");
        assert!(outside_of(&root, &wt, "escape/secret").is_some());
    }
}
