//! The only module that imports git2 or runs the git CLI: finding the repository,
//! resolving revisions (here); run.rs spawns git, worktree.rs and pool.rs manage
//! task worktrees, trusted.rs checks one before it is used (its git folder from
//! git's records, never from its `.git` file), snapshot.rs reads its files into
//! a tree and commits them (a round's merge commit too), diff.rs reads a change,
//! commit.rs lists branches, push.rs pushes and fetch.rs fetches through the git
//! CLI (credential.rs hands git the token, as git agentos's own credential
//! helper), fetch.rs also merges for a revision round, commit_info.rs reads
//! HEAD (and its patch id) for the post-commit hook, refs.rs snapshots refs for
//! the guard around the agent step; root.rs finds the main working tree from
//! `.git` alone.
mod commit;
mod commit_info;
pub mod credential;
mod diff;
mod error;
mod fetch;
mod pool;
mod push;
mod refs;
mod root;
pub mod run;
mod scan;
mod snapshot;
mod trusted;
mod worktree;

pub use commit_info::{ChangedFile, CommitInfo};
pub use diff::{Change, ChangeKind};
pub use error::GitError;
pub use fetch::with_conflict_markers;
pub use refs::{RefChange, RefSnapshot};
pub use root::find_root;
pub use trusted::TaskWorktree;
pub use worktree::Branch;

use error::library;
use std::path::{Path, PathBuf};

/// The repository git agentos works on: always the main working tree, even when
/// started from a linked worktree (so every worktree shares one `.agentos/`).
pub struct Repo {
    /// The repository as seen from where the command started (its own HEAD).
    repo: git2::Repository,
    /// The main working tree's top folder.
    root: PathBuf,
}

impl Repo {
    /// Find the repository that contains `start`.
    pub fn discover(start: &Path) -> Result<Repo, GitError> {
        let found = git2::Repository::discover(start).map_err(|e| GitError::NotARepository {
            start: start.to_path_buf(),
            message: e.message().to_string(),
        })?;
        let main = if found.is_worktree() {
            git2::Repository::open(found.commondir()).map_err(|e| GitError::MainRepository {
                start: start.to_path_buf(),
                message: e.message().to_string(),
            })?
        } else {
            git2::Repository::open(found.path()).map_err(|e| GitError::Open {
                path: found.path().to_path_buf(),
                message: e.message().to_string(),
            })?
        };
        let root = main
            .workdir()
            .ok_or_else(|| GitError::Bare {
                path: main.path().to_path_buf(),
            })?
            .to_path_buf();
        let root = root.canonicalize().unwrap_or(root);
        let repo = found;
        Ok(Repo { repo, root })
    }

    /// The main working tree's top folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The commit HEAD points at and the branch it is on (None when detached or unborn).
    pub fn head(&self) -> Result<(String, Option<String>), GitError> {
        let no_head = |e: git2::Error| GitError::NoHead {
            message: e.message().to_string(),
        };
        let head = self.repo.head().map_err(no_head)?;
        let commit = head.peel_to_commit().map_err(no_head)?;
        let branch = if head.is_branch() {
            head.shorthand().ok().map(str::to_string)
        } else {
            None
        };
        Ok((commit.id().to_string(), branch))
    }

    /// Resolve a revision (branch, tag, sha, `HEAD~1`…) to a commit id.
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        let object = self
            .repo
            .revparse_single(rev)
            .map_err(|e| GitError::UnknownRevision {
                rev: rev.to_string(),
                message: e.message().to_string(),
            })?;
        let commit = object.peel_to_commit().map_err(|e| GitError::NotACommit {
            rev: rev.to_string(),
            message: e.message().to_string(),
        })?;
        Ok(commit.id().to_string())
    }

    /// The main repository (worktrees and branches are managed from it).
    fn main(&self) -> Result<git2::Repository, GitError> {
        git2::Repository::open(&self.root).map_err(|e| library("open the repository", &e))
    }

    /// Where git runs this repository's hooks: `core.hooksPath` (relative to the
    /// top folder when relative) or `.git/hooks`. True when from core.hooksPath.
    pub fn hooks_dir(&self) -> Result<(PathBuf, bool), GitError> {
        let config = self
            .repo
            .config()
            .map_err(|e| library("read the configuration", &e))?;
        if let Ok(path) = config.get_path("core.hooksPath") {
            // A relative path is read from the top folder of the worktree the
            // commit is made in, as git does.
            let top = self.repo.workdir().map_or_else(
                || self.root.clone(),
                |w| w.canonicalize().unwrap_or_else(|_| w.to_path_buf()),
            );
            return Ok((top.join(path), true));
        }
        Ok((self.repo.commondir().join("hooks"), false))
    }

    /// Every hooks folder a commit may use: this worktree's first; with a
    /// relative `core.hooksPath`, also each other worktree's (the task
    /// worktrees under `.agentos/worktrees/` left out: their commits queue
    /// nothing).
    pub fn all_hooks_dirs(&self) -> Result<Vec<PathBuf>, GitError> {
        let (here, from_config) = self.hooks_dir()?;
        let config = self
            .repo
            .config()
            .map_err(|e| library("read the configuration", &e))?;
        let relative = from_config
            && config
                .get_path("core.hooksPath")
                .is_ok_and(|p| p.is_relative());
        let mut dirs = vec![here];
        if !relative {
            return Ok(dirs);
        }
        let Ok(path) = config.get_path("core.hooksPath") else {
            return Ok(dirs);
        };
        let main = self.main()?;
        let names = main
            .worktrees()
            .map_err(|e| library("list the worktrees", &e))?;
        let tops = std::iter::once(self.root.clone()).chain(
            names
                .iter()
                .filter_map(|n| n.ok().flatten().and_then(|n| main.find_worktree(n).ok()))
                .map(|w| w.path().to_path_buf()),
        );
        let own = self.root.join(".agentos").join("worktrees");
        for top in tops {
            let top = top.canonicalize().unwrap_or(top);
            if !top.starts_with(&own) && top.is_dir() {
                dirs.push(top.join(&path));
            }
        }
        Ok(dirs)
    }

    /// The repository's object store (`.git/objects`).
    pub fn objects_dir(&self) -> PathBuf {
        self.repo.commondir().join("objects")
    }

    /// The repository's git folder shared by its worktrees (`.git`).
    pub fn common_dir(&self) -> PathBuf {
        self.repo.commondir().to_path_buf()
    }

    /// Every file the main checkout's index tracks, as a path beneath the top
    /// folder (none when the index cannot be read).
    pub fn tracked_files(&self) -> Vec<PathBuf> {
        let Ok(index) = self
            .main()
            .and_then(|m| m.index().map_err(|e| library("read the index", &e)))
        else {
            return Vec::new();
        };
        index
            .iter()
            .filter_map(|e| std::str::from_utf8(&e.path).ok().map(|p| self.root.join(p)))
            .collect()
    }

    /// A worktree's index (`.git/worktrees/<name>/index`), found through the main
    /// repository's records and checked (trusted.rs), never through the
    /// worktree's `.git` file: a sandboxed command starts from a copy of it.
    pub fn worktree_index(&self, worktree: &Path) -> Result<PathBuf, GitError> {
        Ok(self.checked_worktree(worktree)?.admin.join("index"))
    }

    /// How many bytes a checkout of HEAD takes (the sizes the index records).
    pub fn checkout_size(&self) -> u64 {
        self.main()
            .and_then(|main| main.index().map_err(|e| library("read the index", &e)))
            .map(|index| index.iter().map(|e| u64::from(e.file_size)).sum())
            .unwrap_or(0)
    }

    /// The URL of a remote, if it exists.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        let main = self.main().ok()?;
        let remote = main.find_remote(name).ok()?;
        remote.url().ok().map(str::to_string)
    }

    /// True when `name` is a local branch.
    pub fn is_local_branch(&self, name: &str) -> bool {
        self.repo.find_branch(name, git2::BranchType::Local).is_ok()
    }
}

/// True when git tracks `rel` (relative to the top folder `root`): it is in the
/// index or in HEAD's tree, or lies in a submodule or a nested repository (a
/// folder on its way is a gitlink, or holds its own `.git`): what a clone
/// brings in a submodule is as much someone else's as a committed file, though
/// the superproject lists none of its files. False when there is no repository.
pub fn is_tracked(root: &Path, rel: &Path) -> bool {
    let Ok(repo) = git2::Repository::open(root) else {
        return false;
    };
    let index = repo.index().ok();
    let head = repo.head().and_then(|h| h.peel_to_tree()).ok();
    let in_index = |path: &Path| {
        index
            .as_ref()
            .is_some_and(|i| i.get_path(path, 0).is_some())
    };
    let in_head = |path: &Path| head.as_ref().and_then(|t| t.get_path(path).ok());
    if in_index(rel) || in_head(rel).is_some() {
        return true;
    }
    // Each folder on the way: a gitlink (listed as an entry, not a tree) or a
    // folder with its own `.git`.
    rel.ancestors()
        .skip(1)
        .filter(|folder| !folder.as_os_str().is_empty())
        .any(|folder| {
            in_index(folder)
                || in_head(folder).is_some_and(|e| e.kind() != Some(git2::ObjectType::Tree))
                || std::fs::symlink_metadata(root.join(folder).join(".git")).is_ok()
        })
}

/// The branch a task's work goes on.
pub fn task_branch(id: &str) -> String {
    format!("agentos/{id}")
}

fn utf8(path: &Path) -> Result<&str, GitError> {
    path.to_str().ok_or_else(|| GitError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

fn oid(sha: &str) -> Result<git2::Oid, GitError> {
    git2::Oid::from_str(sha).map_err(|e| GitError::BadCommitId {
        sha: sha.to_string(),
        message: e.message().to_string(),
    })
}
