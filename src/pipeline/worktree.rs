//! The worktree step: branch `agentos/<id>` at the base commit, checked out in
//! `.agentos/worktrees/<id>` (a recycled worktree when the pool has one). A
//! branch of that name the task did not create is never reset: the task fails
//! and names it.
use super::{StepOutcome, TaskRun};
use crate::git::Branch;
use crate::queue::{self, QueueError};

pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    let base = match run.base() {
        Ok(base) => base,
        Err(failed) => return Ok(failed),
    };
    let branch = match branch_mode(run) {
        Ok(branch) => branch,
        Err(failed) => return Ok(failed),
    };
    // Journalled before the branch is made: a resume after a crash right after
    // `git worktree add` knows the branch at the base is the task's own.
    if !run.record.branch_created {
        run.record.branch_created = true;
        run.save()?;
    }
    if let Err(e) = run
        .ws
        .repo
        .fresh_worktree(&run.entry.id, &base, &run.worktree, branch)
    {
        return Ok(StepOutcome::Failed(format!("worktree: {e}")));
    }
    Ok(StepOutcome::Done)
}

/// How the task may take its branch: create it when there is none; reset it
/// when the task made it (in this claim, or in an earlier life that left it
/// where it is now, before a `retry`). Any other branch of that name is a
/// person's: the task fails, naming it.
pub fn branch_mode(run: &TaskRun) -> Result<Branch, StepOutcome> {
    let id = &run.entry.id;
    let Some(tip) = run.ws.repo.branch_commit(id) else {
        return Ok(Branch::Create);
    };
    if run.record.owns_branch_at(&tip) {
        return Ok(Branch::Reset);
    }
    let earlier = queue::earlier_records(&run.ws.tree.runs_dir(), id);
    let left_there = earlier.last().is_some_and(|r| {
        r.owns_branch_at(&tip)
            && [&r.branch_tip, &r.commit, &r.base_commit]
                .iter()
                .any(|c| c.as_deref() == Some(tip.as_str()))
    });
    if left_there {
        return Ok(Branch::Reset);
    }
    let taken = run.ws.repo.branch_taken(id);
    Err(StepOutcome::Failed(format!(
        "worktree: {taken}; rename or delete it (`git branch -m {b} {b}-mine`), then `git agentos retry {id}`",
        b = crate::git::task_branch(id)
    )))
}
