//! Task worktrees: made fresh (or from the pool), reused after a crash, checked
//! out at the task branch, removed and pruned, and the git locks a killed
//! dispatcher leaves on them. Adding and removing are serialised by one lock.
use super::error::library;
use super::pool::{pooled_slot, worktrees_dir};
use super::{oid, task_branch, utf8, GitError, Repo};
use crate::path_error::PathError;
use std::path::{Path, PathBuf};

impl Repo {
    /// Hold this while adding, removing or pruning worktrees. `git worktree add`
    /// reads every other worktree's record under `.git/worktrees/`, and one being
    /// written at the same moment (by a parallel worker, or `clean` or `verify` in
    /// another process) makes it fail with "failed to read .../commondir". An
    /// exclusive `flock` on a file in the common git folder serializes them across
    /// threads (each call opens its own file) and processes; the kernel drops it
    /// when the holder dies.
    pub(super) fn worktree_guard(&self) -> Result<std::fs::File, GitError> {
        let path = self.repo.commondir().join("agentos-worktrees.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| PathError::new("open the worktree lock", &path, e))?;
        file.lock().map_err(|e| PathError::new("lock", &path, e))?;
        Ok(file)
    }

    /// Create (or reset) the branch `agentos/<id>` at `base` and check it out in a
    /// fresh worktree at `path`, replacing whatever was there.
    ///
    /// The checkout is `git worktree add`: measured in one run here, libgit2's
    /// checkout took 896 ms against the CLI's 442 ms on a 10,000-file repository
    /// (and 331 against 412 ms on 1,000 files); the CLI scales better.
    pub fn fresh_worktree(&self, id: &str, base: &str, path: &Path) -> Result<(), GitError> {
        let _guard = self.worktree_guard()?;
        self.remove_worktree_locked(path)?;
        oid(base)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PathError::new("create", parent, e))?;
        }
        let path_arg = utf8(path)?;
        if let Some(slot) = pooled_slot(path) {
            match self.reuse_worktree(&slot, id, base, path) {
                Ok(()) => return Ok(()),
                // Whatever went wrong, a fresh checkout below is always right.
                Err(_) => {
                    let _ = self.remove_worktree_locked(&slot);
                    let _ = self.remove_worktree_locked(path);
                }
            }
        }
        self.git_cli(&[
            "worktree",
            "add",
            "--quiet",
            "--no-track",
            "-B",
            &task_branch(id),
            path_arg,
            base,
        ])
        .map(|_| ())
    }

    /// Check the task branch out (as it is) in a worktree at `path`, for a step
    /// after the commit whose worktree is gone.
    pub fn worktree_at_branch(&self, id: &str, path: &Path) -> Result<(), GitError> {
        let _guard = self.worktree_guard()?;
        self.remove_worktree_locked(path)?;
        self.git_cli(&["worktree", "add", "--quiet", utf8(path)?, &task_branch(id)])
            .map(|_| ())
    }

    /// Reuse the task's worktree when it is intact and on its branch (after a crash);
    /// otherwise make a fresh one. Returns true when it was reused.
    pub fn ensure_worktree(&self, id: &str, base: &str, path: &Path) -> Result<bool, GitError> {
        if let Ok(wt) = git2::Repository::open(path) {
            let on_branch = wt
                .head()
                .ok()
                .and_then(|h| {
                    h.name()
                        .ok()
                        .map(|n| n == format!("refs/heads/{}", task_branch(id)))
                })
                .unwrap_or(false);
            if on_branch && wt.is_worktree() {
                return Ok(true);
            }
        }
        self.fresh_worktree(id, base, path)?;
        Ok(false)
    }

    /// Remove a worktree folder and git's record of it. The branch stays.
    pub fn remove_worktree(&self, path: &Path) -> Result<(), GitError> {
        let _guard = self.worktree_guard()?;
        self.remove_worktree_locked(path)
    }

    /// Delete the folder, then prune every record whose folder is gone (a record's
    /// name need not match its folder: recycled worktrees keep their first name).
    pub(super) fn remove_worktree_locked(&self, path: &Path) -> Result<(), GitError> {
        if std::fs::symlink_metadata(path).is_ok() {
            std::fs::remove_dir_all(path)
                .map_err(|e| PathError::new("remove the worktree", path, e))?;
        }
        let main = self.main()?;
        let names = main
            .worktrees()
            .map_err(|e| library("list worktrees", &e))?;
        for name in names.iter().flatten().flatten() {
            if let Ok(wt) = main.find_worktree(name) {
                if wt.validate().is_err() {
                    // Ours (under the worktrees folder) go even when locked: a
                    // `git worktree add` killed midway leaves its record locked
                    // ("initializing"). Anyone else's lock is respected.
                    let ours = worktrees_dir(path).is_some_and(|dir| wt.path().starts_with(dir));
                    let mut opts = git2::WorktreePruneOptions::new();
                    opts.working_tree(true).locked(ours);
                    wt.prune(Some(&mut opts))
                        .map_err(|e| library(&format!("prune the worktree {name}"), &e))?;
                }
            }
        }
        Ok(())
    }

    /// Prune git's records of worktrees whose folders are gone.
    pub fn prune_worktrees(&self) -> Result<Vec<String>, GitError> {
        let _guard = self.worktree_guard()?;
        let main = self.main()?;
        let mut pruned = Vec::new();
        let names = main
            .worktrees()
            .map_err(|e| library("list worktrees", &e))?;
        for name in names.iter().flatten().flatten() {
            if let Ok(wt) = main.find_worktree(name) {
                if wt.validate().is_err() && wt.prune(None).is_ok() {
                    pruned.push(name.to_string());
                }
            }
        }
        Ok(pruned)
    }

    /// Remove the lock files a killed dispatcher can leave on a task's worktree
    /// and branch (`index.lock`, `HEAD.lock`, `refs/heads/agentos/<id>.lock`). Only
    /// for a resume: the dispatcher lock is held and the earlier attempt's agent is
    /// gone, so nothing else can be writing them. Returns what was removed.
    pub fn clear_stale_locks(&self, id: &str, worktree: &Path) -> Vec<PathBuf> {
        let mut candidates = vec![self
            .repo
            .commondir()
            .join("refs/heads")
            .join(format!("{}.lock", task_branch(id)))];
        if let Ok(wt) = git2::Repository::open(worktree) {
            candidates.push(wt.path().join("index.lock"));
            candidates.push(wt.path().join("HEAD.lock"));
        }
        candidates
            .into_iter()
            .filter(|p| std::fs::remove_file(p).is_ok())
            .collect()
    }
}
