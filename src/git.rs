//! The only module that imports git2: finding the repository, resolving revisions.
use crate::error::{CmdResult, CommandError};
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
    pub fn discover(start: &Path) -> CmdResult<Repo> {
        let found = git2::Repository::discover(start).map_err(|e| {
            CommandError::env(format!(
                "`{}` is not inside a git repository ({})",
                start.display(),
                e.message()
            ))
            .hint("run git agentos inside a git repository, or create one with `git init`")
        })?;
        let main = if found.is_worktree() {
            git2::Repository::open(found.commondir()).map_err(|e| {
                CommandError::env(format!(
                    "cannot open the main repository of worktree `{}`: {}",
                    start.display(),
                    e.message()
                ))
            })?
        } else {
            git2::Repository::open(found.path()).map_err(|e| {
                CommandError::env(format!(
                    "cannot open `{}`: {}",
                    found.path().display(),
                    e.message()
                ))
            })?
        };
        let root = main
            .workdir()
            .ok_or_else(|| {
                CommandError::env(format!("`{}` is a bare repository", main.path().display()))
                    .hint("git agentos needs a repository with a working tree")
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
    pub fn head(&self) -> CmdResult<(String, Option<String>)> {
        let head = self.repo.head().map_err(|e| {
            CommandError::env(format!("HEAD does not point at a commit: {}", e.message()))
                .hint("make a first commit, or pass --base REV")
        })?;
        let commit = head.peel_to_commit().map_err(|e| {
            CommandError::env(format!("HEAD does not point at a commit: {}", e.message()))
        })?;
        let branch = if head.is_branch() {
            head.shorthand().ok().map(str::to_string)
        } else {
            None
        };
        Ok((commit.id().to_string(), branch))
    }

    /// Resolve a revision (branch, tag, sha, `HEAD~1`…) to a commit id.
    pub fn resolve(&self, rev: &str) -> CmdResult<String> {
        let object = self.repo.revparse_single(rev).map_err(|e| {
            CommandError::invalid(format!(
                "base `{rev}` does not name a commit here: {}",
                e.message()
            ))
            .hint("name a branch, tag or commit that exists in this repository")
        })?;
        let commit = object.peel_to_commit().map_err(|e| {
            CommandError::invalid(format!("base `{rev}` is not a commit: {}", e.message()))
        })?;
        Ok(commit.id().to_string())
    }

    /// True when `name` is a local branch.
    pub fn is_local_branch(&self, name: &str) -> bool {
        self.repo.find_branch(name, git2::BranchType::Local).is_ok()
    }
}
