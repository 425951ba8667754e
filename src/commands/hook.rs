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
    PostCommit {
        /// The commit that fired the hook (the shim passes it: HEAD may have
        /// moved on by the time this runs); HEAD's when left out.
        #[arg(long, value_name = "SHA")]
        commit: Option<String>,
    },
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    match args.hook {
        HookName::PostCommit { commit } => {
            post_commit(dir, commit.as_deref().filter(|c| !c.is_empty()))
        }
    }
    Ok(())
}

fn post_commit(dir: &Path, commit: Option<&str>) {
    // An agent waits for its commit's hook; anyone else's runs in the background,
    // its work (deciding whether there is any included) at the lowest priority.
    // A state that leads outside the repository is never written to, not even
    // the friction log: the hook says so and does nothing.
    let background = std::env::var_os("AGENTOS_TASK_ID").is_none_or(|v| v.is_empty());
    let Some(ran) = crate::hooks::run::run(dir, commit, background) else {
        return;
    };
    if let Some(why) = ran.refused {
        eprintln!("git agentos: post-commit: {}", untrusted(&why));
        return;
    }
    let (intake, log_error) = (ran.intake, ran.log_error);
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
