//! Stacked tasks: a task `after` exactly one task (unless `stack = false`)
//! starts from that task's branch head, and its pull request goes against that
//! branch, so it is judged and reviewed on its own change only.
use crate::git::{task_branch, Repo};
use crate::queue::{self, State, Tree};
use crate::task::{self, Task};

/// Where a stacked task starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackBase {
    /// The dependency's id.
    pub on: String,
    /// Its branch: the stacked pull request's base.
    pub branch: String,
    /// The commit its branch is at.
    pub commit: String,
}

/// The base of `task` when it is stacked (None when it is not): its
/// dependency's branch as it is now (the dependency in review/, its pull
/// request open, or done/), else the commit the dependency's record
/// names (a branch `clean` deleted). An error says what is missing.
pub fn base(tree: &Tree, repo: &Repo, task: &Task) -> Result<Option<StackBase>, String> {
    let Some(on) = task::stacks_on(task) else {
        return Ok(None);
    };
    let entry = match queue::find(tree, on) {
        Ok(Some(entry)) if matches!(entry.state, State::Done | State::Review) => entry,
        Ok(Some(entry)) => {
            return Err(format!(
                "it is stacked on `{on}`, which is in {}/, not review/ or done/",
                entry.state.name()
            ))
        }
        _ => return Err(format!("it is stacked on `{on}`, which is no task")),
    };
    let record = queue::read_record(&entry.record_path())
        .ok()
        .flatten()
        .unwrap_or_default();
    let branch = record.branch.clone().unwrap_or_else(|| task_branch(on));
    let commit = [
        Some(format!("refs/heads/{branch}")),
        record.commit.clone(),
        record.pushed_commit.clone(),
    ]
    .into_iter()
    .flatten()
    .find_map(|rev| repo.resolve(&rev).ok())
    .ok_or_else(|| {
        format!(
            "it is stacked on `{on}`, whose branch `{branch}` is gone and whose record names no commit here; set `stack = false` to start from the base instead"
        )
    })?;
    Ok(Some(StackBase {
        on: on.to_string(),
        branch,
        commit,
    }))
}
