//! Publishing: push the verified branch and open one pull request through the
//! GitHub API (octocrab). Opening is idempotent: an open pull request for the same
//! head is reused, and a 422 "already exists" after a retried create resolves to
//! it. The token is read from GITHUB_TOKEN or GH_TOKEN and never appears in any
//! message: everything said about a failure is passed through [`redact`].
use crate::config::Config;
use crate::git::{task_branch, Repo};

/// A pull request, as far as git agentos needs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRef {
    pub number: u64,
    pub url: String,
}

/// What to open.
#[derive(Debug, Clone)]
pub struct NewPull {
    pub title: String,
    pub head: String,
    pub base: String,
    pub body: String,
    pub draft: bool,
}

/// Why the forge said no.
#[derive(Debug, Clone)]
pub struct ForgeError {
    pub status: Option<u16>,
    pub message: String,
}

/// The GitHub API, behind a seam.
pub trait Forge {
    /// The open pull request whose head is `branch`, if any.
    fn find_open(&self, branch: &str) -> Result<Option<PullRef>, ForgeError>;
    fn create(&self, pull: &NewPull) -> Result<PullRef, ForgeError>;
    fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), ForgeError>;
}

/// `owner/name` and where its API lives.
#[derive(Debug, Clone)]
pub struct GitHubRepo {
    pub owner: String,
    pub name: String,
    pub api: String,
}

/// The token, from GITHUB_TOKEN or GH_TOKEN.
pub fn token() -> Option<String> {
    ["GITHUB_TOKEN", "GH_TOKEN"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

/// Replace the token, and the credentials of any URL (`https://user:secret@host`),
/// with `***`.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    if let Some(token) = token() {
        out = out.replace(&token, "***");
    }
    redact_url_credentials(&out)
}

fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '`' || c == '\'' || c == '"')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(i) => {
                out.push_str("***");
                out.push_str(&authority[i..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `owner/name` from a GitHub remote URL: `git@github.com:o/r.git`,
/// `ssh://git@github.com/o/r`, `https://github.com/o/r(.git)`.
pub fn repo_from_url(url: &str) -> Option<(String, String)> {
    let rest = url
        .strip_prefix("git@github.com:")
        .or_else(|| url.strip_prefix("ssh://git@github.com/"))
        .or_else(|| url.strip_prefix("https://github.com/"))
        .or_else(|| {
            // https://user:token@github.com/o/r
            let after = url.strip_prefix("https://")?;
            let (_, host_path) = after.split_once('@')?;
            host_path.strip_prefix("github.com/")
        })?;
    let rest = rest.trim_end_matches('/').trim_end_matches(".git");
    let (owner, name) = rest.split_once('/')?;
    (!owner.is_empty() && !name.is_empty() && !name.contains('/'))
        .then(|| (owner.to_string(), name.to_string()))
}

/// The GitHub repository of this checkout: the remote's URL, else
/// AGENTOS_GITHUB_REPO, else `[github] repo` in config.toml.
pub fn github_repo(repo: &Repo, config: &Config, remote: &str) -> Option<GitHubRepo> {
    let (owner, name) = repo
        .remote_url(remote)
        .and_then(|u| repo_from_url(&u))
        .or_else(|| {
            let spec = std::env::var("AGENTOS_GITHUB_REPO")
                .ok()
                .or_else(|| config.github.repo.clone())?;
            let (o, n) = spec.trim().split_once('/')?;
            Some((o.to_string(), n.to_string()))
        })?;
    let api = std::env::var("AGENTOS_GITHUB_API")
        .unwrap_or_else(|_| "https://api.github.com".to_string());
    Some(GitHubRepo { owner, name, api })
}

pub use crate::github::GitHub;

/// Open the pull request for a branch, or find the one already open: never two.
pub fn open_once(
    forge: &dyn Forge,
    pull: &NewPull,
    labels: &[String],
) -> Result<(PullRef, bool), ForgeError> {
    if let Some(existing) = forge.find_open(&pull.head)? {
        return Ok((existing, false));
    }
    let created = match forge.create(pull) {
        Ok(pr) => pr,
        // A retried create whose first attempt went through.
        Err(e) if e.status == Some(422) && e.message.contains("already exists") => {
            forge.find_open(&pull.head)?.ok_or(e)?
        }
        Err(e) => return Err(e),
    };
    if !labels.is_empty() {
        forge.add_labels(created.number, labels)?;
    }
    Ok((created, true))
}

const PR_TEMPLATE: &str = include_str!("../templates/pr.md");

/// The pull request's body: the task, the verification report, the agent's
/// summary and the `Agentos-Task:` marker. The token never survives into it.
pub fn body(
    id: &str,
    task_body: &str,
    report: &str,
    agent: &str,
    outcome: &str,
    summary: &str,
) -> String {
    let quoted: String = summary.lines().map(|l| format!("> {l}\n")).collect();
    redact(
        &PR_TEMPLATE
            .replace("{{report}}", report.trim_end())
            .replace("{{agent}}", agent)
            .replace("{{outcome}}", outcome)
            .replace("{{summary}}", quoted.trim_end())
            .replace("{{id}}", id)
            .replace("{{body}}", task_body.trim_end()),
    )
}

/// The branch a task's pull request merges into.
pub fn base_branch(task: &crate::task::Task, repo: &Repo) -> Option<String> {
    task.base_branch
        .clone()
        .or_else(|| task.base.clone().filter(|b| repo.is_local_branch(b)))
}

/// The head branch name of a task.
pub fn head(id: &str) -> String {
    task_branch(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_redacted() {
        assert_eq!(
            redact_url_credentials(
                "cannot reach https://x-access-token:s3cret@github.com/o/r.git: no"
            ),
            "cannot reach https://***@github.com/o/r.git: no"
        );
        assert_eq!(
            redact_url_credentials("http://127.0.0.1:80/a and ssh://git@host/x"),
            "http://127.0.0.1:80/a and ssh://***@host/x"
        );
        assert_eq!(redact_url_credentials("no urls here"), "no urls here");
    }

    #[test]
    fn repositories_from_remote_urls() {
        let want = Some(("o".to_string(), "r".to_string()));
        for url in [
            "git@github.com:o/r.git",
            "git@github.com:o/r",
            "ssh://git@github.com/o/r.git",
            "https://github.com/o/r",
            "https://github.com/o/r.git",
            "https://x-access-token:abc@github.com/o/r.git",
        ] {
            assert_eq!(repo_from_url(url), want, "{url}");
        }
        assert_eq!(repo_from_url("https://gitlab.com/o/r"), None);
        assert_eq!(repo_from_url("/srv/git/r.git"), None);
    }
}
