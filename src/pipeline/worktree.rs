//! The worktree step: branch `agentos/<id>` at the base commit, checked out in
//! `.agentos/worktrees/<id>` (a recycled worktree when the pool has one). A
//! branch of that name the task did not create is never reset: the task fails
//! and names it. While `watch` is idle with an empty pool, one worktree at HEAD
//! is prepared ahead in the background ([`prepare_while_idle`]).
use super::{StepOutcome, TaskRun};
use crate::git::{Branch, Repo};
use crate::queue::{self, QueueError};
use crate::workspace::Workspace;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Prepare one worktree at HEAD in the pool, on a thread of its own at a low
/// priority (crate::priority), when the pool is empty: `watch` calls this when
/// it starts and after each task. A task that needs a worktree meanwhile waits
/// for it (the worktree lock) and takes it. At most one preparation at a time;
/// the thread is returned for tests and benchmarks to join.
pub fn prepare_while_idle(ws: &Workspace) -> Option<std::thread::JoinHandle<()>> {
    static PREPARING: AtomicBool = AtomicBool::new(false);
    if PREPARING.swap(true, Ordering::SeqCst) {
        return None;
    }
    let root = ws.tree.repo_root.clone();
    // Any task's worktree path names the pool beside it.
    let beside = ws.tree.worktrees_dir().join("next");
    let spawned = std::thread::Builder::new()
        .name("pool-prepare".into())
        .spawn(move || {
            crate::priority::lower_this_thread(crate::priority::Io::Lowest);
            let prepared = Repo::discover(&root).and_then(|repo| {
                let (head, _) = repo.head()?;
                repo.prepare_pool_slot(&beside, &head)
            });
            match prepared {
                Ok(made) => tracing::debug!(made, "pool prepared while idle"),
                Err(e) => tracing::warn!(error = %e, "cannot prepare a worktree while idle"),
            }
            PREPARING.store(false, Ordering::SeqCst);
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(e) => {
            PREPARING.store(false, Ordering::SeqCst);
            tracing::warn!(error = %e, "cannot start preparing a worktree");
            None
        }
    }
}
