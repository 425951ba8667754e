//! `git agentos verify`: check a task's change again and print the report.
use crate::error::{CmdResult, CommandError};
use crate::path_error::PathError;
use crate::pipeline::verify;
use crate::queue;
use crate::queue::State;
use crate::task;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::io::IsTerminal;
use std::path::Path;

/// Verify a task's change again: its worktree if it still exists (what the agent
/// left, committed or not), else its branch. Prints the Markdown report (in colour
/// on a terminal) and exits 1 when the change is rejected.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The task id.
    pub id: String,
    /// Skip the task's `verify` commands.
    #[arg(long)]
    pub no_commands: bool,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    let entry = ctx.find_task(&args.id)?;
    if entry.state == State::Todo {
        return Err(CommandError::invalid(format!(
            "`{}` has not run yet: there is nothing to verify",
            args.id
        ))
        .hint(format!(
            "`git agentos run` runs the queue (or `git agentos show {}` shows the task)",
            args.id
        )));
    }
    let record = queue::read_record(&entry.record_path())
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut task = if entry.state == State::Done {
        task::load_finished(&entry.path)?
    } else {
        task::load(&entry.path)?
    };
    if args.no_commands {
        task.verify.clear();
    }
    let worktree = ctx.tree.worktrees_dir().join(&entry.id);
    let log_dir = ctx.tree.runs_dir().join(&entry.id).join("verify");
    std::fs::create_dir_all(&log_dir).map_err(PathError::at("create", &log_dir))?;
    // The task's agent decides how its verify commands are confined; an agent
    // whose folder is gone meanwhile is judged as the default one.
    let agent_name = Some(record.agent.clone())
        .filter(|a| !a.is_empty())
        .or_else(|| task.agent.clone())
        .unwrap_or_else(|| "default".into());
    let agent = crate::agent::config::load(&ctx.tree, &agent_name, None)
        .or_else(|_| crate::agent::config::load(&ctx.tree, "default", None))?;
    let report = verify::verify_task(
        &verify::Subject {
            repo: &ctx.repo,
            id: &entry.id,
            task: &task,
            record: &record,
            agent: &agent,
        },
        &worktree,
        &log_dir,
        &|| false,
    )?;
    let md = verify::markdown(&report);
    let path = log_dir.join("report.md");
    crate::durable::write(&path, md.as_bytes()).map_err(PathError::at("write", &path))?;
    // Paths, diff lines and command output come from the agent's change.
    let shown = untrusted(&md);
    if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        print!("{}", verify::coloured(&shown));
    } else {
        print!("{shown}");
    }
    if report.passed {
        Ok(())
    } else {
        Err(CommandError::failed(report.reason()))
    }
}
