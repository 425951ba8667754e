//! Publishing: push the verified branch and open one pull request through the
//! GitHub API (octocrab). Opening is idempotent: an open pull request for the same
//! head is reused, and a 422 "already exists" after a retried create resolves to
//! it. The token is read from GITHUB_TOKEN or GH_TOKEN and never appears in any
//! message: everything said about a failure is passed through [`redact`].
use crate::config::Config;
use crate::git::{task_branch, Repo};
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

/// The real GitHub, through octocrab.
pub struct GitHub {
    client: octocrab::Octocrab,
    runtime: tokio::runtime::Runtime,
    repo: GitHubRepo,
    /// What each retried call met, for the friction log.
    retried: std::cell::RefCell<Vec<String>>,
}

/// Attempts of a call that meets a 5xx, a 429 or no answer in time, with backoff
/// doubling from BACKOFF between them. octocrab's own retries (immediate, silent)
/// are off, so every retry is paced and lands in the friction log.
const ATTEMPTS: u32 = 4;
const BACKOFF: Duration = Duration::from_millis(250);

impl GitHub {
    pub fn new(repo: GitHubRepo, token: &str, timeout: Duration) -> Result<GitHub, ForgeError> {
        let fail = |e: String| ForgeError {
            status: None,
            message: redact(&e),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the HTTP runtime: {e}")))?;
        let client = {
            let _guard = runtime.enter();
            octocrab::Octocrab::builder()
                .base_uri(repo.api.as_str())
                .map_err(|e| fail(format!("`{}` is not an API address: {e}", repo.api)))?
                .personal_token(token.to_string())
                .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
                .set_connect_timeout(Some(Duration::from_secs(10)))
                .set_read_timeout(Some(timeout))
                .set_write_timeout(Some(timeout))
                .build()
                .map_err(|e| fail(format!("cannot build the GitHub client: {e}")))?
        };
        Ok(GitHub {
            client,
            runtime,
            repo,
            retried: Default::default(),
        })
    }

    /// The failures that were retried, oldest first.
    pub fn retries(&self) -> Vec<String> {
        self.retried.borrow().clone()
    }

    /// Run a call, retrying what may be passing (5xx, no answer) with backoff.
    fn call<T, F, Fut>(&self, what: &str, f: F) -> Result<T, ForgeError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = octocrab::Result<T>>,
    {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(BACKOFF * 2u32.pow(attempt - 1));
            }
            match self.runtime.block_on(f()) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let err = self.explain(what, &e);
                    let passing = err.status.is_none_or(|s| s >= 500 || s == 429);
                    if !passing {
                        return Err(err);
                    }
                    if attempt + 1 < ATTEMPTS {
                        self.retried.borrow_mut().push(err.message.clone());
                    }
                    last = Some(err);
                }
            }
        }
        Err(last.unwrap_or(ForgeError {
            status: None,
            message: format!("{what}: no answer"),
        }))
    }

    fn explain(&self, what: &str, e: &octocrab::Error) -> ForgeError {
        let slug = format!("{}/{}", self.repo.owner, self.repo.name);
        match e {
            octocrab::Error::GitHub { source, .. } => {
                let status = source.status_code.as_u16();
                let detail = source
                    .errors
                    .as_ref()
                    .map(|errs| {
                        errs.iter()
                            .filter_map(|v| v.get("message").and_then(|m| m.as_str()))
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .filter(|d| !d.is_empty())
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                let message = match status {
                    401 => format!("the token was refused by GitHub for {slug}: {}{detail}; check GITHUB_TOKEN", source.message),
                    403 => format!("the token cannot {what} on {slug}: {}{detail}; it needs the pull requests (write) permission", source.message),
                    404 => format!("GitHub does not show {slug} to this token: {}{detail}; check the repository name and the token's access", source.message),
                    _ => format!("GitHub answered {status} when asked to {what} on {slug}: {}{detail}", source.message),
                };
                ForgeError {
                    status: Some(status),
                    message: redact(&message),
                }
            }
            other => ForgeError {
                status: None,
                message: redact(&format!("cannot {what} on {slug}: {other}")),
            },
        }
    }
}

impl Forge for GitHub {
    fn find_open(&self, branch: &str) -> Result<Option<PullRef>, ForgeError> {
        let head = format!("{}:{branch}", self.repo.owner);
        let page = self.call("list pull requests", || async {
            self.client
                .pulls(&self.repo.owner, &self.repo.name)
                .list()
                .state(octocrab::params::State::Open)
                .head(head.clone())
                .send()
                .await
        })?;
        Ok(page
            .items
            .into_iter()
            .find(|pr| pr.head.ref_field == branch)
            .map(|pr| PullRef {
                number: pr.number,
                url: pr.html_url.map(|u| u.to_string()).unwrap_or(pr.url),
            }))
    }

    fn create(&self, pull: &NewPull) -> Result<PullRef, ForgeError> {
        let pr = self.call("open pull requests", || async {
            self.client
                .pulls(&self.repo.owner, &self.repo.name)
                .create(pull.title.clone(), pull.head.clone(), pull.base.clone())
                .body(pull.body.clone())
                .draft(pull.draft)
                .send()
                .await
        })?;
        Ok(PullRef {
            number: pr.number,
            url: pr.html_url.map(|u| u.to_string()).unwrap_or(pr.url),
        })
    }

    fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), ForgeError> {
        self.call("add labels", || async {
            self.client
                .issues(&self.repo.owner, &self.repo.name)
                .add_labels(number, labels)
                .await
        })
        .map(|_| ())
    }
}

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
