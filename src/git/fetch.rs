//! Bringing a pull request home for a revision round: its branch and its base
//! fetched from the remote (people may have pushed to either), the base merged
//! into the task's worktree with the conflict markers left for the agent, and
//! the merge base the round's change is measured from; a stacked branch
//! rebased onto its base once its dependency merged.
use super::credential::Offer;
use super::error::library;
use super::run::{git_remote, said};
use super::{oid, GitError, Repo, TaskWorktree};
use std::path::Path;

impl Repo {
    /// Fetch `branches` from `remote` into `refs/remotes/<remote>/<branch>`
    /// through the git command line (the person's git configuration applies),
    /// with the token offered as a push offers it; the commit each branch is at.
    pub fn fetch_branches(
        &self,
        remote_name: &str,
        branches: &[&str],
        token: Option<&str>,
        api: &str,
    ) -> Result<Vec<String>, GitError> {
        let url = self.remote_url_for(remote_name, false)?;
        let offer = match token {
            Some(token) => Offer::for_url(token, &url, api)?,
            None => None,
        };
        let specs: Vec<String> = branches
            .iter()
            .map(|b| format!("+refs/heads/{b}:refs/remotes/{remote_name}/{b}"))
            .collect();
        let mut args = vec![
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-recurse-submodules",
            remote_name,
        ];
        args.extend(specs.iter().map(String::as_str));
        let fetched = git_remote(&self.root, &args, offer.as_ref())?;
        if !fetched.status.success() {
            let message = said(&fetched);
            // git names the first branch the remote does not have.
            let missing = branches
                .iter()
                .find(|b| message.contains(&format!("couldn't find remote ref refs/heads/{b}")));
            return Err(match missing {
                Some(b) => GitError::NoRemoteBranch {
                    remote: remote_name.to_string(),
                    branch: b.to_string(),
                },
                None => GitError::Fetch {
                    remote: remote_name.to_string(),
                    message,
                },
            });
        }
        let main = self.main()?;
        branches
            .iter()
            .map(|b| {
                main.refname_to_id(&format!("refs/remotes/{remote_name}/{b}"))
                    .map(|id| id.to_string())
                    .map_err(|_| GitError::NoRemoteBranch {
                        remote: remote_name.to_string(),
                        branch: b.to_string(),
                    })
            })
            .collect()
    }

    /// The best common ancestor of two commits.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<String, GitError> {
        let main = self.main()?;
        main.merge_base(oid(a)?, oid(b)?)
            .map(|id| id.to_string())
            .map_err(|e| library(&format!("find the merge base of {a} and {b}"), &e))
    }

    /// True when `ancestor` is `commit` or one of its ancestors.
    pub fn contains(&self, commit: &str, ancestor: &str) -> bool {
        let (Ok(main), Ok(c), Ok(a)) = (self.main(), oid(commit), oid(ancestor)) else {
            return false;
        };
        c == a || main.graph_descendant_of(c, a).unwrap_or(false)
    }

    /// Merge `commit` into the worktree's branch without committing (the round
    /// commits, with both parents). The files left with conflict markers, if
    /// any; an error when git could not merge at all.
    pub fn merge_into_worktree(
        &self,
        id: &str,
        worktree: &Path,
        commit: &str,
    ) -> Result<Vec<String>, GitError> {
        oid(commit)?;
        let wt = self.task_worktree(id, worktree)?;
        let merged = self.git_on(
            &wt,
            &[
                "-c",
                "user.name=git agentos",
                "-c",
                "user.email=agentos@localhost",
                "merge",
                "--no-ff",
                "--no-commit",
                "--no-edit",
                commit,
            ],
        );
        let files = self.conflicted(&wt)?;
        match merged {
            Ok(_) => Ok(files),
            Err(_) if !files.is_empty() => Ok(files),
            Err(e) => Err(e),
        }
    }

    /// Rebase the worktree's branch onto `onto`: the commits after `from` (where it
    /// started) replayed on `onto`. `Ok(Ok(commit))` is the branch's new head;
    /// `Ok(Err(files))` a conflict, the rebase aborted and the branch as it was.
    pub fn rebase_worktree(
        &self,
        id: &str,
        worktree: &Path,
        onto: &str,
        from: &str,
    ) -> Result<Result<String, Vec<String>>, GitError> {
        for commit in [onto, from] {
            oid(commit)?;
        }
        let wt = self.task_worktree(id, worktree)?;
        let ident = [
            "-c",
            "user.name=git agentos",
            "-c",
            "user.email=agentos@localhost",
        ];
        let mut args = ident.to_vec();
        args.extend(["rebase", "--quiet", "--no-autosquash", "--onto", onto, from]);
        let rebased = self.git_on(&wt, &args);
        let files = self.conflicted(&wt)?;
        match rebased {
            Ok(_) => Ok(Ok(self
                .git_on(&wt, &["rev-parse", "HEAD"])?
                .trim()
                .to_string())),
            Err(e) => {
                let aborted = self.git_on(&wt, &["rebase", "--abort"]);
                if files.is_empty() {
                    aborted?;
                    return Err(e);
                }
                aborted?;
                Ok(Err(files))
            }
        }
    }

    /// The files git left unmerged in the worktree.
    fn conflicted(&self, wt: &TaskWorktree) -> Result<Vec<String>, GitError> {
        let out = self.git_on(wt, &["diff", "--name-only", "--diff-filter=U", "-z"])?;
        Ok(out
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// Whether the worktree is in the middle of a merge (`MERGE_HEAD` exists in
    /// the git folder git recorded for it).
    pub fn merging(&self, id: &str, worktree: &Path) -> bool {
        self.task_worktree(id, worktree)
            .is_ok_and(|wt| wt.admin.join("MERGE_HEAD").exists())
    }
}

/// The files (of `files`, relative to `worktree`) that still hold a conflict
/// marker line (`<<<<<<< `, `=======`, `>>>>>>> `).
pub fn with_conflict_markers(worktree: &Path, files: &[String]) -> Vec<String> {
    files
        .iter()
        .filter(|f| {
            std::fs::read(worktree.join(f)).is_ok_and(|bytes| {
                bytes.split(|b| *b == b'\n').any(|line| {
                    line.starts_with(b"<<<<<<< ")
                        || line.starts_with(b">>>>>>> ")
                        || line == b"======="
                })
            })
        })
        .cloned()
        .collect()
}
