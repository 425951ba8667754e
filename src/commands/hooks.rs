//! `git agentos hooks`: install, remove or show the post-commit hook.
use crate::error::CmdResult;
use crate::hooks::{self, HookStatus, Installed, Uninstalled};
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// Manage the post-commit hook that queues work from commits: a task for each
/// `Agentos-Task: <title>` trailer (targets from `Agentos-Targets:`, agent from
/// `Agentos-Agent:`) and for each trigger in .agentos/triggers/ whose paths the
/// commit touched. The hook never runs agents and never fails a commit.
///
/// Commits that agents make (in .agentos/worktrees/, or with AGENTOS_TASK_ID
/// set) queue nothing.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Install the hook (core.hooksPath is respected). A shell-script hook gets
    /// our lines after its `#!` line; any other hook is moved aside to
    /// post-commit.before-agentos and run by ours, unchanged.
    Install,
    /// Remove our lines or our hook, putting back the hook it chained as it was.
    Uninstall,
    /// Say what is installed, where, and what runs after a commit.
    Status,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    match args.action {
        Action::Install => {
            let (path, how) = hooks::install(&ctx.repo)?;
            let path = path.display();
            match how {
                Installed::Own | Installed::Chaining(_) => {
                    outln!("installed the post-commit hook: {path}")
                }
                Installed::InScript => {
                    outln!("installed the post-commit hook: added to your shell script {path}")
                }
                Installed::MovedAside(aside) => outln!(
                    "refreshed git agentos's hook at {}, where another tool moved it (its hook at {path} runs it)",
                    aside.display()
                ),
            }
            print_runs(&hooks::status(&ctx.repo)?);
        }
        Action::Uninstall => match hooks::uninstall(&ctx.repo)? {
            Uninstalled::Removed(path) => {
                outln!("removed the post-commit hook {}", path.display())
            }
            Uninstalled::Restored(path) => outln!(
                "removed git agentos's hook; your hook is back at {}, as it was",
                path.display()
            ),
            Uninstalled::Unedited(path) => {
                outln!("removed git agentos's lines from {}", path.display())
            }
            Uninstalled::NotInstalled { stray } => {
                outln!("the post-commit hook has no git agentos lines; nothing to do");
                if let Some(stray) = stray {
                    outln!(
                        "note: {} is a hook an earlier install moved aside; a different hook is in its place now, so it was left where it is",
                        stray.display()
                    );
                }
            }
        },
        Action::Status => {
            print_status(&hooks::status(&ctx.repo)?);
            let triggers = hooks::triggers::load_triggers(&ctx.tree);
            outln!("triggers     {}", triggers.len());
            for t in triggers {
                match t {
                    Ok((name, trigger)) => outln!(
                        "  {}: {} → template {}",
                        untrusted(&name),
                        untrusted(&trigger.paths.join(", ")),
                        untrusted(&trigger.template)
                    ),
                    Err(e) => outln!("  broken: {}", untrusted(&e.to_string())),
                }
            }
        }
    }
    Ok(())
}

fn print_status(s: &HookStatus) {
    let source = if s.from_hooks_path {
        " (from core.hooksPath)"
    } else {
        ""
    };
    outln!("post-commit  {}{source}", s.path.display());
    let installed = match &s.installed {
        None => "no (git agentos hooks install)",
        Some(Installed::Own) | Some(Installed::Chaining(_)) => "yes: git agentos's own hook",
        Some(Installed::InScript) => "yes: our lines in your shell script, after its `#!` line",
        Some(Installed::MovedAside(_)) => {
            "yes: git agentos's hook, moved aside by another tool (a hook manager)"
        }
    };
    outln!("installed    {installed}");
    if let Some(Installed::MovedAside(aside)) = &s.installed {
        outln!("moved to     {}", aside.display());
    }
    print_runs(s);
}

/// The person's hook, and what runs after a commit.
fn print_runs(s: &HookStatus) {
    if let Some(theirs) = &s.theirs {
        let runs = if theirs.executable {
            ""
        } else {
            "; not executable"
        };
        outln!(
            "your hook    {}: {}{runs}",
            theirs.path.display(),
            untrusted(&theirs.kind)
        );
    }
    let their_runs = s.theirs.as_ref().is_some_and(|t| t.executable);
    let runs = match (&s.installed, s.executable) {
        (None, _) if s.theirs.is_none() => "nothing".to_string(),
        (None, _) if !their_runs => {
            "nothing: your hook is not executable, so git does not run it".to_string()
        }
        (None, _) => "your hook only".to_string(),
        (Some(_), false) => {
            "nothing: the hook is not executable, so git does not run it (run hooks install again)"
                .to_string()
        }
        (Some(Installed::MovedAside(aside)), true) => format!(
            "your hook, which runs git agentos's hook at {} if it chains it (as pre-commit, husky and lefthook do)",
            aside.display()
        ),
        (Some(Installed::InScript), true) => {
            "your shell script, which first starts git agentos's intake in the background"
                .to_string()
        }
        (Some(_), true) if s.theirs.is_none() => {
            "git agentos's intake, in the background".to_string()
        }
        (Some(_), true) if !their_runs => "git agentos's intake, in the background; your hook is \
             not executable, so git would not run it and neither does ours"
            .to_string(),
        (Some(_), true) => "git agentos's intake in the background, then your hook with the same \
             arguments and stdin (its exit code is the hook's)"
            .to_string(),
    };
    outln!("runs         {runs}");
}
