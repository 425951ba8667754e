//! The last move of a claimed task: to review/ while the pull request it opened
//! is open (the file untouched; the pull-request loop follows it from there), to
//! done/ (the task file with a result section appended: branch, commit, push,
//! pull request, the agent's outcome and summary) or to failed/ (the file
//! untouched, the reason beside it). The worktree is recycled unless it is kept
//! for inspection.
use super::{StepOutcome, TaskRun};
use crate::clock::Timestamp;
use crate::friction;
use crate::git::task_branch;
use crate::path_error::PathError;
use crate::progress::Progress;
use crate::queue::{self, Entry, QueueError, Record, State, Step};
use crate::schedule::limits::Limit;
use crate::schedule::pause::{self, Pause};
use crate::task::Task;
use crate::workspace::Workspace;

/// The finish step: the task moves to review/ when it opened a pull request,
/// else to done/.
pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    run.record.mark(Step::Finish);
    if let (Some(url), Some(number)) = (run.record.pr_url.clone(), run.record.pr_number) {
        return to_review(run, &url, number);
    }
    if let Some(reason) = to_done(run)? {
        return Ok(StepOutcome::Failed(reason));
    }
    let branch = run
        .record
        .branch
        .clone()
        .unwrap_or_else(|| task_branch(&run.entry.id));
    run.say(&format!("done → {branch}"));
    tracing::info!(%branch, "done");
    Ok(StepOutcome::Done)
}

/// To done/: the task file with its result section appended (the record
/// says what it holds), the worktree recycled unless kept. Some(reason) when
/// the task file was deleted meanwhile: the task fails with that reason.
pub fn to_done(run: &mut TaskRun) -> Result<Option<String>, QueueError> {
    run.record.finished_at = Some(Timestamp::now());
    let original = match std::fs::read_to_string(&run.entry.path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Some(deleted(run.ws, &run.entry, Step::Finish)))
        }
        Err(e) => return Err(PathError::new("read", &run.entry.path, e).into()),
    };
    let text = format!("{original}{}", result_section(&run.record));
    queue::finish(
        &run.ws.tree,
        &run.entry,
        &run.record,
        State::Done,
        Some(&text),
    )
    .map_err(|e| finish_error(run.ws, &run.entry, State::Done, e))?;
    if !run.settings.keep {
        retire(run.ws, &run.worktree);
    }
    Ok(None)
}

/// Published: to review/, the file as it was; the first pass over the pull
/// request is due soon after the push.
fn to_review(run: &mut TaskRun, url: &str, number: u64) -> Result<StepOutcome, QueueError> {
    let mut review = crate::queue::review::Review::new(number, url);
    super::review::schedule::after_push(&mut review, Timestamp::now());
    run.record.review = Some(review);
    queue::finish(&run.ws.tree, &run.entry, &run.record, State::Review, None)
        .map_err(|e| finish_error(run.ws, &run.entry, State::Review, e))?;
    if !run.settings.keep {
        retire(run.ws, &run.worktree);
    }
    run.say(&format!("in review → {url}"));
    tracing::info!(%url, "in review");
    Ok(StepOutcome::Done)
}

/// The reason a task fails when its claimed file was deleted while it ran.
pub fn deleted(ws: &Workspace, entry: &Entry, before: Step) -> String {
    format!(
        "the task file {} was deleted while the task ran (before its {} step); failed/ keeps the task as it was claimed",
        ws.rel(&entry.path),
        before.name()
    )
}

/// Fail a claimed task: to failed/ with its reason, the file unchanged, and the
/// failure in the friction log (its kind from the step it failed in). A claimed
/// file that was deleted is written back from `task` (as it was claimed; empty
/// when it was never read).
pub fn fail(
    ws: &Workspace,
    entry: &Entry,
    mut record: Record,
    reason: &str,
    task: Option<&Task>,
    keep: bool,
    progress: &Progress,
) -> Result<(), QueueError> {
    let step = record.first_pending().name();
    friction::note(
        &ws.tree,
        friction::Event::new(friction::classify_failure(step, reason), step, reason)
            .task(&entry.id, record.attempt),
    );
    record.reason = Some(reason.to_string());
    record.finished_at = Some(Timestamp::now());
    // Where the task left its branch: a retry may reset it while it is still there.
    if record.has(Step::Worktree) {
        record.branch_tip = ws.repo.branch_commit(&entry.id);
    }
    let gone = std::fs::symlink_metadata(&entry.path).is_err();
    let text = gone.then(|| task.map(crate::task::write).unwrap_or_default());
    queue::finish(&ws.tree, entry, &record, State::Failed, text.as_deref())
        .map_err(|e| finish_error(ws, entry, State::Failed, e))?;
    if !keep {
        retire(ws, &ws.tree.worktrees_dir().join(&entry.id));
    }
    progress.line(&format!("{}: failed: {reason}", entry.id));
    tracing::warn!(step, reason, "failed");
    Ok(())
}

/// Send a claimed task that ran into a usage or rate limit back to the front of
/// todo/, with no attempt spent, and pause the queue: until the limit's reset
/// time, else for the backoff. The worktree goes (the next attempt starts from
/// the base); the limit is friction (`rate-limited`). Returns the pause.
pub fn requeue(
    ws: &Workspace,
    entry: &Entry,
    mut record: Record,
    task: &crate::task::Task,
    limit: &Limit,
    keep: bool,
    progress: &Progress,
) -> Result<Pause, QueueError> {
    let now = Timestamp::now();
    let pause = pause::pause_for(&ws.tree, limit, Some(&entry.id), now)
        .map_err(|e| PathError::new("write", &pause::path(&ws.tree), e))?;
    let describe = pause.describe(now);
    friction::note(
        &ws.tree,
        friction::Event::new(
            "rate-limited",
            Step::Agent.name(),
            &format!("{}: {}; {describe}", limit.kind.label(), limit.message),
        )
        .task(&entry.id, record.attempt),
    );
    record.reason = Some(format!("{}: {}", limit.kind.label(), limit.message));
    record.finished_at = Some(now);
    record.agent_pgid = None;
    // Where it left its branch: the next claim may reset it while it is there.
    if record.has(Step::Worktree) {
        record.branch_tip = ws.repo.branch_commit(&entry.id);
    }
    // The folder it was queued in named its agent: it goes back there.
    let folder =
        (task.agent.is_none() && record.agent != "default").then_some(record.agent.as_str());
    queue::requeue(&ws.tree, entry, &record, folder, "paused")?;
    if !keep {
        retire(ws, &ws.tree.worktrees_dir().join(&entry.id));
    }
    progress.line(&format!(
        "{}: {} ({}); back at the front of todo/, the queue is {describe}",
        entry.id,
        limit.kind.label(),
        limit.message
    ));
    tracing::warn!(kind = limit.kind.label(), until = %pause.until, "paused");
    Ok(pause)
}

/// Recycle the worktree (or remove it); a worktree that cannot be is pruned by
/// `clean` later, so this never fails the task. A worktree some process still
/// works in (the shim ended every process of the task; this is someone else's)
/// is left where it is: the next task must not share it.
pub(super) fn retire(ws: &Workspace, worktree: &std::path::Path) {
    let left = crate::agent::process::processes_in(worktree);
    if !left.is_empty() {
        tracing::warn!(
            "not recycling the worktree {}: processes {left:?} still work in it (`git agentos clean` removes it later)",
            worktree.display()
        );
        return;
    }
    if let Err(e) = ws.repo.retire_worktree(worktree) {
        tracing::warn!("cannot retire the worktree {}: {e}", worktree.display());
    }
}

/// A task that cannot be moved to its final folder stays, journalled, in doing/:
/// the error names the folder (the hint, that the next run finishes it).
pub(super) fn finish_error(
    ws: &Workspace,
    entry: &Entry,
    to: State,
    source: std::io::Error,
) -> QueueError {
    let dir = ws.tree.state_dir(to);
    QueueError::Finish {
        id: entry.id.clone(),
        rel: ws.rel(&dir).into_owned(),
        dir,
        source,
    }
}

/// The most of the agent's summary a result section quotes.
const SUMMARY_BYTES: usize = 32 * 1024;

/// The section appended to a finished task's file in done/.
pub(super) fn result_section(record: &Record) -> String {
    let mut out = format!("{}\n", crate::task::RESULT_MARKER);
    if let Some(branch) = &record.branch {
        out.push_str(&format!("- branch: `{branch}`\n"));
    }
    if let Some(commit) = &record.commit {
        out.push_str(&format!("- commit: `{commit}`\n"));
    }
    if let Some(base) = &record.base_commit {
        out.push_str(&format!("- base: `{base}`\n"));
    }
    if let (Some(remote), Some(commit)) = (&record.pushed_to, &record.pushed_commit) {
        out.push_str(&format!("- pushed: `{commit}` to `{remote}`\n"));
    }
    if let Some(url) = &record.pr_url {
        out.push_str(&format!("- pull request: {url}\n"));
    }
    if let Some(review) = &record.review {
        if let Some(merged) = &review.merged {
            let by = merged
                .by
                .as_deref()
                .map(|b| format!(" by @{b}"))
                .unwrap_or_default();
            let commit = merged
                .commit
                .as_deref()
                .map(|c| format!(" as `{c}`"))
                .unwrap_or_default();
            out.push_str(&format!("- merged{by}{commit}\n"));
        }
        if review.rounds > 0 {
            out.push_str(&format!("- revision rounds: {}\n", review.rounds));
        }
    }
    if let Some(note) = &record.published_note {
        out.push_str(&format!("- output: {note}\n"));
    }
    out.push_str(&format!(
        "- agent: {} (attempt {})\n",
        record.agent, record.attempt
    ));
    if let Some(result) = &record.agent_result {
        out.push_str(&format!("- outcome: {}\n", result.describe()));
        if let Some(session) = &result.session_id {
            out.push_str(&format!("- session: `{session}`\n"));
        }
    }
    if let Some(at) = record.finished_at {
        out.push_str(&format!("- finished: {at}\n"));
    }
    if let Some(summary) = record
        .agent_result
        .as_ref()
        .and_then(|r| r.summary.as_deref())
    {
        // Cut to fit, so a finished task stays within its limit (see task::load_finished).
        let room = SUMMARY_BYTES.min(crate::task::MAX_RESULT_BYTES as usize / 2);
        let cut = (0..=summary.len().min(room))
            .rev()
            .find(|i| summary.is_char_boundary(*i))
            .unwrap_or(0);
        out.push('\n');
        for line in summary[..cut].lines() {
            out.push_str(&format!("> {line}\n"));
        }
        if cut < summary.len() {
            out.push_str("> … (cut; the whole summary is in the record)\n");
        }
    }
    out
}
