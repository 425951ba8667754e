//! The pool of finished worktrees (`worktrees/.pool/`, at most [`POOL_SIZE`])
//! that the next task takes instead of a fresh checkout. A slot is only ever a
//! worktree git lists for this repository, checked (trusted.rs) before it is
//! kept and again before it is taken; one that fails a check is removed.
//! While the dispatcher is idle with an empty pool, one slot is prepared ahead
//! ([`Repo::prepare_pool_slot`]): checked out as `making-<n>` under the
//! worktree lock, renamed `slot-<n>` when whole; a `making-` one a killed
//! dispatcher left is removed (or, when git does not list it, set aside).
use super::error::library;
use super::trusted::TaskWorktree;
use super::worktree::Branch;
use super::{task_branch, utf8, GitError, Repo};
use crate::path_error::PathError;
use std::path::{Path, PathBuf};

impl Repo {
    /// Turn a recycled worktree into the task's: move it into place, put the
    /// branch at `base` with every tracked file as the base has it (`checkout -f`
    /// rewrites only the files that differ), then delete every untracked and
    /// ignored file (`clean -ffdx`). Skip-worktree and assume-unchanged marks are
    /// cleared first. The result equals a fresh checkout of `base`.
    /// Both run with no hook, no fsmonitor, no filter (git_on); a repository
    /// that configures a filter driver is never recycled (an error here, and
    /// the caller checks out afresh).
    pub(super) fn reuse_worktree(
        &self,
        slot: &Path,
        id: &str,
        base: &str,
        path: &Path,
        branch: Branch,
    ) -> Result<(), GitError> {
        let slot = self.checked_worktree(slot)?;
        // Before any git command there: a slot may hold a FIFO its last task's
        // agent left (that task failed for it), and git would block on it for
        // ever. The caller then removes the slot and checks out afresh.
        // One lookup of the filter drivers for the commands below (nothing runs
        // in the worktree between them), as git sees them there (its git
        // folder stays when it moves), made meanwhile: a repository that has
        // any gets fresh checkouts only (the caller makes one).
        let drivers = super::trusted::checked_kinds_and_drivers(&slot, self.main()?.path())?;
        if !drivers.is_empty() {
            return Err(GitError::FilterDrivers { names: drivers });
        }
        let wt = self.move_worktree(&slot, path)?;
        let flag = match branch {
            Branch::Create => "-b",
            Branch::Reset => "-B",
        };
        let git = |args: &[&str]| self.git_on_without(&wt, &drivers, args);
        // Entries marked skip-worktree or assume-unchanged keep whatever the
        // last task left in them through `checkout --force`: unmark them first
        // (a sparse checkout's own marks are put back by the checkout).
        let marked = super::snapshot::marked_paths(&wt)?;
        let marked: Vec<&str> = marked.iter().map(String::as_str).collect();
        // One flag per call: update-index applies only the first it is given.
        for flag in ["--no-skip-worktree", "--no-assume-unchanged"] {
            for chunk in marked.chunks(500) {
                let mut args = vec!["update-index", flag, "--"];
                args.extend_from_slice(chunk);
                git(&args)?;
            }
        }
        git(&[
            "checkout",
            "--quiet",
            "--force",
            flag,
            &task_branch(id),
            base,
        ])?;
        git(&["clean", "--quiet", "-ffdx"])?;
        let head = self.branch_commit(id).ok_or_else(|| GitError::NoBranch {
            branch: task_branch(id),
        })?;
        if head != base {
            return Err(GitError::Recycled {
                path: path.to_path_buf(),
                head,
                base: base.to_string(),
            });
        }
        Ok(())
    }

    /// `git worktree move` without a process: point git's record
    /// (`<git folder>/gitdir`) at the new place, then rename the folder (a crash
    /// in between leaves a record of a folder that is gone, which is pruned, never
    /// a folder git does not list). A worktree linked by relative paths goes
    /// through git itself.
    fn move_worktree(&self, from: &TaskWorktree, to: &Path) -> Result<TaskWorktree, GitError> {
        let record = from.admin.join("gitdir");
        let moved = TaskWorktree {
            path: to.to_path_buf(),
            admin: from.admin.clone(),
        };
        let absolute = std::fs::read_to_string(&record)
            .is_ok_and(|r| Path::new(r.trim()).is_absolute())
            && to.is_absolute();
        if !absolute {
            self.git_cli(&["worktree", "move", utf8(&from.path)?, utf8(to)?])?;
            return Ok(moved);
        }
        let write = |at: &Path| {
            crate::durable::write(
                &record,
                format!("{}\n", at.join(".git").display()).as_bytes(),
            )
            .map_err(|e| PathError::new("write", &record, e))
        };
        write(to)?;
        if let Err(e) = std::fs::rename(&from.path, to) {
            write(&from.path)?;
            return Err(PathError::new("move", &from.path, e).into());
        }
        Ok(moved)
    }

    /// Done with a task's worktree: keep it for the next task (detached, in
    /// `worktrees/.pool/`) while the pool has room and the worktree passes the
    /// checks, else remove it. The branch stays. (A worktree an agent left a
    /// FIFO in is refused when it is taken: `reuse_worktree` walks a slot before
    /// any git command there, whatever put it in the pool.)
    pub fn retire_worktree(&self, path: &Path) -> Result<(), GitError> {
        let _guard = self.worktree_guard()?;
        let pool = pool_dir(path);
        let room = self.pool_slots(path).len() < POOL_SIZE && !self.has_filter_drivers();
        let checked = self.checked_worktree(path);
        if let (true, Ok(wt)) = (room, checked) {
            // Named by the real time (not the clock a test may pin), so slots stay unique.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let slot = pool.join(format!("{SLOT}{nanos}"));
            let moved = std::fs::create_dir_all(&pool).is_ok()
                && self.detach(&wt).is_ok()
                && self.move_worktree(&wt, &slot).is_ok();
            if moved {
                return Ok(());
            }
        }
        self.remove_worktree_locked(path)
    }

    /// The pool's slots git lists as worktrees of this repository, in name order.
    pub(super) fn pool_slots(&self, worktree: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(pool_dir(worktree)) else {
            return Vec::new();
        };
        // git's records, read once for all the slots.
        let Ok(listed) = self.listed_worktrees() else {
            return Vec::new();
        };
        let mut slots: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(SLOT))
            .map(|e| e.path())
            .filter(|p| {
                std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
                    && super::trusted::find_listed(&listed, p).is_some()
            })
            .collect();
        slots.sort();
        slots
    }

    /// A recycled worktree to take, if the pool has one.
    pub(super) fn pooled_slot(&self, worktree: &Path) -> Option<PathBuf> {
        self.pool_slots(worktree).pop()
    }

    /// True when git lists `path` (a real folder) as a worktree of this repository.
    pub fn is_listed_worktree(&self, path: &Path) -> bool {
        matches!(self.listed_at(path), Ok(Some(_)))
    }
}

impl Repo {
    /// Detach the worktree's HEAD at its commit (so its branch can be deleted
    /// while it waits in the pool), in the git folder git recorded for it.
    fn detach(&self, wt: &TaskWorktree) -> Result<(), GitError> {
        let path = wt.admin.join("HEAD");
        let head = std::fs::read_to_string(&path).map_err(|e| PathError::new("read", &path, e))?;
        let Some(branch) = head.trim().strip_prefix("ref: ") else {
            return Ok(());
        };
        let main = self.main()?;
        let commit = main
            .find_reference(branch)
            .and_then(|r| r.peel_to_commit())
            .map_err(|e| library("read the worktree's HEAD", &e))?;
        crate::durable::write(&path, format!("{}\n", commit.id()).as_bytes())
            .map_err(|e| PathError::new("write", &path, e).into())
    }
}

impl Repo {
    /// Prepare one worktree at `base` in the pool beside `worktree` (a task's
    /// worktree path) when the pool is empty, so the next task does not pay a
    /// checkout: `git worktree add --detach` into `making-<n>`, then renamed
    /// `slot-<n>`. The worktree lock is held throughout, so a task that needs
    /// a worktree meanwhile waits for this one and takes it. True when it made one.
    pub fn prepare_pool_slot(&self, worktree: &Path, base: &str) -> Result<bool, GitError> {
        let _guard = self.worktree_guard()?;
        self.clear_unfinished(worktree);
        if !self.pool_slots(worktree).is_empty() || self.has_filter_drivers() {
            return Ok(false);
        }
        super::oid(base)?;
        let pool = pool_dir(worktree);
        std::fs::create_dir_all(&pool).map_err(|e| PathError::new("create", &pool, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let making = pool.join(format!("{MAKING}{nanos}"));
        self.git_cli(&[
            "worktree",
            "add",
            "--quiet",
            "--detach",
            utf8(&making)?,
            base,
        ])?;
        crate::fault::point("pool-slot-checked-out");
        crate::fault::hold("pool-slot-checked-out");
        let made = self.checked_worktree(&making)?;
        self.move_worktree(&made, &pool.join(format!("{SLOT}{nanos}")))?;
        Ok(true)
    }

    /// Take away the `making-` worktrees a dispatcher killed while preparing
    /// one left in the pool beside `worktree`: removed when git lists them,
    /// else set aside. Best effort (the caller holds the worktree lock).
    pub(super) fn clear_unfinished(&self, worktree: &Path) {
        let Ok(entries) = std::fs::read_dir(pool_dir(worktree)) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            if !entry.file_name().to_string_lossy().starts_with(MAKING) {
                continue;
            }
            let path = entry.path();
            let cleared = match self.listed_at(&path) {
                Ok(Some(_)) => self.remove_worktree_locked(&path),
                _ => self.set_aside_unlisted(&path),
            };
            if let Err(e) = cleared {
                tracing::warn!(path = %path.display(), error = %e, "cannot clear an unfinished pool worktree");
            }
        }
    }
}

/// The name of a pool slot ready to take: `slot-<n>`.
const SLOT: &str = "slot-";

/// The name of a pool slot being prepared: `making-<n>`.
const MAKING: &str = "making-";

/// Finished worktrees kept for reuse, at most.
pub const POOL_SIZE: usize = 4;

/// `worktrees/.pool/` beside a task's worktree.
pub(super) fn pool_dir(worktree: &Path) -> PathBuf {
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
