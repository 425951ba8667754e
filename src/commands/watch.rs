//! `git agentos watch`: the long-running dispatcher, idle at zero cost.
use super::run::{conclude, print_summary};
use crate::dispatch::{self, Options};
use crate::error::CmdResult;
use crate::workspace::Workspace;
use std::path::Path;

/// The long-running dispatcher: process the queue, then wait for new task files
/// (file-system events; no polling, no CPU while idle) and process those too.
/// SIGINT or SIGTERM stops it cleanly; a task it was running is resumed by the next
/// dispatcher.
#[derive(clap::Args, Debug)]
pub struct Args {
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

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    super::run::warn_if_an_ancestor_holds_the_token();
    ctx.ensure_runtime()?;
    crate::logging::log_to_file(&ctx.tree.runs_dir().join("dispatcher.log"))?;
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
    if summary.interrupted.is_some() && summary.halted.is_none() {
        print_summary(&summary);
        return Ok(());
    }
    conclude(summary)
}
