//! Committing what an agent left, and reading task branches: where they point,
//! whether their work is pushed or merged, deleting them.
use super::error::library;
use super::{oid, task_branch, GitError, Repo};
use std::path::Path;

impl Repo {
    /// Commit everything left in the worktree (new, changed, deleted files; ignored
    /// files stay out) on its branch. None when there was nothing to commit. In
    /// the middle of a merge (a revision round that merged the base in), the
    /// commit is the merge commit: its parents are HEAD and `MERGE_HEAD`.
    pub fn commit_all(&self, worktree: &Path, message: &str) -> Result<Option<String>, GitError> {
        let repo = git2::Repository::open(worktree)
            .map_err(|e| library(&format!("open the worktree {}", worktree.display()), &e))?;
        let mut index = repo
            .index()
            .map_err(|e| library("read the worktree's index", &e))?;
        forget_foreign_entries(&repo, &mut index)?;
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .and_then(|_| index.update_all(["*"], None))
            .and_then(|_| index.write())
            .map_err(|e| library("stage the agent's changes", &e))?;
        let tree_id = index
            .write_tree()
            .map_err(|e| library("write the tree", &e))?;
        let head = repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|e| match e.code() {
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound => GitError::BranchGone {
                    message: e.message().to_string(),
                },
                _ => library("read the worktree's HEAD", &e),
            })?;
        let merging = std::fs::read_to_string(repo.path().join("MERGE_HEAD"))
            .ok()
            .and_then(|text| git2::Oid::from_str(text.lines().next()?.trim()).ok())
            .map(|id| repo.find_commit(id))
            .transpose()
            .map_err(|e| library("read the commit being merged (MERGE_HEAD)", &e))?;
        if head.tree_id() == tree_id && merging.is_none() {
            return Ok(None);
        }
        let tree = repo
            .find_tree(tree_id)
            .map_err(|e| library("read the tree", &e))?;
        let sig = signature(&repo)?;
        let mut parents = vec![&head];
        parents.extend(merging.as_ref());
        let id = repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .map_err(|e| library("commit the agent's changes", &e))?;
        if merging.is_some() {
            repo.cleanup_state()
                .map_err(|e| library("end the merge (remove MERGE_HEAD)", &e))?;
        }
        Ok(Some(id.to_string()))
    }

    /// The commit the task branch points at.
    pub fn branch_commit(&self, id: &str) -> Option<String> {
        let main = self.main().ok()?;
        let branch = main
            .find_branch(&task_branch(id), git2::BranchType::Local)
            .ok()?;
        branch
            .get()
            .peel_to_commit()
            .ok()
            .map(|c| c.id().to_string())
    }

    /// True when the task branch's tree differs from the base commit's tree.
    pub fn branch_differs_from(&self, id: &str, base: &str) -> Result<bool, GitError> {
        let main = self.main()?;
        let base_tree = main
            .find_commit(oid(base)?)
            .and_then(|c| c.tree())
            .map_err(|e| library(&format!("read the base commit {base}"), &e))?;
        let branch = main
            .find_branch(&task_branch(id), git2::BranchType::Local)
            .and_then(|b| b.get().peel_to_tree())
            .map_err(|e| library(&format!("read the branch {}", task_branch(id)), &e))?;
        Ok(branch.id() != base_tree.id())
    }

    /// Delete a local branch.
    pub fn delete_branch(&self, name: &str) -> Result<(), GitError> {
        let main = self.main()?;
        let mut branch = main
            .find_branch(name, git2::BranchType::Local)
            .map_err(|e| library(&format!("find the branch {name}"), &e))?;
        branch
            .delete()
            .map_err(|e| library(&format!("delete the branch {name}"), &e))
    }

    /// Local branches named `agentos/…`, with the commit each points at.
    pub fn task_branches(&self) -> Result<Vec<(String, String)>, GitError> {
        let main = self.main()?;
        let mut out = Vec::new();
        let branches = main
            .branches(Some(git2::BranchType::Local))
            .map_err(|e| library("list branches", &e))?;
        for (branch, _) in branches.flatten() {
            let Ok(Some(name)) = branch.name() else {
                continue;
            };
            if let (Some(_), Ok(commit)) =
                (name.strip_prefix("agentos/"), branch.get().peel_to_commit())
            {
                out.push((name.to_string(), commit.id().to_string()));
            }
        }
        Ok(out)
    }

    /// True when `commit` is reachable from some remote-tracking branch (pushed).
    pub fn is_pushed(&self, commit: &str) -> bool {
        let Ok(main) = self.main() else { return false };
        let Ok(target) = oid(commit) else {
            return false;
        };
        let Ok(refs) = main.references_glob("refs/remotes/*") else {
            return false;
        };
        let tips: Vec<git2::Oid> = refs.flatten().filter_map(|r| r.target()).collect();
        tips.into_iter()
            .any(|tip| tip == target || main.graph_descendant_of(tip, target).unwrap_or(false))
    }

    /// True when `commit` is reachable from a local branch other than `branch`.
    pub fn is_merged_elsewhere(&self, branch: &str, commit: &str) -> bool {
        let Ok(main) = self.main() else { return false };
        let Ok(target) = oid(commit) else {
            return false;
        };
        let Ok(branches) = main.branches(Some(git2::BranchType::Local)) else {
            return false;
        };
        let tips: Vec<git2::Oid> = branches
            .flatten()
            .filter(|(b, _)| b.name().ok().flatten() != Some(branch))
            .filter_map(|(b, _)| b.get().target())
            .collect();
        tips.into_iter()
            .any(|tip| tip == target || main.graph_descendant_of(tip, target).unwrap_or(false))
    }
}

/// Drop the index entries whose object the repository's store lacks, so that
/// staging reads their files again. A sandboxed agent's `git add` writes its
/// objects into its private folder (`GIT_OBJECT_DIRECTORY`), which is removed
/// after the attempt: a commit must never point at them. Submodule entries
/// (their commits live in another repository) stay.
fn forget_foreign_entries(
    repo: &git2::Repository,
    index: &mut git2::Index,
) -> Result<(), GitError> {
    let odb = repo
        .odb()
        .map_err(|e| library("open the object store", &e))?;
    let foreign: Vec<Vec<u8>> = index
        .iter()
        .filter(|e| e.mode != 0o160000 && !odb.exists(e.id))
        .map(|e| e.path)
        .collect();
    for path in foreign {
        let path: std::path::PathBuf =
            <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(path).into();
        index
            .remove_path(&path)
            .map_err(|e| library("drop an entry the agent staged", &e))?;
    }
    Ok(())
}

/// Who commits the agent's work: GIT_AUTHOR_NAME/EMAIL, else the repository's
/// user.name/user.email, else "git agentos".
fn signature(repo: &git2::Repository) -> Result<git2::Signature<'static>, GitError> {
    let env_name = std::env::var("GIT_AUTHOR_NAME").ok();
    let env_email = std::env::var("GIT_AUTHOR_EMAIL").ok();
    let config = repo.config().ok();
    let from_config = |key: &str| config.as_ref().and_then(|c| c.get_string(key).ok());
    let name = env_name
        .or_else(|| from_config("user.name"))
        .unwrap_or_else(|| "git agentos".into());
    let email = env_email
        .or_else(|| from_config("user.email"))
        .unwrap_or_else(|| "agentos@localhost".into());
    git2::Signature::now(&name, &email).map_err(|e| library("make a commit signature", &e))
}
