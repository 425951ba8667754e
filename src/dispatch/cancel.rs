//! Cancelling a task from outside the dispatcher: a queued one moves to failed/;
//! a running one gets word (a marker beside it) and its agent's process group is
//! stopped, so its dispatcher fails it at the next step; a claimed one whose
//! dispatcher is gone is failed here.
use super::lock::{DispatcherLock, LockError};
use crate::agent::process;
use crate::clock::Timestamp;
use crate::path_error::PathError;
use crate::pipeline::CANCELLED;
use crate::queue::{self, QueueError, State};
use crate::workspace::Workspace;
use std::time::{Duration, Instant};

/// How a cancel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// The task is in failed/.
    Failed,
    /// A dispatcher runs it and had not stopped it in time: it will at its next step.
    Requested,
    /// It failed for a reason of its own before the cancel reached it (the reason).
    FailedFirst(String),
}

/// Cancel the task `id`. A task that is done (or finishes before its dispatcher
/// sees the cancel) is [`QueueError::TooLate`].
pub fn cancel(ws: &Workspace, id: &str) -> Result<Cancelled, QueueError> {
    let entry = ws.find_task(id)?;
    match entry.state {
        State::Done => Err(QueueError::TooLate { id: id.to_string() }),
        State::Failed => Err(QueueError::Finished {
            id: id.to_string(),
            state: entry.state.name(),
        }),
        State::Todo => {
            let reason = format!("{CANCELLED} before it ran");
            match queue::cancel_queued(&ws.tree, &entry, &reason)? {
                Some(_) => Ok(Cancelled::Failed),
                // Claimed in the meantime: cancel it as a running task.
                None => cancel_running(ws, id),
            }
        }
        State::Doing => cancel_running(ws, id),
    }
}

fn cancel_running(ws: &Workspace, id: &str) -> Result<Cancelled, QueueError> {
    let entry = ws.find_task(id)?;
    queue::request_cancel(&entry)?;
    let mut record = queue::read_record(&entry.record_path())
        .ok()
        .flatten()
        .unwrap_or_default();
    match DispatcherLock::acquire(&ws.tree, "cancel") {
        // No dispatcher: nobody runs it; fail it here (unless the dispatcher
        // finished it and went away a moment ago).
        Ok(_lock) => {
            if std::fs::symlink_metadata(&entry.path).is_err() {
                return landed(ws, id, &entry);
            }
            if let Some(pgid) = record.agent_pgid.take() {
                process::end_stray_group(pgid, id);
            }
            record.reason = Some(CANCELLED.into());
            record.finished_at = Some(Timestamp::now());
            queue::finish(&ws.tree, &entry, &record, State::Failed, None)
                .map_err(PathError::at("move", &entry.path))?;
            Ok(Cancelled::Failed)
        }
        // A dispatcher runs it: stop the agent; the dispatcher fails the task.
        Err(LockError::Held(_)) => {
            if let Some(pgid) = record.agent_pgid {
                // Between steps (no process in the group), the dispatcher sees
                // the request at its next step.
                if !process::processes_in_group(pgid).is_empty() {
                    process::terminate_group_of_task(pgid, id);
                }
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while entry.path.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if entry.path.exists() {
                return Ok(Cancelled::Requested);
            }
            landed(ws, id, &entry)
        }
        Err(LockError::Io(e)) => Err(PathError::new("lock", &ws.tree.lock_path(), e).into()),
    }
}

/// Where a cancelled task went says whether the cancel stopped it.
fn landed(ws: &Workspace, id: &str, entry: &queue::Entry) -> Result<Cancelled, QueueError> {
    let _ = std::fs::remove_file(queue::cancel_marker(entry));
    match ws.find_task(id) {
        Ok(e) if e.state == State::Done => Err(QueueError::TooLate { id: id.to_string() }),
        Ok(e) if e.state == State::Failed => {
            let reason = std::fs::read_to_string(e.reason_path()).unwrap_or_default();
            Ok(if reason.starts_with(CANCELLED) {
                Cancelled::Failed
            } else {
                Cancelled::FailedFirst(reason.trim_end().to_string())
            })
        }
        _ => Ok(Cancelled::Failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::fakes::Fixture;

    /// A dispatcher (the lock held here) finishes the task in done/ after the
    /// cancel asked for it to stop: the cancel says it came too late.
    #[test]
    fn a_cancel_that_arrives_as_the_task_finishes_is_too_late() {
        let fx = Fixture::new();
        let (entry, mut record) = fx.claim();
        let _lock = DispatcherLock::acquire(&fx.ws.tree, "run").expect("lock");
        let cancelling = std::thread::spawn({
            let root = fx.ws.tree.repo_root.clone();
            move || cancel(&Workspace::discover(&root).expect("workspace"), "fix")
        });
        let marker = queue::cancel_marker(&entry);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !marker.exists() {
            assert!(Instant::now() < deadline, "the cancel was never asked for");
            std::thread::sleep(Duration::from_millis(5));
        }
        record.finished_at = Some(Timestamp::now());
        queue::finish(&fx.ws.tree, &entry, &record, State::Done, None).expect("finish");
        let answer = cancelling.join().expect("join");
        assert!(
            matches!(answer, Err(QueueError::TooLate { .. })),
            "{answer:?}"
        );
        assert!(!marker.exists(), "no marker is left behind");
    }
}
