//! HEAD's commit as the post-commit hook reads it: subject, trailers, changed
//! files, and a key that survives amend, rebase and cherry-pick.
use super::error::library;
use super::{GitError, Repo};

impl Repo {
    /// HEAD's commit as the post-commit hook sees it.
    pub fn head_commit_info(&self) -> Result<CommitInfo, GitError> {
        let head = self.repo.head().map_err(|e| library("read HEAD", &e))?;
        let branch = head
            .is_branch()
            .then(|| head.shorthand().ok().map(str::to_string))
            .flatten();
        let commit = head
            .peel_to_commit()
            .map_err(|e| library("read HEAD's commit", &e))?;
        let tree = commit.tree().map_err(|e| library("read HEAD's tree", &e))?;
        let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let diff = self
            .repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
            .map_err(|e| library("diff HEAD with its parent", &e))?;
        let mut files = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(path) = file.path().and_then(|p| p.to_str()) {
                    if !files.iter().any(|f: &String| f == path) {
                        files.push(path.to_string());
                    }
                }
            }
        }
        let author = commit.author();
        let message = commit.message().unwrap_or_default().to_string();
        let trailers = git2::message_trailers_strs(&message)
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(CommitInfo {
            sha: commit.id().to_string(),
            subject: commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_string(),
            trailers,
            // Amend, rebase and cherry-pick keep the author, the author date and
            // (unless reworded) the subject.
            change_key: format!(
                "{} <{}> {} {}",
                author.name().unwrap_or_default(),
                author.email().unwrap_or_default(),
                author.when().seconds(),
                commit.summary().ok().flatten().unwrap_or_default()
            ),
            files,
            branch,
        })
    }
}

/// HEAD's commit, as the post-commit hook needs it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub sha: String,
    pub subject: String,
    pub trailers: Vec<(String, String)>,
    /// What stays the same when the commit is amended, rebased or cherry-picked.
    pub change_key: String,
    /// Paths the commit changed (both sides of renames).
    pub files: Vec<String>,
    pub branch: Option<String>,
}
