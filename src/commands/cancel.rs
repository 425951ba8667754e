//! `git agentos cancel`: fail a queued task, or stop a running one.
use crate::dispatch::cancel::{cancel, Cancelled};
use crate::error::CmdResult;
use crate::workspace::Workspace;
use std::path::Path;

/// Cancel a task: a queued one moves to failed/; a running one has its agent (or
/// its verify command) stopped and fails with "cancelled".
///
/// A task that finishes in done/ before the cancel reaches it is not undone:
/// `cancel` says it came too late and exits 1.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The task id.
    pub id: String,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ws = Workspace::discover(dir)?;
    let id = &args.id;
    match cancel(&ws, id)? {
        Cancelled::Failed => println!("cancelled: {id} (moved to failed/)"),
        Cancelled::Requested => {
            println!("cancel requested: {id}; the dispatcher will stop it at its next step")
        }
        Cancelled::FailedFirst(reason) => println!(
            "{id} failed before the cancel reached it (moved to failed/): {}",
            crate::term::untrusted(&reason)
        ),
    }
    Ok(())
}
