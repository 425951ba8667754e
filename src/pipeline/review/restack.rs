//! A stacked pull request whose dependency merged: its branch rebased onto the
//! base branch (the task's own commits, those after the dependency's head it
//! started from), pushed with a lease on the remote tip it was rebased from,
//! and the pull request retargeted at the base branch. Each step is journalled
//! in the record (`restack`; the rebase in the task's worktree, made afresh at
//! the remote's tip, so people's pushes stay), so a dispatcher killed midway resumes at the
//! first step not done, and never rebases or pushes twice. A rebase that
//! conflicts leaves the branch as it was and asks a person, once.
use super::events::NEEDS_HUMAN;
use super::{remote, review};
use crate::forge::{self, Conditional, Forge};
use crate::friction;
use crate::git::{task_branch, Branch, GitError};
use crate::pipeline::finish::retire;
use crate::pipeline::TaskRun;
use crate::queue::{self, QueueError, Restack, State};

/// Move the branch when the task is stacked and its dependency is done/
/// (merged). `Err` says what failed; the next pass tries again from the step
/// that failed.
pub fn run(run: &mut TaskRun, forge: &dyn Forge) -> Result<Result<(), String>, QueueError> {
    let Some(stacked_on) = run.record.stack_base.clone() else {
        return Ok(Ok(()));
    };
    if run
        .record
        .restack
        .as_ref()
        .is_some_and(|r| !r.conflicts.is_empty())
    {
        return Ok(Ok(())); // a person was asked to rebase it
    }
    let Some(on) = crate::task::stacks_on(&run.task).map(str::to_string) else {
        return Ok(Ok(()));
    };
    if !matches!(queue::find(&run.ws.tree, &on), Ok(Some(e)) if e.state == State::Done) {
        return Ok(Ok(())); // still in review: the pull request stays on its branch
    }
    Ok(steps(run, forge, &stacked_on).map_err(|e| forge::redact(&e)))
}

fn steps(run: &mut TaskRun, forge: &dyn Forge, stacked_on: &str) -> Result<(), String> {
    let id = run.entry.id.clone();
    let branch = task_branch(&id);
    let number = review(run).number;
    let (remote, token) = remote(run)?;
    let token = token.as_deref();
    let save = |run: &mut TaskRun| run.save().map_err(|e| e.to_string());
    let rs = match run.record.restack.clone() {
        Some(rs) => rs,
        None => {
            let onto = forge::base_branch(&run.task, &run.ws.repo).ok_or_else(|| {
                "the task names no base branch to move its pull request to; set `base_branch`"
                    .to_string()
            })?;
            let from = run.record.base_commit.clone().ok_or_else(|| {
                "its record names no commit it started from (`base_commit`)".to_string()
            })?;
            let tips = run
                .ws
                .repo
                .fetch_branches(
                    &remote,
                    &[&onto, &branch],
                    token,
                    &run.settings.forge_env.api,
                )
                .map_err(|e| e.to_string())?;
            let rs = Restack {
                onto,
                onto_commit: tips[0].clone(),
                from,
                old_tip: tips[1].clone(),
                ..Restack::default()
            };
            run.record.restack = Some(rs.clone());
            save(run)?;
            rs
        }
    };
    let rebased = match rs.rebased.clone() {
        Some(commit) => commit,
        None => {
            let repo = &run.ws.repo;
            repo.fresh_worktree(&id, &rs.old_tip, &run.worktree, Branch::Reset)
                .map_err(|e| format!("worktree: {e}"))?;
            let moved = repo
                .rebase_worktree(&id, &run.worktree, &rs.onto_commit, &rs.from)
                .map_err(|e| format!("rebase {branch} onto {}: {e}", rs.onto))?;
            if !run.settings.keep {
                retire(run.ws, &run.worktree);
            }
            match moved {
                Ok(commit) => {
                    crate::fault::point("restack-rebased");
                    set(run, |r| r.rebased = Some(commit.clone()));
                    save(run)?;
                    commit
                }
                Err(files) => return conflict(run, forge, stacked_on, &rs, files),
            }
        }
    };
    if !rs.pushed {
        match run.ws.repo.push_with_lease(
            &remote,
            &id,
            &rs.old_tip,
            token,
            &run.settings.forge_env.api,
        ) {
            Ok(sha) if sha == rebased => {}
            Ok(sha) => return Err(format!("push: {branch} is at {sha}, not at {rebased}")),
            Err(GitError::NotFastForward { .. }) => {
                // Begun again at the next pass, from the remote's new tip.
                run.record.restack = None;
                save(run)?;
                return Err(format!(
                    "{branch} moved on `{remote}` since it was rebased; nothing was pushed (people's pushes stay), and it is rebased again at the next pass"
                ));
            }
            Err(e) => return Err(format!("push: {e}")),
        }
        crate::fault::point("restack-pushed");
        set(run, |r| r.pushed = true);
        run.record.pushed_commit = Some(rebased.clone());
        save(run)?;
    }
    forge
        .retarget(number, &rs.onto)
        .map_err(|e| format!("retarget pull request #{number}: {e}"))?;
    run.record.stack_base = None;
    run.record.restack = None;
    run.record.base_commit = Some(rs.onto_commit.clone());
    save(run)?;
    run.say(&format!(
        "`{stacked_on}` merged: {branch} rebased onto {}, pushed (with lease), pull request #{number} now against {}",
        rs.onto, rs.onto
    ));
    tracing::info!(onto = %rs.onto, commit = %rebased, "restacked");
    Ok(())
}

fn set(run: &mut TaskRun, f: impl FnOnce(&mut Restack)) {
    if let Some(rs) = run.record.restack.as_mut() {
        f(rs);
    }
}

/// The rebase conflicted: the branch stays, a person is asked (a comment and
/// the label), friction says so.
fn conflict(
    run: &mut TaskRun,
    forge: &dyn Forge,
    stacked_on: &str,
    rs: &Restack,
    files: Vec<String>,
) -> Result<(), String> {
    let id = run.entry.id.clone();
    let number = review(run).number;
    let listed = files
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let marker = format!("<!-- agentos:restack-conflict {id} -->");
    let body = format!(
        "{marker}\n**git agentos**: `{stacked_on}` merged, so this pull request should move onto `{}`, but rebasing its commits onto `{}` conflicts in {listed}. The branch is left as it was: a person should rebase it onto `{}`, push it and make `{}` this pull request's base.\n",
        rs.onto, rs.onto, rs.onto, rs.onto
    );
    let mut cache = Conditional::load(&super::pass::cache_path(run));
    let posted = match forge.find_comment(number, &marker, &mut cache) {
        Ok(Some(_)) => Ok(()),
        _ => forge.comment(number, &body).map(|_| ()),
    };
    posted
        .and_then(|_| forge.add_labels(number, &[NEEDS_HUMAN.to_string()]))
        .map_err(|e| format!("cannot ask for a person on pull request #{number}: {e}"))?;
    let reason = format!(
        "rebasing {} onto {} conflicts in {listed}; left for a person",
        task_branch(&id),
        rs.onto
    );
    friction::note(
        &run.ws.tree,
        friction::Event::new("restack-conflict", "review", &reason).task(&id, run.record.attempt),
    );
    set(run, |r| r.conflicts = files);
    review(run).needs_human = true;
    run.save().map_err(|e| e.to_string())?;
    run.say(&format!(
        "pull request #{number}: {reason}; labelled `{NEEDS_HUMAN}`"
    ));
    Ok(())
}
