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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The task is in failed/.
    Failed,
    /// A dispatcher runs it and had not stopped it in time: it will at its next step.
    Requested,
}

/// Cancel the task `id`.
pub fn cancel(ws: &Workspace, id: &str) -> Result<Cancelled, QueueError> {
    let entry = ws.find_task(id)?;
    match entry.state {
        State::Done | State::Failed => Err(QueueError::Finished {
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
        State::Doing | State::Review => cancel_running(ws, id),
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
        // No dispatcher: nobody runs it; fail it here.
        Ok(_lock) => {
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
            Ok(if entry.path.exists() {
                Cancelled::Requested
            } else {
                Cancelled::Failed
            })
        }
        Err(LockError::Io(e)) => Err(PathError::new("lock", &ws.tree.lock_path(), e).into()),
    }
}
