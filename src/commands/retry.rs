//! `git agentos retry`: queue a failed task again.
use crate::error::CmdResult;
use crate::workspace::Workspace;
use std::path::Path;

/// Queue a failed task again: move it from failed/ back to todo/ (edit it in failed/
/// first if it was invalid). Its earlier record is kept in runs/<id>/.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The task id.
    pub id: String,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ws = Workspace::discover(dir)?;
    crate::ops::retry(&ws, &args.id)?;
    outln!("queued again: {}", args.id);
    Ok(())
}
