//! `git agentos watch`: the long-running dispatcher, idle at zero cost; with
//! `--fleet`, one for every repository of the fleet.
use super::run::{conclude, print_summary};
use crate::dispatch::{self, Options};
use crate::error::CmdResult;
use crate::workspace::Workspace;
use std::path::Path;

/// The long-running dispatcher: process the queue, then wait for new task files
/// (file-system events; no polling, no CPU while idle) and process those too.
/// SIGINT or SIGTERM stops it cleanly; a task it was running is resumed by the next
/// dispatcher.
///
/// It also follows the open pull requests of the tasks in review/ (a pass a
/// minute after a change, backing off to every 30 minutes; none while review/ is
/// empty) and runs the revision rounds they ask for.
///
/// With --fleet it serves every repository linked in $AGENTOS_HOME/fleet/
/// (see `git agentos fleet`): one task at a time across them all (or --jobs N),
/// higher priority first, then the repository served least recently. It holds
/// each repository's dispatcher lock while it serves it; one whose lock another
/// dispatcher holds is skipped until that one ends.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Keep each task's worktree for inspection.
    #[arg(long)]
    pub keep: bool,
    /// Do not open pull requests (nor follow those open: no request to GitHub).
    #[arg(long)]
    pub no_pr: bool,
    /// Run up to N tasks at once, never two whose targets may overlap.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// Serve every repository of the fleet ($AGENTOS_HOME/fleet/<name>), and
    /// those linked while it runs.
    #[arg(long)]
    pub fleet: bool,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let opts = Options {
        once: false,
        keep: args.keep,
        no_pr: args.no_pr,
        watch: true,
        agent_command: None,
        jobs: args.jobs,
        label: None,
    };
    if args.fleet {
        super::run::warn_if_an_ancestor_holds_the_token();
        let home = crate::memory::agentos_home()?;
        let dir = crate::fleet::fleet_dir(&home);
        std::fs::create_dir_all(&dir).map_err(crate::path_error::PathError::at("create", &dir))?;
        crate::logging::log_to_file(&home.join("fleet-dispatcher.log"))?;
        let summary = crate::fleet::watch(&dir, opts)?;
        print_summary(&summary);
        return Ok(());
    }
    let ctx = Workspace::discover(dir)?;
    super::run::warn_if_an_ancestor_holds_the_token();
    ctx.ensure_runtime()?;
    crate::logging::log_to_file(&ctx.tree.runs_dir().join("dispatcher.log"))?;
    let summary = dispatch::run(&ctx, opts)?;
    if summary.interrupted.is_some() && summary.halted.is_none() {
        print_summary(&summary);
        return Ok(());
    }
    conclude(summary)
}
