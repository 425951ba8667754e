//! Retry: a failed task back into todo/, with a `retry` line in the friction log.
use crate::friction::{self, Event};
use crate::queue::{self, QueueError};
use crate::workspace::Workspace;

/// Queue the failed task `id` again (failed/ back to todo/; its record is kept in
/// runs/<id>/) and note it in the friction log with the reason it had failed.
pub fn retry(ws: &Workspace, id: &str) -> Result<(), QueueError> {
    let entry = ws.find_task(id)?;
    let reason = queue::retry(&ws.tree, &entry)?;
    let mut event = Event::new(
        "retry",
        "",
        &format!(
            "queued again after: {}",
            reason.lines().next().unwrap_or("(no reason)")
        ),
    );
    event.task = Some(entry.id.clone());
    friction::note(&ws.tree, event);
    Ok(())
}
