//! Scheduling: what may run and when. deps.rs holds tasks back until what they
//! name in `after` is done (and quarantines cycles and unknown ids); limits.rs
//! recognises an agent stopped by a usage or rate limit; pause.rs keeps the
//! queue's pause (until a reset time, or a backoff) and ends it on `resume`;
//! spend.rs what agents spent (today, this week) and the daily budget; stack.rs where a stacked
//! task starts (its dependency's branch).
pub mod deps;
pub mod limits;
pub mod pause;
pub mod spend;
pub mod stack;

pub use deps::{gate, Gated, Hold};

use crate::queue::{self, Tree};
use crate::task::{Problem, Task};

/// Check a new task's `after` before it is queued as `id`: every id names a
/// task, and none leads back to `id` (a cycle).
pub fn check_new(tree: &Tree, id: &str, task: &Task) -> Result<(), Problem> {
    if task.after.is_empty() {
        return Ok(());
    }
    let ids = queue::all_ids(tree).unwrap_or_default();
    if let Some(unknown) = task.after.iter().find(|d| !ids.contains(*d) && *d != id) {
        return Err(deps::unknown_id(unknown));
    }
    let ready = queue::inspect_todo(tree)
        .map(|i| i.ready)
        .unwrap_or_default();
    let mut after: std::collections::HashMap<&str, &[String]> = ready
        .iter()
        .map(|r| (r.entry.id.as_str(), r.task.after.as_slice()))
        .collect();
    after.insert(id, task.after.as_slice());
    match deps::cycle_through(id, &after) {
        Some(path) => Err(deps::cycle(&path)),
        None => Ok(()),
    }
}
