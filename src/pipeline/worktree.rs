//! The worktree step: branch `agentos/<id>` at the base commit, checked out in
//! `.agentos/worktrees/<id>` (a recycled worktree when the pool has one).
use super::{StepOutcome, TaskRun};
use crate::queue::QueueError;

pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    let base = match run.base() {
        Ok(base) => base,
        Err(failed) => return Ok(failed),
    };
    if let Err(e) = run
        .ws
        .repo
        .fresh_worktree(&run.entry.id, &base, &run.worktree)
    {
        return Ok(StepOutcome::Failed(format!("worktree: {e}")));
    }
    Ok(StepOutcome::Done)
}
