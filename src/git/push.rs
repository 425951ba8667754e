//! Pushing a task branch through the git command line, so the person's own git
//! configuration applies (ssh config and its host aliases, credential helpers,
//! `insteadOf`), and confirming that the remote has it (forced when the task
//! publishes its branch; a fast-forward only in a revision round, whose branch
//! people may push to as well; with a lease when a stack moves). The token, when
//! there is one and the push goes over HTTPS to GitHub ([`token_may_go_to`]),
//! reaches git through git agentos's own credential helper (credential.rs),
//! once: git asks for it once per command and gives up on a refusal.
use super::credential::Offer;
use super::run::{git_remote, said};
use super::{task_branch, GitError, Repo};
use std::process::Output;

/// How a push may move the remote's branch.
enum Mode<'a> {
    /// Whatever the remote's branch holds (the branch belongs to the task).
    Force,
    /// Only while the remote's branch is at this commit.
    Lease(&'a str),
    /// Only as a fast-forward.
    FastForward,
}

impl Repo {
    /// Push `agentos/<id>` to `remote` (forced: the branch belongs to the task) and
    /// confirm that the remote's ref now equals the local one. The token goes to
    /// git (through git agentos's credential helper) only when the push URL is
    /// GitHub's (see [`token_may_go_to`]; `api` is the configured GitHub API);
    /// anything else gets the person's own git configuration. Returns the pushed
    /// commit.
    pub fn push_task_branch(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
        api: &str,
    ) -> Result<String, GitError> {
        self.push_branch(remote_name, id, token, api, Mode::Force)
    }

    /// Push `agentos/<id>` to `remote`, forced, with a lease: only while the
    /// remote's branch is at `expected` (`git push --force-with-lease=ref:expected`,
    /// which the remote checks again under its lock). A remote already at the
    /// local commit is left as it is (a push resumed after a crash is not made
    /// twice). Anything else is refused with [`GitError::NotFastForward`].
    pub fn push_with_lease(
        &self,
        remote_name: &str,
        id: &str,
        expected: &str,
        token: Option<&str>,
        api: &str,
    ) -> Result<String, GitError> {
        super::oid(expected)?;
        self.push_branch(remote_name, id, token, api, Mode::Lease(expected))
    }

    /// Push `agentos/<id>` to `remote` as a fast-forward, never forced: when the
    /// remote's branch holds a commit the local one does not, the push is
    /// refused with [`GitError::NotFastForward`] and the remote keeps it.
    pub fn push_fast_forward(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
        api: &str,
    ) -> Result<String, GitError> {
        self.push_branch(remote_name, id, token, api, Mode::FastForward)
    }

    /// The URL git talks to for `remote` (after `insteadOf`, and for a push
    /// after `pushInsteadOf` and `pushurl`).
    pub(super) fn remote_url_for(&self, remote_name: &str, push: bool) -> Result<String, GitError> {
        let mut args = vec!["remote", "get-url"];
        if push {
            args.push("--push");
        }
        args.push(remote_name);
        match self.git_cli(&args) {
            Ok(url) => Ok(url.trim().to_string()),
            Err(e) => Err(GitError::NoRemote {
                remote: remote_name.to_string(),
                message: match e {
                    GitError::Command { stderr, .. } => stderr,
                    other => other.to_string(),
                },
            }),
        }
    }

    fn push_branch(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
        api: &str,
        mode: Mode,
    ) -> Result<String, GitError> {
        let branch = task_branch(id);
        let local = self
            .main()?
            .find_branch(&branch, git2::BranchType::Local)
            .ok()
            .and_then(|b| b.get().target())
            .ok_or_else(|| GitError::NoBranch {
                branch: branch.clone(),
            })?
            .to_string();
        let url = self.remote_url_for(remote_name, true)?;
        let offer = || match token {
            Some(token) => Offer::for_url(token, &url, api),
            None => Ok(None),
        };
        let full_ref = format!("refs/heads/{branch}");
        let (plus, lease) = match mode {
            Mode::Force => ("+", None),
            Mode::Lease(expected) => (
                "",
                Some(format!("--force-with-lease={full_ref}:{expected}")),
            ),
            Mode::FastForward => ("", None),
        };
        let refspec = format!("{plus}{local}:{full_ref}");
        let mut args = vec!["push", "--porcelain", "--no-verify"];
        args.extend(lease.as_deref());
        args.extend([remote_name, refspec.as_str()]);
        let pushed = git_remote(&self.root, &args, offer()?.as_ref())?;
        if let Some((summary, reason)) = rejection(&pushed, &full_ref) {
            let stale = ["non-fast-forward", "fetch first", "stale info"]
                .iter()
                .any(|w| summary.contains(w));
            if stale && !matches!(mode, Mode::Force) {
                return Err(GitError::NotFastForward {
                    remote: remote_name.to_string(),
                    branch,
                });
            }
            return Err(GitError::PushRejected {
                remote: remote_name.to_string(),
                reason,
            });
        }
        if !pushed.status.success() {
            return Err(GitError::Push {
                remote: remote_name.to_string(),
                message: said(&pushed),
            });
        }
        // Read back from where the push went.
        let listed = git_remote(
            &self.root,
            &["ls-remote", "--refs", &url, &full_ref],
            offer()?.as_ref(),
        )?;
        if !listed.status.success() {
            return Err(GitError::ReadBack {
                remote: remote_name.to_string(),
                message: said(&listed),
            });
        }
        let stdout = String::from_utf8_lossy(&listed.stdout);
        let there = stdout.lines().find_map(|line| {
            let (oid, name) = line.split_once('\t')?;
            (name == full_ref).then(|| oid.to_string())
        });
        match there {
            Some(oid) if oid == local => Ok(local),
            Some(found) => Err(GitError::PushedElsewhere {
                remote: remote_name.to_string(),
                branch,
                found,
                local,
            }),
            None => Err(GitError::NotPushed {
                remote: remote_name.to_string(),
                branch,
            }),
        }
    }
}

/// The remote's refusal of `full_ref`, from `git push --porcelain` (a line
/// `!<TAB>src:dst<TAB>[rejected] (why)`): git's summary, and the reason with
/// what the remote said (`remote:` lines, a hook's message).
fn rejection(pushed: &Output, full_ref: &str) -> Option<(String, String)> {
    let stdout = String::from_utf8_lossy(&pushed.stdout);
    let line = stdout.lines().find(|line| {
        line.strip_prefix("!\t")
            .and_then(|rest| rest.split('\t').next())
            .is_some_and(|refs| refs.ends_with(&format!(":{full_ref}")))
    })?;
    let summary = line
        .split('\t')
        .nth(2)
        .unwrap_or("[rejected]")
        .trim()
        .to_string();
    let stderr = String::from_utf8_lossy(&pushed.stderr);
    let remote: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let reason = if remote.is_empty() {
        format!("{full_ref}: {summary}")
    } else {
        format!(
            "{full_ref}: {summary}; the remote said: {}",
            remote.join(" ")
        )
    };
    Some((summary, reason))
}

/// Whether the GitHub token may be offered to `url`: over https:// to
/// github.com, or to the host of the configured GitHub API (`api`, e.g.
/// https://api.github.com or an Enterprise server) over the API's own scheme.
/// Never to any other host, whatever the remote's name: a mirror, a typo or a
/// hostile clone's remote would otherwise receive the person's token.
pub fn token_may_go_to(url: &str, api: &str) -> bool {
    let Some((scheme, host)) = scheme_and_host(url) else {
        return false;
    };
    if scheme == "https" && host == "github.com" {
        return true;
    }
    match scheme_and_host(api) {
        // The API's host, or the host it serves (api.HOST → HOST).
        Some((api_scheme, api_host)) => {
            scheme == api_scheme
                && (host == api_host || api_host.strip_prefix("api.") == Some(host.as_str()))
        }
        None => false,
    }
}

/// `(scheme, host)` of an http(s) URL, lower-cased, without user or port.
fn scheme_and_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| (scheme, host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::token_may_go_to;

    #[test]
    fn the_token_goes_to_github_over_https_and_to_the_configured_api_host_only() {
        let gh = "https://api.github.com";
        assert!(token_may_go_to("https://github.com/o/r.git", gh));
        assert!(token_may_go_to("https://GitHub.com:443/o/r.git", gh));
        assert!(!token_may_go_to("http://github.com/o/r.git", gh));
        assert!(!token_may_go_to("https://github.com.evil.test/o/r.git", gh));
        assert!(!token_may_go_to("https://evil.test/github.com/r.git", gh));
        assert!(!token_may_go_to("https://github.com@evil.test/r.git", gh));
        assert!(!token_may_go_to("http://127.0.0.1:80/o/r.git", gh));
        assert!(!token_may_go_to("ssh://git@github.com/o/r.git", gh));
        let ghe = "https://ghe.corp.test/api/v3";
        assert!(token_may_go_to("https://ghe.corp.test/o/r.git", ghe));
        assert!(!token_may_go_to("http://ghe.corp.test/o/r.git", ghe));
        assert!(!token_may_go_to("https://other.corp.test/o/r.git", ghe));
        let standin = "http://127.0.0.1:4000";
        assert!(token_may_go_to("http://127.0.0.1:5000/o/r.git", standin));
        assert!(!token_may_go_to("http://127.0.0.2:5000/o/r.git", standin));
    }
}
