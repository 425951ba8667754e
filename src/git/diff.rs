//! What a task changed: every path that differs from its base, with both sides'
//! contents, from the worktree or (when it is gone) from the task branch.
use super::error::library;
use super::{oid, task_branch, GitError, Repo};
use std::path::Path;

impl Repo {
    /// True when `git status` sees nothing to commit in the worktree, untracked
    /// files included (ignored ones are never part of a change).
    fn worktree_is_clean(&self, worktree: &Path) -> bool {
        self.git_cli_in(
            worktree,
            &["status", "--porcelain", "-z", "--untracked-files=all"],
        )
        .is_ok_and(|out| out.is_empty())
    }

    /// Everything that differs from `base`: in the worktree (commits on the task
    /// branch plus anything left uncommitted, untracked files included; ignored
    /// files are not part of a change), or, when the worktree is gone, on the
    /// task branch. Renames are detected.
    pub fn changes(&self, id: &str, base: &str, worktree: &Path) -> Result<Vec<Change>, GitError> {
        let in_worktree = worktree.join(".git").exists();
        let repo = if in_worktree {
            git2::Repository::open(worktree)
                .map_err(|e| library(&format!("open the worktree {}", worktree.display()), &e))?
        } else {
            self.main()?
        };
        let base_tree = repo
            .find_commit(oid(base)?)
            .and_then(|c| c.tree())
            .map_err(|e| library(&format!("read the base commit {base}"), &e))?;
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true)
            .show_untracked_content(true);
        // A clean worktree (the usual case: the dispatcher has committed) is its
        // HEAD commit: diff trees, no walk of the files. `git status` decides, as it
        // checks the files in parallel threads where libgit2 takes one.
        let clean_head = if in_worktree && self.worktree_is_clean(worktree) {
            repo.head().and_then(|h| h.peel_to_tree()).ok()
        } else {
            None
        };
        let mut diff = if let Some(head_tree) = &clean_head {
            repo.diff_tree_to_tree(Some(&base_tree), Some(head_tree), Some(&mut opts))
        } else if in_worktree {
            repo.diff_tree_to_workdir_with_index(Some(&base_tree), Some(&mut opts))
        } else {
            let branch = repo
                .find_branch(&task_branch(id), git2::BranchType::Local)
                .and_then(|b| b.get().peel_to_tree())
                .map_err(|e| library(&format!("read the branch {}", task_branch(id)), &e))?;
            repo.diff_tree_to_tree(Some(&base_tree), Some(&branch), Some(&mut opts))
        }
        .map_err(|e| library("diff the change", &e))?;
        let mut find = git2::DiffFindOptions::new();
        find.renames(true).for_untracked(true);
        diff.find_similar(Some(&mut find))
            .map_err(|e| library("find renames", &e))?;
        let blob = |id: git2::Oid| -> Option<Vec<u8>> {
            (!id.is_zero())
                .then(|| repo.find_blob(id).ok().map(|b| b.content().to_vec()))
                .flatten()
        };
        let mut out = Vec::new();
        for delta in diff.deltas() {
            let new_path = delta
                .new_file()
                .path()
                .map(|p| p.to_string_lossy().into_owned());
            let old_path = delta
                .old_file()
                .path()
                .map(|p| p.to_string_lossy().into_owned());
            let kind = match delta.status() {
                git2::Delta::Added | git2::Delta::Untracked => ChangeKind::Added,
                git2::Delta::Deleted => ChangeKind::Deleted,
                git2::Delta::Renamed => ChangeKind::Renamed,
                git2::Delta::Typechange => ChangeKind::TypeChanged,
                git2::Delta::Modified if delta.old_file().mode() != delta.new_file().mode() => {
                    ChangeKind::TypeChanged
                }
                git2::Delta::Modified => ChangeKind::Modified,
                _ => continue,
            };
            let path = new_path.clone().or(old_path.clone()).unwrap_or_default();
            let on_disk = worktree.join(&path);
            let is_link = delta.new_file().mode() == git2::FileMode::Link
                || (in_worktree
                    && std::fs::symlink_metadata(&on_disk)
                        .map(|m| m.file_type().is_symlink())
                        .unwrap_or(false));
            let symlink_to = if kind == ChangeKind::Deleted || !is_link {
                None
            } else if in_worktree {
                std::fs::read_link(&on_disk)
                    .ok()
                    .map(|t| t.to_string_lossy().into_owned())
            } else {
                blob(delta.new_file().id()).map(|b| String::from_utf8_lossy(&b).into_owned())
            };
            let new_text = match kind {
                ChangeKind::Deleted => None,
                _ if in_worktree && !is_link => std::fs::read(&on_disk).ok(),
                _ => blob(delta.new_file().id()),
            };
            out.push(Change {
                kind,
                from: if kind == ChangeKind::Renamed {
                    old_path
                } else {
                    None
                },
                old_text: blob(delta.old_file().id()),
                new_text,
                path,
                symlink_to,
            });
        }
        Ok(out)
    }

    /// Every file and folder path in a commit's tree (for "did you mean").
    pub fn tree_paths(&self, commit: &str) -> Result<Vec<String>, GitError> {
        let main = self.main()?;
        let tree = main
            .find_commit(oid(commit)?)
            .and_then(|c| c.tree())
            .map_err(|e| library(&format!("read the commit {commit}"), &e))?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if let Ok(name) = entry.name() {
                out.push(format!("{dir}{name}"));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(|e| library("walk the tree", &e))?;
        Ok(out)
    }
}

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    Renamed,
    /// File ↔ symlink ↔ submodule, or the executable bit.
    TypeChanged,
}

/// One changed path between the base commit and the task's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub path: String,
    /// For renames, where it came from.
    pub from: Option<String>,
    /// Where a symlink points, when the new side is one.
    pub symlink_to: Option<String>,
    pub old_text: Option<Vec<u8>>,
    pub new_text: Option<Vec<u8>>,
}
