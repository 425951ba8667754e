//! `git agentos hooks`: install, remove or show the post-commit hook.
use crate::error::CmdResult;
use crate::hooks;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// Manage the post-commit hook that queues work from commits: a task for each
/// `Agentos-Task: <title>` trailer (targets from `Agentos-Targets:`, agent from
/// `Agentos-Agent:`) and for each trigger in .agentos/triggers/ whose paths the
/// commit touched. The hook never runs agents and never fails a commit.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Add the one-line shim to the post-commit hook (core.hooksPath is respected;
    /// an existing hook keeps running).
    Install,
    /// Remove only the shim's lines.
    Uninstall,
    /// Say what is installed, and where.
    Status,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    match args.action {
        Action::Install => {
            let path = hooks::install(&ctx.repo)?;
            println!("installed the post-commit hook: {}", path.display());
        }
        Action::Uninstall => match hooks::uninstall(&ctx.repo)? {
            Some(path) => println!("removed git agentos from {}", path.display()),
            None => println!("the post-commit hook has no git agentos lines; nothing to do"),
        },
        Action::Status => {
            let s = hooks::status(&ctx.repo)?;
            let source = if s.from_hooks_path {
                " (from core.hooksPath)"
            } else {
                ""
            };
            println!("post-commit  {}{source}", s.path.display());
            println!(
                "installed    {}",
                if s.installed {
                    "yes"
                } else {
                    "no (git agentos hooks install)"
                }
            );
            if s.installed && !s.executable {
                println!("warning      the hook is not executable; git will not run it");
            }
            if s.chained {
                println!("chained      the hook also runs lines of its own, kept as they are");
            }
            let triggers = hooks::triggers::load_triggers(&ctx.tree);
            println!("triggers     {}", triggers.len());
            for t in triggers {
                match t {
                    Ok((name, trigger)) => println!(
                        "  {}: {} → template {}",
                        untrusted(&name),
                        untrusted(&trigger.paths.join(", ")),
                        untrusted(&trigger.template)
                    ),
                    Err(e) => println!("  broken: {}", untrusted(&e.to_string())),
                }
            }
        }
    }
    Ok(())
}
