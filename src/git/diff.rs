//! What a task changed: every path that differs from its base, with both sides'
//! contents, from the worktree or (when it is gone) from the task branch.
use super::error::library;
use super::{oid, GitError, Repo};
use std::path::Path;

impl Repo {
    /// Everything that differs from `base`: in the worktree (commits on the task
    /// branch plus anything left uncommitted, untracked files included; ignored
    /// files and what a sparse checkout leaves out are not part of a change), read
    /// as a snapshot of its files (snapshot.rs) after the checks of
    /// [`Repo::task_worktree`]; or, when the worktree is gone, on the task branch.
    /// Renames are detected. Contents come from the object store, never from a
    /// path in the worktree.
    pub fn changes(&self, id: &str, base: &str, worktree: &Path) -> Result<Vec<Change>, GitError> {
        let main = self.main()?;
        let base_tree = main
            .find_commit(oid(base)?)
            .and_then(|c| c.tree())
            .map_err(|e| library(&format!("read the base commit {base}"), &e))?;
        let result = if worktree.is_dir() {
            let wt = self.task_worktree(id, worktree)?;
            // Before git opens anything there (a FIFO would block it).
            super::scan::walk(&wt.path)?;
            let head = self.task_tip(&main, id)?;
            // A clean worktree (the usual case: the dispatcher has committed) is
            // its HEAD: `git status` decides, as it checks the files on several
            // threads where libgit2 takes one; submodules (which would run git in
            // a repository the agent made) are not looked into.
            let clean = self
                .git_on(
                    &wt,
                    &[
                        "status",
                        "--porcelain",
                        "-z",
                        "--untracked-files=all",
                        "--ignore-submodules=all",
                    ],
                )
                .is_ok_and(|out| out.is_empty());
            if clean {
                head.tree_id()
            } else {
                self.snapshot(&main, &wt, &head)?.tree
            }
        } else {
            self.task_tip(&main, id)?.tree_id()
        };
        let result = main
            .find_tree(result)
            .map_err(|e| library("read the task's tree", &e))?;
        let mut opts = git2::DiffOptions::new();
        opts.include_typechange(true);
        let mut diff = main
            .diff_tree_to_tree(Some(&base_tree), Some(&result), Some(&mut opts))
            .map_err(|e| library("diff the change", &e))?;
        let mut find = git2::DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find))
            .map_err(|e| library("find renames", &e))?;
        // Contents over the size limit are never loaded (no text is shown).
        let odb = main
            .odb()
            .map_err(|e| library("open the object store", &e))?;
        let blob = |id: git2::Oid| -> Option<Vec<u8>> {
            let small = odb
                .read_header(id)
                .is_ok_and(|(len, _)| len as u64 <= super::scan::MAX_FILE_BYTES);
            (!id.is_zero() && small)
                .then(|| main.find_blob(id).ok().map(|b| b.content().to_vec()))
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
            let new_text = match kind {
                ChangeKind::Deleted => None,
                _ => blob(delta.new_file().id()),
            };
            let is_link = delta.new_file().mode() == git2::FileMode::Link;
            let symlink_to = new_text
                .as_ref()
                .filter(|_| is_link)
                .map(|b| String::from_utf8_lossy(b).into_owned());
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

    /// True when the task branch descends from `base` (or is it): a branch reset
    /// below its base would revert work in its pull request.
    pub fn branch_descends_from(&self, id: &str, base: &str) -> Result<bool, GitError> {
        let main = self.main()?;
        let tip = self.task_tip(&main, id)?.id();
        let base = oid(base)?;
        Ok(tip == base
            || main
                .graph_descendant_of(tip, base)
                .map_err(|e| library("compare the branch with its base", &e))?)
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
