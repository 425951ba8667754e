//! The test's "origin": a bare git repository the stand-in reads branches from,
//! so that a pull request's head follows pushes, mergeability is what git says,
//! and a merge lands on the base branch as GitHub's merge button does.
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Origin {
    pub bare: PathBuf,
}

impl Origin {
    fn git(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.bare)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "GitHub")
            .env("GIT_AUTHOR_EMAIL", "noreply@github.com")
            .env("GIT_COMMITTER_NAME", "GitHub")
            .env("GIT_COMMITTER_EMAIL", "noreply@github.com")
            .output()
            .expect("spawn git");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success(), text)
    }

    pub fn open(bare: &Path) -> Origin {
        Origin {
            bare: bare.to_path_buf(),
        }
    }

    /// The commit a branch points at, read now (`None`: no such branch).
    pub fn branch_sha(&self, branch: &str) -> Option<String> {
        let (ok, sha) = self.git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}^{{commit}}"),
        ]);
        ok.then_some(sha)
    }

    /// A ref as the API takes one (a sha, a branch or a tag) as a commit sha.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        let (ok, sha) = self.git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ]);
        ok.then_some(sha)
    }

    /// Whether `head` merges into `base` without conflict (git's merge-ort, as
    /// GitHub computes `mergeable`).
    pub fn merges_cleanly(&self, base: &str, head: &str) -> Option<bool> {
        let (b, h) = (self.branch_sha(base)?, self.branch_sha(head)?);
        let (ok, _) = self.git(&["merge-tree", "--write-tree", &b, &h]);
        Some(ok)
    }

    /// Merge `head` into `base` with a merge commit, as "Merge pull request"
    /// does; returns the merge commit's sha. Panics on a conflict: GitHub
    /// would refuse to merge.
    pub fn merge(&self, base: &str, head: &str, message: &str) -> String {
        let b = self
            .branch_sha(base)
            .unwrap_or_else(|| panic!("origin has no branch {base}"));
        let h = self
            .branch_sha(head)
            .unwrap_or_else(|| panic!("origin has no branch {head}"));
        let (ok, tree) = self.git(&["merge-tree", "--write-tree", &b, &h]);
        assert!(ok, "{head} does not merge cleanly into {base}: {tree}");
        let tree = tree.lines().next().unwrap_or_default().to_string();
        let (ok, merge) = self.git(&["commit-tree", &tree, "-p", &b, "-p", &h, "-m", message]);
        assert!(ok, "commit-tree failed: {merge}");
        let (ok, err) = self.git(&["update-ref", &format!("refs/heads/{base}"), &merge, &b]);
        assert!(ok, "update-ref failed: {err}");
        merge
    }
}
