//! The round's push step: the round's commit goes to the remote as a
//! fast-forward of the branch it was made on, never forced, so whatever people
//! pushed stays. When the remote moved meanwhile, the round starts over once
//! from a fresh fetch; the second time it stops with the reason.
use super::{remote, round, Outcome};
use crate::git::{task_branch, GitError};
use crate::pipeline::TaskRun;
use crate::queue::QueueError;

pub fn run(run: &mut TaskRun) -> Result<Outcome, QueueError> {
    let r = round(run).clone();
    let Some(commit) = r.commit.clone() else {
        return Ok(Outcome::Done); // nothing to push
    };
    let (remote, token) = match remote(run) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Stop(format!("push: {e}"))),
    };
    let id = run.entry.id.clone();
    match run
        .ws
        .repo
        .push_fast_forward(&remote, &id, token.as_deref(), &run.settings.forge_env.api)
    {
        Ok(sha) if sha == commit => {
            // Pushed, and nothing recorded yet: a resume pushes again (a no-op).
            crate::fault::point("round-mid-push");
            round(run).pushed = Some(sha);
            run.save()?;
            run.say(&format!(
                "round {}: pushed {} to {remote} (fast-forward)",
                r.number,
                task_branch(&id)
            ));
            Ok(Outcome::Done)
        }
        Ok(sha) => Ok(Outcome::Stop(format!(
            "push: the local branch is at {sha}, not at the round's commit {commit}"
        ))),
        Err(GitError::NotFastForward { .. }) if !r.redone => {
            run.say(&format!(
                "round {}: {} moved on {remote} while the round worked; starting the round over",
                r.number,
                task_branch(&id)
            ));
            let again = round(run);
            again.redone = true;
            again.steps.clear();
            again.head = None;
            again.base_tip = None;
            again.commit = None;
            again.conflicts.clear();
            again.verdict = None;
            run.save()?;
            Ok(Outcome::Redo)
        }
        Err(GitError::NotFastForward { .. }) => Ok(Outcome::Stop(format!(
            "{} moved on `{remote}` while the round worked, twice; nothing was pushed (people's pushes stay)",
            task_branch(&id)
        ))),
        Err(e) => Ok(Outcome::Stop(crate::forge::redact(&format!("push: {e}")))),
    }
}
