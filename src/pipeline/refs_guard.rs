//! The refs guard around every step in which something other than the
//! dispatcher's own code could move a ref (the agent, the verify commands) or in
//! which the dispatcher writes one (the commit): the refs are read before and
//! after, and a ref moved, made or deleted fails the task (friction `escape`),
//! restoring nothing behind the person's back.
use super::StepOutcome;
use crate::queue::{self, Tree};

/// Which refs the guard reads: all but the task's own branch, remote-tracking
/// refs (a fetch moves them), the branches of the queue's other tasks (the
/// dispatcher's other workers make, move and publish them meanwhile), and, when
/// what runs cannot move refs itself (the sandbox keeps it from every ref, or it
/// is the dispatcher's own commit), the branch checked out in the main working
/// tree, where the person may commit meanwhile.
pub(super) struct RefsGuard<'a> {
    repo: &'a crate::git::Repo,
    tree: &'a Tree,
    own: String,
    person: Option<String>,
}

impl<'a> RefsGuard<'a> {
    pub(super) fn new(
        ws: &'a crate::workspace::Workspace,
        id: &str,
        confined: bool,
    ) -> RefsGuard<'a> {
        RefsGuard {
            repo: &ws.repo,
            tree: &ws.tree,
            own: format!("refs/heads/{}", crate::git::task_branch(id)),
            person: confined.then(|| ws.repo.main_checkout_branch()).flatten(),
        }
    }

    /// Read the guarded refs now.
    pub(super) fn snapshot(&self) -> Result<crate::git::RefSnapshot, crate::git::GitError> {
        self.repo.ref_snapshot(&self.skip())
    }

    /// The refs not guarded, as the queue stands now.
    fn skip(&self) -> impl Fn(&str) -> bool + '_ {
        let tasks = queue::all_ids(self.tree).unwrap_or_default();
        move |name: &str| {
            name == self.own
                || name.starts_with("refs/remotes/")
                || self.person.as_deref() == Some(name)
                || name
                    .strip_prefix("refs/heads/agentos/")
                    .is_some_and(|id| tasks.contains(id))
        }
    }

    fn hint(&self) -> &'static str {
        if self.person.is_some() {
            ""
        } else {
            "; if you moved it yourself while the agent ran, retry the task"
        }
    }
}

impl RefsGuard<'_> {
    /// The guard's verdict after a step that `who` ran: the task's failure when
    /// a guarded ref changed since `before` (or the refs cannot be read).
    pub(super) fn moved_since(
        &self,
        before: crate::git::RefSnapshot,
        who: &str,
        step: &str,
    ) -> Option<StepOutcome> {
        match self.snapshot() {
            Ok(after) => {
                let changes = before.without(&self.skip()).changes(&after);
                if changes.is_empty() {
                    return None;
                }
                let what: Vec<String> = changes.iter().map(|c| format!("{who} {c}")).collect();
                Some(StepOutcome::Failed(format!(
                    "{}; git agentos restored nothing (see `git reflog`){}",
                    what.join("; "),
                    self.hint()
                )))
            }
            Err(e) => Some(StepOutcome::Failed(format!("{step}: {e}"))),
        }
    }
}
