//! The forge (GitHub) behind a trait: opening exactly one pull request per task
//! branch, then following it (reading it with conditional requests, replying,
//! labelling). github.rs is the real client (octocrab) and github/review.rs its
//! reading of a pull request, pull.rs what a pass reads, conditional.rs the
//! ETags and bodies kept per task, body.rs the pull request's text, redact.rs
//! keeps the token out of every message. The client is built once per
//! dispatcher ([`LazyForge`]) and handed to the steps as `&dyn Forge`, so tests
//! put a fake in its place.
mod body;
pub mod conditional;
mod github;
pub mod pull;
mod redact;

pub use body::body;
pub use conditional::Conditional;
pub use github::GitHub;
pub use pull::PullSnapshot;
pub use redact::{redact, token};

use crate::config::Config;
use crate::git::Repo;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Why the forge said no: the HTTP status when there was one, and what it said
/// (already redacted).
#[derive(Debug, Clone, Default, thiserror::Error)]
#[error("{message}")]
pub struct ForgeError {
    pub status: Option<u16>,
    pub message: String,
    /// A rate limit that lasts longer than git agentos waits: the seconds
    /// GitHub asked for.
    pub retry_after: Option<u64>,
}

impl ForgeError {
    fn unsupported(what: &str) -> ForgeError {
        ForgeError {
            message: format!("this forge cannot {what}"),
            ..ForgeError::default()
        }
    }
}

/// The GitHub API, behind a seam. Shared by the tasks of one dispatcher, on
/// every worker thread.
pub trait Forge: Send + Sync {
    /// The open pull request whose head is `branch`, if any.
    fn find_open(&self, branch: &str) -> Result<Option<PullRef>, ForgeError>;
    fn create(&self, pull: &NewPull) -> Result<PullRef, ForgeError>;
    fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), ForgeError>;
    /// The failed calls this thread retried since it last asked, oldest first (for
    /// the friction log).
    fn take_retries(&self) -> Vec<String> {
        Vec::new()
    }

    /// The login of the token's own user (`GET /user`, conditional).
    fn me(&self, _cache: &mut Conditional) -> Result<String, ForgeError> {
        Err(ForgeError::unsupported("say who the token belongs to"))
    }
    /// One pass over pull request `number`: the pull request, its reviews, inline
    /// and conversation comments, and the check runs (failing ones with their
    /// annotations) and statuses on its head, each request conditional on what
    /// `cache` holds.
    fn read_pull(
        &self,
        _number: u64,
        _cache: &mut Conditional,
    ) -> Result<PullSnapshot, ForgeError> {
        Err(ForgeError::unsupported("read pull requests"))
    }
    /// Who closed it (`closed_by` of the issue).
    fn closed_by(&self, _number: u64) -> Result<Option<String>, ForgeError> {
        Err(ForgeError::unsupported("read who closed a pull request"))
    }
    /// Post a conversation comment; its id.
    fn comment(&self, _number: u64, _body: &str) -> Result<u64, ForgeError> {
        Err(ForgeError::unsupported("comment on pull requests"))
    }
    /// The id of a conversation comment holding `marker` by the token's user, if
    /// one exists (a reply posted before a crash is found, not posted twice).
    fn find_comment(
        &self,
        _number: u64,
        _marker: &str,
        _cache: &mut Conditional,
    ) -> Result<Option<u64>, ForgeError> {
        Err(ForgeError::unsupported("list comments"))
    }
    /// Make `base` the base branch of pull request `number` (`PATCH
    /// /repos/{o}/{r}/pulls/{n}` with `base`); already so is fine.
    fn retarget(&self, _number: u64, _base: &str) -> Result<(), ForgeError> {
        Err(ForgeError::unsupported("retarget pull requests"))
    }
    /// Remove a label (one that is not there is fine).
    fn remove_label(&self, _number: u64, _name: &str) -> Result<(), ForgeError> {
        Err(ForgeError::unsupported("remove labels"))
    }
}

/// `owner/name` and where its API lives.
#[derive(Debug, Clone)]
pub struct GitHubRepo {
    pub owner: String,
    pub name: String,
    pub api: String,
}

/// What the environment says about GitHub, read once per dispatcher (a process's
/// environment does not change under it): the token (GITHUB_TOKEN or GH_TOKEN),
/// AGENTOS_GITHUB_API, AGENTOS_GITHUB_REPO and AGENTOS_GITHUB_TIMEOUT.
#[derive(Debug, Clone)]
pub struct ForgeEnv {
    pub token: Option<String>,
    pub api: String,
    pub repo: Option<String>,
    /// Seconds.
    pub timeout: Option<f64>,
}

impl ForgeEnv {
    pub fn from_env() -> ForgeEnv {
        ForgeEnv {
            token: token(),
            api: std::env::var("AGENTOS_GITHUB_API")
                .unwrap_or_else(|_| "https://api.github.com".to_string()),
            repo: std::env::var("AGENTOS_GITHUB_REPO").ok(),
            timeout: std::env::var("AGENTOS_GITHUB_TIMEOUT")
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok()),
        }
    }

    /// The GitHub repository of this checkout: the remote's URL, else
    /// AGENTOS_GITHUB_REPO, else `[github] repo` in config.toml.
    pub fn github_repo(&self, repo: &Repo, config: &Config, remote: &str) -> Option<GitHubRepo> {
        let (owner, name) = repo
            .remote_url(remote)
            .and_then(|u| repo_from_url(&u))
            .or_else(|| {
                let spec = self.repo.clone().or_else(|| config.github.repo.clone())?;
                let (o, n) = spec.trim().split_once('/')?;
                Some((o.to_string(), n.to_string()))
            })?;
        Some(GitHubRepo {
            owner,
            name,
            api: self.api.clone(),
        })
    }

    /// How long to wait for an answer from the API: AGENTOS_GITHUB_TIMEOUT
    /// (seconds), else `[github] timeout`, else 30 s.
    pub fn timeout(&self, config: &Config) -> Duration {
        self.timeout
            .or(config.github.timeout)
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(30))
    }
}

/// The forge of one dispatcher: built the first time a publish needs it, then
/// shared by every task (and worker thread) after. A build that fails is tried
/// again by the next task.
#[derive(Default)]
pub struct LazyForge {
    built: Mutex<Option<Arc<dyn Forge>>>,
}

impl LazyForge {
    pub fn new() -> LazyForge {
        LazyForge::default()
    }

    /// A forge that is already built (a fake, in tests).
    pub fn with(forge: Arc<dyn Forge>) -> LazyForge {
        LazyForge {
            built: Mutex::new(Some(forge)),
        }
    }

    /// The forge, built by `build` if this is the first time.
    pub fn get(
        &self,
        build: impl FnOnce() -> Result<Arc<dyn Forge>, ForgeError>,
    ) -> Result<Arc<dyn Forge>, ForgeError> {
        let mut slot = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(forge) = slot.as_ref() {
            return Ok(forge.clone());
        }
        let forge = build()?;
        *slot = Some(forge.clone());
        Ok(forge)
    }
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

/// Open the pull request for a branch, or find the one already open: never two.
/// True when it was opened now.
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

/// The branch a task's pull request merges into.
pub fn base_branch(task: &crate::task::Task, repo: &Repo) -> Option<String> {
    task.base_branch
        .clone()
        .or_else(|| task.base.clone().filter(|b| repo.is_local_branch(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
