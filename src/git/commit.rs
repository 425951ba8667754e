//! Reading task branches: where they point, whether their work is pushed or
//! merged, deleting them; who commits (snapshot.rs commits what an agent left).
use super::error::library;
use super::{oid, task_branch, GitError, Repo};

impl Repo {
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

/// Who commits the agent's work: GIT_AUTHOR_NAME/EMAIL, else the repository's
/// user.name/user.email, else "git agentos".
pub(super) fn signature(repo: &git2::Repository) -> Result<git2::Signature<'static>, GitError> {
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
