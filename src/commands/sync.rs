//! `git agentos sync`: one pass over the open pull requests, then exit.
use super::run::print_summary;
use crate::dispatch;
use crate::error::{CmdResult, CommandError};
use crate::queue::State;
use crate::workspace::Workspace;
use std::path::Path;

/// One pass over the open pull requests of the tasks in review/ (or only ID), then
/// exit.
///
/// Each pull request is read with conditional requests (an unchanged one costs no
/// rate limit); a review requesting changes, an `@agentos` comment, a failing check
/// or a conflict starts a revision round; a merged task moves to done/, a closed
/// one to failed/. For cron, CI or a person; `watch` does the same on its own
/// schedule. Exits 1 when a pull request was closed without merging.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this task (in review/).
    pub id: Option<String>,
    /// Keep the worktree of each round for inspection.
    #[arg(long)]
    pub keep: bool,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    if let Some(id) = &args.id {
        let entry = ctx.find_task(id)?;
        if entry.state != State::Review {
            return Err(CommandError::invalid(format!(
                "`{id}` is in {}/, not in review/: it has no open pull request to follow",
                entry.state.name()
            ))
            .hint(
                "`git agentos list --state review` shows the tasks whose pull requests are open",
            ));
        }
    }
    let summary = dispatch::sync(&ctx, args.id.as_deref(), args.keep)?;
    print_summary(&summary);
    if let Some(sig) = summary.interrupted {
        return Err(CommandError::failed(format!(
            "stopped by signal {sig}; run again to resume"
        )));
    }
    if summary.done.is_empty() && summary.failed.is_empty() && summary.review.is_empty() {
        outln!("No open pull requests to follow: review/ is empty.");
    }
    if !summary.failed.is_empty() {
        return Err(CommandError::failed(format!(
            "{} task(s) failed; see `git agentos list --state failed`",
            summary.failed.len()
        )));
    }
    Ok(())
}
