//! Intake from git: the post-commit hook and what it does after each commit.
//! install.rs puts the hook beside whatever hook a person has (their lines and
//! their file kept as they are); post_commit.rs enqueues a task per
//! `Agentos-Task:` trailer (requests.rs reads them) and per matching trigger,
//! once per change (seen.rs remembers the changes), and never for an agent's own
//! commits; quick.rs tells in milliseconds when a commit has nothing for it;
//! triggers.rs and templates.rs make those tasks (shell.rs keeps the
//! values out of the text of `verify` commands). It never dispatches and never fails the
//! commit; each run leaves a line in `.agentos/runs/hooks.log`.
pub mod install;
pub mod post_commit;
pub mod quick;
mod requests;
pub mod run;
mod seen;
pub mod shell;
pub mod templates;
pub mod triggers;

pub use install::{hook_path, install, status, uninstall, HookStatus, Installed, Uninstalled};

use crate::git::GitError;
use crate::path_error::PathError;
use std::path::PathBuf;

/// The first line of our block in a hook.
const START: &str = "# >>> git agentos: post-commit (managed by `git agentos hooks`) >>>";

/// Why the hook cannot be installed, removed or read.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Io(#[from] PathError),
    #[error(
        "cannot chain the hook `{}`: `{}` is in the way (a hook moved aside by an earlier install)",
        hook.display(),
        chained.display()
    )]
    ChainTaken { hook: PathBuf, chained: PathBuf },
    #[error(
        "`{}` has git agentos's opening marker line but not its closing one (`# <<< git agentos: post-commit <<<`), so where our lines end cannot be told; nothing was changed",
        hook.display()
    )]
    BrokenBlock { hook: PathBuf },
}
