//! `git agentos run` and `git agentos watch`: the dispatcher in the foreground.
use super::Context;
use crate::dispatch::{self, Options, Summary};
use crate::error::{CmdResult, CommandError, ErrorKind};
use std::path::Path;

/// Process the queue: claim each task in turn, run its agent in a fresh worktree on
/// branch agentos/<id>, commit the result, and move the task to done/ or failed/.
/// Exits when the queue is empty.
///
/// Tasks left in doing/ by a dispatcher that died are resumed first, at the first
/// step not yet done. Only one `run` or `watch` per repository: a second one exits
/// with code 3 and names the holder.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Process one task, then exit.
    #[arg(long)]
    pub once: bool,
    /// Keep each task's worktree (.agentos/worktrees/<id>) for inspection.
    #[arg(long)]
    pub keep: bool,
    /// Do not open pull requests: the verified branch is the output.
    #[arg(long)]
    pub no_pr: bool,
    /// Run up to N tasks at once, never two whose targets may overlap.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1)]
    pub jobs: usize,
}

/// The long-running dispatcher: process the queue, then wait for new task files
/// (file-system events; no polling, no CPU while idle) and process those too.
/// SIGINT or SIGTERM stops it cleanly; a task it was running is resumed by the next
/// dispatcher.
#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    /// Keep each task's worktree for inspection.
    #[arg(long)]
    pub keep: bool,
    /// Do not open pull requests.
    #[arg(long)]
    pub no_pr: bool,
    /// Run up to N tasks at once, never two whose targets may overlap.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1)]
    pub jobs: usize,
}

pub fn run(dir: &Path, args: RunArgs) -> CmdResult {
    let ctx = Context::discover(dir)?;
    let summary = dispatch::run(
        &ctx,
        Options {
            once: args.once,
            keep: args.keep,
            no_pr: args.no_pr,
            watch: false,
            agent_command: None,
            jobs: args.jobs,
        },
    )?;
    conclude(&summary)
}

pub fn watch(dir: &Path, args: WatchArgs) -> CmdResult {
    let ctx = Context::discover(dir)?;
    let summary = dispatch::run(
        &ctx,
        Options {
            once: false,
            keep: args.keep,
            no_pr: args.no_pr,
            watch: true,
            agent_command: None,
            jobs: args.jobs,
        },
    )?;
    if summary.interrupted.is_some() {
        print_summary(&summary);
        return Ok(());
    }
    conclude(&summary)
}

fn print_summary(summary: &Summary) {
    for id in &summary.done {
        println!("done    {id}");
    }
    for (id, reason) in &summary.failed {
        println!("failed  {id}: {reason}");
    }
}

fn conclude(summary: &Summary) -> CmdResult {
    print_summary(summary);
    if let Some(sig) = summary.interrupted {
        return Err(CommandError::new(
            ErrorKind::Failed,
            format!("stopped by signal {sig}; run again to resume"),
        ));
    }
    if summary.done.is_empty() && summary.failed.is_empty() {
        println!("The queue is empty.");
    }
    if !summary.failed.is_empty() {
        return Err(CommandError::failed(format!(
            "{} task(s) failed; see `git agentos list --state failed`",
            summary.failed.len()
        )));
    }
    Ok(())
}
