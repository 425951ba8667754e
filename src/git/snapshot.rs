//! What a task's worktree holds, as a tree in the main repository's own object
//! store: built from the worktree's files through an index of the dispatcher's
//! own, never from the worktree's git metadata. The worktree's index (which the
//! agent can write) only lends what cannot change the result: the stat data of
//! entries that agree with HEAD (so unchanged files are not hashed again) and
//! which paths a sparse checkout leaves out (those stay as HEAD has them, never
//! recorded as deleted).
use super::error::library;
use super::trusted::TaskWorktree;
use super::{task_branch, GitError, Repo};
use std::collections::HashMap;
use std::path::Path;

/// git's skip-worktree bit (`flags_extended`): a path a sparse checkout left out.
const SKIP_WORKTREE: u16 = 1 << 14;

/// A worktree's files as a tree, and the index that describes them.
pub(super) struct Snapshot {
    pub tree: git2::Oid,
    pub index: git2::Index,
    /// The index's file, beside the worktree's own index.
    pub file: tempfile::TempPath,
}

impl Repo {
    /// The tip of the task branch, from the main repository's refs.
    pub(super) fn task_tip<'r>(
        &self,
        main: &'r git2::Repository,
        id: &str,
    ) -> Result<git2::Commit<'r>, GitError> {
        main.find_reference(&format!("refs/heads/{}", task_branch(id)))
            .and_then(|r| r.peel_to_commit())
            .map_err(|e| GitError::BranchGone {
                message: e.message().to_string(),
            })
    }

    /// Snapshot the worktree `wt` (checked) whose HEAD is `head`, in `main`.
    pub(super) fn snapshot(
        &self,
        main: &git2::Repository,
        wt: &TaskWorktree,
        head: &git2::Commit,
    ) -> Result<Snapshot, GitError> {
        // Nothing is opened before the walk says every entry is a file, folder
        // or link; the files too large to read are judged once git can tell
        // which are ignored.
        let big = super::scan::walk(&wt.path)?;
        let file = seed_index(wt)?;
        let mut index = match git2::Index::open(&file) {
            Ok(index) => index,
            Err(e) => {
                return Err(GitError::Index {
                    path: wt.admin.join("index"),
                    message: e.message().to_string(),
                })
            }
        };
        // What the sparse checkout leaves out, as the worktree's index says.
        let skipped: HashMap<Vec<u8>, git2::Oid> = index
            .iter()
            .filter(|e| e.flags_extended & SKIP_WORKTREE != 0)
            .map(|e| (e.path.clone(), e.id))
            .collect();
        main.set_workdir(&wt.path, false)
            .map_err(lib("use the worktree's files"))?;
        main.set_index(&mut index)
            .map_err(lib("use an index of its own"))?;
        too_large(main, head, &big)?;
        // HEAD's entries; stat data kept only where the worktree's index agrees.
        index
            .read_tree(&head.tree().map_err(lib("read HEAD's tree"))?)
            .map_err(lib("read HEAD's tree"))?;
        for (path, id) in &skipped {
            if let Some(mut entry) = index.get_path(Path::new(&bytes_path(path)), 0) {
                if entry.id == *id {
                    entry.flags_extended |= SKIP_WORKTREE;
                    index.add(&entry).map_err(lib("keep the sparse checkout"))?;
                }
            }
        }
        // One pass over the files: what differs from the index is added, what is
        // gone is removed (ignored files stay out, as in `git add -A`).
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true);
        let diff = main
            .diff_index_to_workdir(Some(&index), Some(&mut opts))
            .map_err(lib("read the worktree's files"))?;
        let mut gone = Vec::new();
        let mut changed = Vec::new();
        for delta in diff.deltas() {
            let Some(path) = delta.new_file().path().or(delta.old_file().path()) else {
                continue;
            };
            if skipped.contains_key(path.as_os_str().as_encoded_bytes()) {
                continue;
            }
            match delta.status() {
                git2::Delta::Deleted => gone.push(path.to_path_buf()),
                git2::Delta::Added
                | git2::Delta::Untracked
                | git2::Delta::Modified
                // A nested repository shows as its folder (`sub/`): added as one entry.
                | git2::Delta::Typechange => changed.push(
                    path.to_str()
                        .and_then(|p| p.strip_suffix('/'))
                        .map_or(path.to_path_buf(), std::path::PathBuf::from),
                ),
                _ => {}
            }
        }
        drop(diff);
        for path in gone {
            index
                .remove_path(&path)
                .map_err(lib("record a deleted file"))?;
        }
        for path in changed {
            index
                .add_path(&path)
                .map_err(lib("read the worktree's files"))?;
        }
        let tree = index.write_tree().map_err(lib("write the tree"))?;
        Ok(Snapshot { tree, index, file })
    }

    /// Commit what the worktree holds on the task branch (new, changed, deleted
    /// files; ignored files and what a sparse checkout leaves out stay as they
    /// are), after checking the worktree ([`Repo::task_worktree`]). The worktree's
    /// index is brought up to date. None when there was nothing to commit.
    ///
    /// `merged`: a revision round that merged the base in names the commit it
    /// merged (from its own record, never from the worktree's `MERGE_HEAD`);
    /// the commit is then a merge commit with it as the second parent, and the
    /// worktree's merge state is ended.
    pub fn commit_task(
        &self,
        id: &str,
        worktree: &Path,
        message: &str,
        merged: Option<&str>,
    ) -> Result<Option<String>, GitError> {
        let wt = self.task_worktree(id, worktree)?;
        let main = self.main()?;
        let head = self.task_tip(&main, id)?;
        let mut snap = self.snapshot(&main, &wt, &head)?;
        let merged = merged
            .map(|id| {
                git2::Oid::from_str(id)
                    .and_then(|oid| main.find_commit(oid))
                    .map_err(|e| library("read the commit the round merged", &e))
            })
            .transpose()?
            .filter(|m| !main.graph_descendant_of(head.id(), m.id()).unwrap_or(false));
        let committed = if snap.tree == head.tree_id() && merged.is_none() {
            None
        } else {
            let tree = main
                .find_tree(snap.tree)
                .map_err(|e| library("read the tree", &e))?;
            let sig = super::commit::signature(&main)?;
            // The commit object first, then the task's own ref (never HEAD, never
            // a symbolic ref), moved only from the tip read above.
            let branch = format!("refs/heads/{}", task_branch(id));
            let mut parents = vec![&head];
            parents.extend(merged.as_ref());
            let commit = main
                .commit(None, &sig, &sig, message, &tree, &parents)
                .map_err(|e| library("commit the agent's changes", &e))?;
            main.reference_matching(&branch, commit, true, head.id(), "agentos: commit")
                .map_err(|e| GitError::BranchMoved {
                    branch: task_branch(id),
                    expected: head.id().to_string(),
                    message: e.message().to_string(),
                })?;
            Some(commit.to_string())
        };
        if merged.is_some() {
            // The merge is committed: end it in the worktree (links removed, never followed).
            for name in ["MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"] {
                let _ = std::fs::remove_file(wt.admin.join(name));
            }
        }
        snap.index
            .write()
            .map_err(|e| library("write the worktree's index", &e))?;
        let index = wt.admin.join("index");
        snap.file
            .persist(&index)
            .map_err(|e| crate::path_error::PathError::new("write", &index, e.error))?;
        Ok(committed)
    }
}

/// The first of the files over the size limit that git would read: not
/// ignored, and not HEAD's file of the same size (a large file the repository
/// already tracks, unchanged, is left alone).
fn too_large(
    main: &git2::Repository,
    head: &git2::Commit,
    big: &[(std::path::PathBuf, u64)],
) -> Result<(), GitError> {
    let tree = head.tree().map_err(lib("read HEAD's tree"))?;
    let odb = main.odb().map_err(lib("open the object store"))?;
    for (path, size) in big {
        if main.status_should_ignore(path).unwrap_or(false) {
            continue;
        }
        let tracked = tree
            .get_path(path)
            .ok()
            .and_then(|e| odb.read_header(e.id()).ok())
            .is_some_and(|(len, _)| len as u64 == *size);
        if !tracked {
            return Err(GitError::TooLarge {
                path: path.clone(),
                size: *size,
                limit: super::scan::MAX_FILE_BYTES,
            });
        }
    }
    Ok(())
}

/// A copy of the worktree's index (never read through a link) for the
/// snapshot's own index to start from; empty when there is none.
fn seed_index(wt: &TaskWorktree) -> Result<tempfile::TempPath, GitError> {
    let err =
        |e: std::io::Error| crate::path_error::PathError::new("copy", &wt.admin.join("index"), e);
    let file = tempfile::Builder::new()
        .prefix("agentos-index-")
        .tempfile_in(&wt.admin)
        .map_err(err)?
        .into_temp_path();
    let own = wt.admin.join("index");
    let is_file = std::fs::symlink_metadata(&own).is_ok_and(|m| m.is_file());
    if is_file {
        std::fs::copy(&own, &file).map_err(err)?;
    } else {
        // No index: libgit2 starts an empty one where the file is missing.
        std::fs::remove_file(&file).map_err(err)?;
    }
    Ok(file)
}

/// git's assume-unchanged bit (`flags`, CE_VALID).
const ASSUME_UNCHANGED: u16 = 1 << 15;

/// The paths the worktree's index marks skip-worktree or assume-unchanged (what
/// `git ls-files -v` tags `S` or in lower case), read from a copy of the index
/// (never through a link), without a git process.
pub(super) fn marked_paths(wt: &TaskWorktree) -> Result<Vec<String>, GitError> {
    let file = seed_index(wt)?;
    let index = git2::Index::open(&file).map_err(|e| GitError::Index {
        path: wt.admin.join("index"),
        message: e.message().to_string(),
    })?;
    index
        .iter()
        .filter(|e| e.flags_extended & SKIP_WORKTREE != 0 || e.flags & ASSUME_UNCHANGED != 0)
        .map(|e| {
            String::from_utf8(e.path).map_err(|e| GitError::NotUtf8 {
                path: bytes_path(e.as_bytes()),
            })
        })
        .collect()
}

/// A closure for `map_err`: the libgit2 error while doing `action`.
fn lib(action: &'static str) -> impl Fn(git2::Error) -> GitError {
    move |e| library(action, &e)
}

fn bytes_path(path: &[u8]) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    std::path::PathBuf::from(std::ffi::OsStr::from_bytes(path))
}
