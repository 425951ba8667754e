//! The pool of finished worktrees (`worktrees/.pool/`, at most [`POOL_SIZE`])
//! that the next task takes instead of a fresh checkout.
use super::error::library;
use super::{task_branch, utf8, GitError, Repo};
use crate::path_error::PathError;
use std::path::{Path, PathBuf};

impl Repo {
    /// Turn a recycled worktree into the task's: move it into place, put the
    /// branch at `base` with every tracked file as the base has it (`checkout -f`
    /// rewrites only the files that differ), then delete every untracked and
    /// ignored file (`clean -ffdx`). The result equals a fresh checkout of `base`.
    pub(super) fn reuse_worktree(
        &self,
        slot: &Path,
        id: &str,
        base: &str,
        path: &Path,
    ) -> Result<(), GitError> {
        self.move_worktree(slot, path)?;
        self.git_cli_in(
            path,
            &[
                "checkout",
                "--quiet",
                "--force",
                "-B",
                &task_branch(id),
                base,
            ],
        )?;
        self.git_cli_in(path, &["clean", "--quiet", "-ffdx"])?;
        let head = git2::Repository::open(path)
            .and_then(|wt| wt.head()?.peel_to_commit().map(|c| c.id().to_string()))
            .map_err(|e| library("read the recycled worktree's HEAD", &e))?;
        if head != base {
            return Err(GitError::Recycled {
                path: path.to_path_buf(),
                head,
                base: base.to_string(),
            });
        }
        Ok(())
    }

    /// `git worktree move` without a process: rename the folder and point git's
    /// record (`.git/worktrees/<name>/gitdir`) at its new place, as git does. A
    /// worktree linked by relative paths goes through git itself.
    fn move_worktree(&self, from: &Path, to: &Path) -> Result<(), GitError> {
        let link = std::fs::read_to_string(from.join(".git")).unwrap_or_default();
        let admin = link.trim().strip_prefix("gitdir: ").map(PathBuf::from);
        match admin {
            Some(admin)
                if admin.is_absolute() && admin.join("gitdir").is_file() && to.is_absolute() =>
            {
                std::fs::rename(from, to).map_err(|e| PathError::new("move", from, e))?;
                let record = admin.join("gitdir");
                crate::durable::write(
                    &record,
                    format!("{}\n", to.join(".git").display()).as_bytes(),
                )
                .map_err(|e| PathError::new("write", &record, e).into())
            }
            _ => self
                .git_cli(&["worktree", "move", utf8(from)?, utf8(to)?])
                .map(|_| ()),
        }
    }

    /// Done with a task's worktree: keep it for the next task (detached, in
    /// `worktrees/.pool/`) while the pool has room, else remove it. The branch stays.
    pub fn retire_worktree(&self, path: &Path) -> Result<(), GitError> {
        let _guard = self.worktree_guard()?;
        let pool = pool_dir(path);
        let room = std::fs::read_dir(&pool).map_or(0, |d| d.count()) < POOL_SIZE;
        if room && path.join(".git").is_file() {
            // Named by the real time (not the clock a test may pin), so slots stay unique.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let slot = pool.join(format!("slot-{nanos}"));
            let moved = std::fs::create_dir_all(&pool).is_ok()
                && self
                    .git_cli_in(path, &["checkout", "--quiet", "--detach"])
                    .is_ok()
                && self.move_worktree(path, &slot).is_ok();
            if moved {
                return Ok(());
            }
        }
        self.remove_worktree_locked(path)
    }
}

/// Finished worktrees kept for reuse, at most.
pub const POOL_SIZE: usize = 4;

/// `worktrees/.pool/` beside a task's worktree.
fn pool_dir(worktree: &Path) -> PathBuf {
    worktree
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(".pool")
}

/// The folder that holds task worktrees, from a task's or a pooled one's path.
pub(super) fn worktrees_dir(path: &Path) -> Option<&Path> {
    let parent = path.parent()?;
    if parent.file_name().is_some_and(|n| n == ".pool") {
        parent.parent()
    } else {
        Some(parent)
    }
}

/// A recycled worktree to take, if the pool has one.
pub(super) fn pooled_slot(worktree: &Path) -> Option<PathBuf> {
    let mut slots: Vec<PathBuf> = std::fs::read_dir(pool_dir(worktree))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    slots.sort();
    slots.pop()
}
