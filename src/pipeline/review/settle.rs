//! How a followed pull request ends: merged, the task moves to done/ with its
//! result (the merge commit, who merged, the rounds) appended; closed without
//! merging, it moves to failed/ ("closed without merging by @login"), its file
//! untouched, and the friction log says so.
use super::review;
use crate::clock::Timestamp;
use crate::friction;
use crate::pipeline::finish::{finish_error, retire, to_done};
use crate::pipeline::TaskRun;
use crate::queue::review::{Merged, Phase};
use crate::queue::{self, QueueError, State};

/// Merged: to done/.
pub fn merged(
    run: &mut TaskRun,
    commit: Option<String>,
    by: Option<String>,
) -> Result<(), QueueError> {
    let r = review(run);
    r.phase = Phase::Merged {
        by: by.clone(),
        commit: commit.clone(),
    };
    r.merged = Some(Merged {
        commit: commit.clone(),
        by: by.clone(),
    });
    r.round = None;
    r.next_pass = None;
    if let Some(reason) = to_done(run)? {
        crate::pipeline::finish::fail(
            run.ws,
            &run.entry,
            run.record.clone(),
            &reason,
            Some(&run.task),
            run.settings.keep,
            run.progress,
        )?;
        run.say(&reason);
        return Ok(());
    }
    let who = by.map(|b| format!(" by @{b}")).unwrap_or_default();
    run.say(&format!("merged{who} → done/"));
    tracing::info!(commit = commit.as_deref(), "merged");
    Ok(())
}

/// Closed without merging: to failed/. Returns the reason.
pub fn closed(run: &mut TaskRun, by: Option<String>) -> Result<String, QueueError> {
    let who = by
        .as_deref()
        .map(|b| format!(" by @{b}"))
        .unwrap_or_default();
    let reason = format!(
        "closed without merging{who} (pull request {})",
        run.record.pr_url.as_deref().unwrap_or("?")
    );
    let r = review(run);
    r.phase = Phase::Closed { by };
    r.closed_by = match &r.phase {
        Phase::Closed { by } => by.clone(),
        _ => None,
    };
    r.round = None;
    r.next_pass = None;
    friction::note(
        &run.ws.tree,
        friction::Event::new("pr-closed", "review", &reason)
            .task(&run.entry.id, run.record.attempt),
    );
    run.record.reason = Some(reason.clone());
    run.record.finished_at = Some(Timestamp::now());
    queue::finish(&run.ws.tree, &run.entry, &run.record, State::Failed, None)
        .map_err(|e| finish_error(run.ws, &run.entry, State::Failed, e))?;
    if !run.settings.keep {
        retire(run.ws, &run.worktree);
    }
    run.say(&format!("failed: {reason}"));
    Ok(reason)
}
