//! `git agentos run`: the dispatcher in the foreground, until the queue is empty.
use crate::dispatch::{self, Options, Summary};
use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// Process the queue: claim each task in turn, run its agent in a fresh worktree on
/// branch agentos/<id>, commit the result, and move the task to review/, done/ or
/// failed/. Exits when the queue is empty.
///
/// A task whose pull request is open waits in review/: `watch` or `sync` follows it.
///
/// Tasks left in doing/ by a dispatcher that died are resumed first, at the first
/// step not yet done. Only one `run` or `watch` per repository: a second one exits
/// with code 3 and names the holder.
#[derive(clap::Args, Debug)]
pub struct Args {
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

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    warn_if_an_ancestor_holds_the_token();
    let summary = dispatch::run(
        &ctx,
        Options {
            once: args.once,
            keep: args.keep,
            no_pr: args.no_pr,
            watch: false,
            agent_command: None,
            jobs: args.jobs,
            label: None,
        },
    )?;
    conclude(summary)
}

/// Say once, before any agent starts, when the token is readable in the
/// environment of the process that started this one.
pub(super) fn warn_if_an_ancestor_holds_the_token() {
    if let Some((pid, name)) = crate::secrets::held_by_ancestor() {
        eprintln!(
            "warning: {}",
            untrusted(&crate::secrets::ancestor_warning(pid, &name))
        );
    }
}

pub(super) fn print_summary(summary: &Summary) {
    for id in &summary.done {
        outln!("done    {}", untrusted(id));
    }
    for (id, what) in &summary.review {
        outln!("review  {}: {}", untrusted(id), untrusted(what));
    }
    for (id, reason) in &summary.failed {
        outln!("failed  {}: {}", untrusted(id), untrusted(reason));
    }
}

pub(super) fn conclude(mut summary: Summary) -> CmdResult {
    print_summary(&summary);
    if let Some(halted) = summary.halted.take() {
        return Err(halted.into());
    }
    if let Some(sig) = summary.interrupted {
        return Err(CommandError::new(
            ErrorKind::Failed,
            format!("stopped by signal {sig}; run again to resume"),
        ));
    }
    for (id, why) in &summary.held {
        outln!("held    {}: {}", untrusted(id), untrusted(why));
    }
    for (id, _) in &summary.paused {
        outln!(
            "paused  {}: back at the front of todo/, no attempt spent",
            untrusted(id)
        );
    }
    if let Some(pause) = &summary.pause {
        outln!(
            "The queue is {}; `git agentos resume` ends the pause.",
            untrusted(pause)
        );
    } else if summary.done.is_empty()
        && summary.failed.is_empty()
        && summary.review.is_empty()
        && summary.held.is_empty()
    {
        outln!("The queue is empty.");
    }
    if !summary.failed.is_empty() {
        return Err(CommandError::failed(format!(
            "{} task(s) failed; see `git agentos list --state failed`",
            summary.failed.len()
        )));
    }
    Ok(())
}
