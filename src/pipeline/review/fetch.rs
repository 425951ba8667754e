//! The round's first step: fetch the pull request's branch and its base from
//! the remote (people may have pushed to the branch, or accepted a suggestion),
//! check the branch out at that head in the task's worktree, keep the change so
//! far for the agent's prompt, and, when the round answers a conflict, merge
//! the base in, leaving the conflict markers for the agent.
use super::{remote, round, Outcome};
use crate::git::task_branch;
use crate::path_error::PathError;
use crate::pipeline::TaskRun;
use crate::queue::QueueError;

/// The change so far, as the round's agent reads it (in the round's folder).
pub const DIFF_FILE: &str = "diff.patch";

pub fn run(run: &mut TaskRun) -> Result<Outcome, QueueError> {
    let (remote, token) = match remote(run) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Stop(format!("fetch: {e}"))),
    };
    let id = run.entry.id.clone();
    let branch = task_branch(&id);
    let base_branch = round(run).base_branch.clone();
    let fetched = run.ws.repo.fetch_branches(
        &remote,
        &[&branch, &base_branch],
        token.as_deref(),
        &run.settings.forge_env.api,
    );
    let (head, base_tip) = match fetched.as_deref() {
        Ok([head, base]) => (head.clone(), base.clone()),
        Ok(_) => {
            return Ok(Outcome::Stop(
                "fetch: git answered for the wrong branches".into(),
            ))
        }
        Err(e) => return Ok(Outcome::Stop(crate::forge::redact(&format!("fetch: {e}")))),
    };
    let r = round(run);
    r.head = Some(head);
    r.base_tip = Some(base_tip);
    r.merging = r.events.iter().any(|e| e.conflict);
    if let Err(e) = prepare(run) {
        return Ok(Outcome::Stop(e));
    }
    run.save()?;
    Ok(Outcome::Done)
}

/// Check the fetched head out in the worktree (the task branch moves there),
/// write the change so far, and merge the base in when the round merges. Only
/// local work: a resumed agent step calls it again to start over.
pub fn prepare(run: &mut TaskRun) -> Result<(), String> {
    let id = run.entry.id.clone();
    let r = round(run).clone();
    let (Some(head), Some(base_tip)) = (r.head.clone(), r.base_tip.clone()) else {
        return Err("fetch: the round has no head recorded".into());
    };
    let repo = &run.ws.repo;
    repo.fresh_worktree(&id, &head, &run.worktree, crate::git::Branch::Reset)
        .map_err(|e| format!("worktree: {e}"))?;
    let diff = repo
        .merge_base(&base_tip, &head)
        .and_then(|from| repo.changes(&id, &from, &run.worktree))
        .map(|changes| crate::pipeline::verify::unified_diff(&changes))
        .map_err(|e| format!("fetch: cannot read the change so far: {e}"))?;
    let dir = run.run_dir().map_err(|e| e.to_string())?;
    let path = dir.join(DIFF_FILE);
    std::fs::write(&path, diff).map_err(|e| PathError::new("write", &path, e).to_string())?;
    if r.merging && !repo.contains(&head, &base_tip) {
        let conflicts = repo
            .merge_into_worktree(&id, &run.worktree, &base_tip)
            .map_err(|e| format!("merge `{}`: {e}", r.base_branch))?;
        round(run).conflicts = conflicts;
    } else {
        let r = round(run);
        r.merging = false;
        r.conflicts.clear();
    }
    Ok(())
}
