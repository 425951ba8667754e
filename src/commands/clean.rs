//! `git agentos clean`: remove finished worktrees and branches whose work is safe.
use crate::error::CmdResult;
use crate::queue::{self, State};
use crate::workspace::Workspace;
use std::path::Path;

/// Remove worktrees of finished tasks (and the pool of recycled ones kept for the
/// next tasks), prune git's records of worktrees that are gone, and delete local
/// agentos/<id> branches of done tasks whose work is safe elsewhere (pushed to a
/// remote, or merged into another branch). Never touches a running task, or a
/// branch whose work exists nowhere else.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Say what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
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
    // is claimed, so none of these can be about to start).
    let worktrees = ctx.tree.worktrees_dir();
    let mut names: Vec<String> = std::fs::read_dir(&worktrees)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for id in names {
        if matches!(state_of(&id), Some(State::Doing) | Some(State::Todo)) {
            continue;
        }
        let path = worktrees.join(&id);
        if !args.dry_run {
            ctx.repo.remove_worktree(&path)?;
        }
        outln!("{verb} worktree {}", ctx.rel(&path));
    }
    if !args.dry_run {
        for name in ctx.repo.prune_worktrees()? {
            outln!("pruned the record of missing worktree {name}");
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
            outln!("{verb} branch {branch} (its work is safe elsewhere)");
        } else {
            outln!("kept branch {branch}: its work is not pushed or merged anywhere (delete it with `git branch -D {branch}`)");
        }
    }
    Ok(())
}
