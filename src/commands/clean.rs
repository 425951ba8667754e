//! `git agentos clean`: remove finished worktrees and branches whose work is safe.
use crate::error::CmdResult;
use crate::queue::{self, State};
use crate::workspace::Workspace;
use std::path::{Path, PathBuf};

/// Remove worktrees of finished tasks (and the pool of recycled ones kept for the
/// next tasks), prune git's records of worktrees that are gone, and delete local
/// agentos/<id> branches of done tasks whose work is safe (pushed to a remote, or
/// merged into another branch). Never touches a running task, a branch whose work
/// exists nowhere else, or a folder git does not list as one of this repository's
/// worktrees.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Say what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The folders directly in `dir`, in name order.
fn folders_in(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let state_of = |id: &str| queue::find(&ctx.tree, id).ok().flatten().map(|e| e.state);
    // Worktrees of tasks that are not running (a worktree only exists once its task
    // is claimed, so none of these can be about to start), and the pool's.
    let worktrees = ctx.tree.worktrees_dir();
    let mut candidates = Vec::new();
    for path in folders_in(&worktrees) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == ".pool" {
            candidates.extend(folders_in(&path));
        } else if !matches!(state_of(&name), Some(State::Doing) | Some(State::Todo)) {
            candidates.push(path);
        }
    }
    for path in candidates {
        let rel = ctx.rel(&path).into_owned();
        let removed = if args.dry_run {
            ctx.repo.is_listed_worktree(&path)
        } else {
            match ctx.repo.remove_worktree(&path) {
                Ok(()) => true,
                Err(crate::git::GitError::NotListed { .. }) => false,
                Err(e) => return Err(e.into()),
            }
        };
        if removed {
            println!("{verb} worktree {rel}");
        } else {
            println!("kept {rel}: it is not a worktree git lists for this repository (remove it yourself if it is yours)");
        }
    }
    if !args.dry_run {
        let _ = std::fs::remove_dir(worktrees.join(".pool"));
        for name in ctx.repo.prune_worktrees()? {
            println!("pruned the record of missing worktree {name}");
        }
    }
    for (branch, commit) in ctx.repo.task_branches()? {
        let id = branch.trim_start_matches("agentos/");
        if state_of(id) != Some(State::Done) {
            continue;
        }
        if ctx.repo.is_pushed(&commit) || ctx.repo.is_merged_elsewhere(&branch, &commit) {
            if !args.dry_run {
                ctx.repo.delete_branch(&branch)?;
            }
            println!("{verb} branch {branch} (its work is safe elsewhere)");
        } else {
            println!("kept branch {branch}: its work is not pushed or merged anywhere (delete it with `git branch -D {branch}`)");
        }
    }
    Ok(())
}
