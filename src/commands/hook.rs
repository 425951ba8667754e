//! `git agentos hook post-commit` (internal): what the installed hook runs after
//! each commit. It never fails the commit; what it did goes to stderr.
use crate::error::CmdResult;
use crate::term::untrusted;
use std::path::Path;

/// (internal) Hook entry points, called by the installed shim.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub hook: HookName,
}

#[derive(clap::Subcommand, Debug)]
pub enum HookName {
    /// After a commit: queue the tasks it asks for, then wake the dispatcher.
    PostCommit,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    match args.hook {
        HookName::PostCommit => post_commit(dir),
    }
    Ok(())
}

fn post_commit(dir: &Path) {
    // A state that leads outside the repository is never written to, not even
    // the friction log: the hook says so and does nothing.
    if let Ok(ws) = crate::workspace::Workspace::discover_unchecked(dir) {
        let problems = crate::queue::check_state_paths(&ws.tree);
        if let Some(problem) = problems.iter().find(|p| p.is_link) {
            eprintln!(
                "git agentos: post-commit: nothing queued: {}; {}",
                untrusted(&problem.to_string()),
                untrusted(&problem.fix)
            );
            return;
        }
    }
    let Some((intake, log_error)) = crate::hooks::post_commit::run(dir) else {
        return;
    };
    for id in &intake.enqueued {
        eprintln!("git agentos: queued {}", untrusted(id));
    }
    if let Some(e) = log_error {
        eprintln!("git agentos: post-commit: {}", untrusted(&e.to_string()));
    }
    if let Some(first) = intake.errors.first() {
        let more = intake.errors.len() - 1;
        let more = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        eprintln!(
            "git agentos: post-commit: {}{more}; logged to .agentos/friction.jsonl",
            untrusted(first)
        );
    }
}
