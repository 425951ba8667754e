//! The commit step: what the agent left is committed on the task branch, built
//! from the worktree's files after checking that the agent left git's metadata
//! alone (its `.git` file, its records, its settings, HEAD on the task branch),
//! onto `refs/heads/agentos/<id>` only (compare-and-swap from the tip it read),
//! inside the refs guard; a branch identical to its base fails the task.
use super::refs_guard::RefsGuard;
use super::{StepOutcome, TaskRun};
use crate::git::GitError;
use crate::queue::QueueError;

pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    let base = match run.base() {
        Ok(base) => base,
        Err(failed) => return Ok(failed),
    };
    if !run.worktree.is_dir() {
        return Ok(StepOutcome::Failed(format!(
            "the worktree {} disappeared before the commit",
            run.worktree.display()
        )));
    }
    let id = &run.entry.id;
    let message = format!("{}\n\nAgentos-Task: {id}\n", run.task.title);
    let guard = RefsGuard::new(run.ws, id, true);
    let before = match guard.snapshot() {
        Ok(snapshot) => snapshot,
        Err(e) => return Ok(StepOutcome::Failed(format!("commit: {e}"))),
    };
    let committed = run.ws.repo.commit_task(id, &run.worktree, &message);
    if let Some(failed) = guard.moved_since(before, "the commit step", "commit") {
        return Ok(failed);
    }
    match committed {
        Ok(_) => {}
        Err(
            e @ (GitError::Tampered { .. }
            | GitError::TamperedConfig { .. }
            | GitError::TamperedRecord { .. }
            | GitError::WrongHead { .. }),
        ) => {
            return Ok(StepOutcome::Failed(format!(
                "commit: {e}; nothing was committed"
            )))
        }
        Err(e) => return Ok(StepOutcome::Failed(format!("commit: {e}"))),
    }
    crate::fault::point("mid-commit");
    match run.ws.repo.branch_differs_from(id, &base) {
        Ok(true) => {}
        Ok(false) => {
            return Ok(StepOutcome::Failed(
                "the agent made no change: the branch is identical to its base".into(),
            ))
        }
        Err(e) => return Ok(StepOutcome::Failed(format!("commit: {e}"))),
    }
    run.record.commit = run.ws.repo.branch_commit(id);
    Ok(StepOutcome::Done)
}
