//! The round's commit step: what the agent left is committed on the task
//! branch (the merge commit, with the base as its second parent, when the
//! round merged the base in). A merge whose conflict markers remain stops the
//! round; a round whose agent changed nothing has no commit, and replies so.
use super::{round, Outcome};
use crate::pipeline::TaskRun;
use crate::queue::QueueError;

pub fn run(run: &mut TaskRun) -> Result<Outcome, QueueError> {
    if !run.worktree.is_dir() {
        return Ok(Outcome::Stop(format!(
            "the worktree {} disappeared before the commit",
            run.worktree.display()
        )));
    }
    let id = run.entry.id.clone();
    let r = round(run).clone();
    let left = crate::git::with_conflict_markers(&run.worktree, &r.conflicts);
    if !left.is_empty() && run.ws.repo.merging(&id, &run.worktree) {
        let files: Vec<String> = left.iter().map(|f| format!("`{f}`")).collect();
        return Ok(Outcome::Stop(format!(
            "conflict markers remain in {}: the merge of `{}` was not resolved",
            files.join(", "),
            r.base_branch
        )));
    }
    let mut message = format!(
        "{} (round {})\n\nAnswers {}.\n",
        run.task.title,
        r.number,
        r.answering()
    );
    if r.merging {
        message = format!(
            "Merge `{}` into {} (round {})\n\nAnswers {}.\n",
            r.base_branch,
            crate::git::task_branch(&id),
            r.number,
            r.answering()
        );
    }
    message.push_str(&format!("\nAgentos-Task: {id}\n"));
    let merged = r.base_tip.as_deref().filter(|_| r.merging);
    if let Err(e) = run
        .ws
        .repo
        .commit_task(&id, &run.worktree, &message, merged)
    {
        return Ok(Outcome::Stop(format!("commit: {e}")));
    }
    crate::fault::point("round-mid-commit");
    // The branch's tip, whether this attempt or one a crash cut short made it.
    let tip = run.ws.repo.branch_commit(&id);
    let commit = tip.filter(|t| Some(t) != r.head.as_ref());
    let changed = match (&commit, &r.head) {
        (Some(_), Some(head)) => run
            .ws
            .repo
            .changes(&id, head, &run.worktree)
            .map(|changes| {
                changes
                    .iter()
                    .map(crate::pipeline::verify::describe_path)
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let r = round(run);
    r.commit = commit;
    r.changed = changed;
    Ok(Outcome::Done)
}
