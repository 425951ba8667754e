//! Pushing a task branch and confirming the remote has it (forced when the task
//! publishes its branch; a fast-forward only in a revision round, whose branch
//! people may push to as well); the credentials offered (the token over HTTPS
//! to GitHub only, the ssh-agent over SSH), each once.
use super::{task_branch, GitError, Repo};

impl Repo {
    /// Push `agentos/<id>` to `remote` (forced: the branch belongs to the task) and
    /// confirm that the remote's ref now equals the local one. HTTPS remotes get
    /// the token through the credential callback when the URL asking is GitHub's
    /// (see [`token_may_go_to`]; `api` is the configured GitHub API), SSH remotes
    /// the user's agent; each is tried once. Returns the pushed commit.
    pub fn push_task_branch(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
        api: &str,
    ) -> Result<String, GitError> {
        self.push_branch(remote_name, id, token, api, true, None)
    }

    /// Push `agentos/<id>` to `remote`, forced, with a lease: only while the
    /// remote's branch is at `expected` (as `git push --force-with-lease`
    /// checks it: against what the remote advertised, which the remote
    /// verifies again under its lock). A remote already at the local commit
    /// is left as it is (a push resumed after a crash is not made twice).
    /// Anything else is refused with [`GitError::NotFastForward`].
    pub fn push_with_lease(
        &self,
        remote_name: &str,
        id: &str,
        expected: &str,
        token: Option<&str>,
        api: &str,
    ) -> Result<String, GitError> {
        self.push_branch(
            remote_name,
            id,
            token,
            api,
            true,
            Some(super::oid(expected)?),
        )
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
        self.push_branch(remote_name, id, token, api, false, None)
    }

    fn push_branch(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
        api: &str,
        force: bool,
        lease: Option<git2::Oid>,
    ) -> Result<String, GitError> {
        let main = self.main()?;
        let branch = task_branch(id);
        let remote_err =
            |message: &git2::Error| (remote_name.to_string(), message.message().to_string());
        let local = main
            .find_branch(&branch, git2::BranchType::Local)
            .ok()
            .and_then(|b| b.get().target())
            .ok_or_else(|| GitError::NoBranch {
                branch: branch.clone(),
            })?;
        let mut remote = main.find_remote(remote_name).map_err(|e| {
            let (remote, message) = remote_err(&e);
            GitError::NoRemote { remote, message }
        })?;
        let plus = if force { "+" } else { "" };
        let refspec = format!("{plus}refs/heads/{branch}:refs/heads/{branch}");
        let rejected = std::cell::RefCell::new(None::<String>);
        let stale = std::cell::Cell::new(false);
        {
            let mut callbacks = credentials(token, api);
            if let Some(expected) = lease {
                let stale = &stale;
                callbacks.push_negotiation(move |updates| {
                    let moved = updates
                        .iter()
                        .any(|u| u.src() != expected && u.src() != local);
                    if moved {
                        stale.set(true);
                        return Err(git2::Error::from_str("stale lease"));
                    }
                    Ok(())
                });
            }
            callbacks.push_update_reference(|refname, status| {
                if let Some(message) = status {
                    *rejected.borrow_mut() = Some(format!("{refname}: {message}"));
                }
                Ok(())
            });
            let mut opts = git2::PushOptions::new();
            opts.remote_callbacks(callbacks);
            remote
                .push(&[refspec.as_str()], Some(&mut opts))
                .map_err(|e| {
                    let (remote, message) = remote_err(&e);
                    if e.code() == git2::ErrorCode::NotFastForward || stale.get() {
                        GitError::NotFastForward {
                            remote,
                            branch: branch.clone(),
                        }
                    } else {
                        GitError::Push { remote, message }
                    }
                })?;
        }
        if let Some(reason) = rejected.into_inner() {
            let refused_ff = ["non-fast-forward", "fetch first", "stale info"]
                .iter()
                .any(|w| reason.contains(w));
            if !force && refused_ff {
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
        let read_back = |e: git2::Error| {
            let (remote, message) = remote_err(&e);
            GitError::ReadBack { remote, message }
        };
        remote
            .connect_auth(git2::Direction::Fetch, Some(credentials(token, api)), None)
            .map_err(read_back)?;
        let there = remote
            .list()
            .map_err(read_back)?
            .iter()
            .find(|h| h.name() == format!("refs/heads/{branch}"))
            .map(|h| h.oid());
        let _ = remote.disconnect();
        match there {
            Some(oid) if oid == local => Ok(local.to_string()),
            Some(oid) => Err(GitError::PushedElsewhere {
                remote: remote_name.to_string(),
                branch,
                found: oid.to_string(),
                local: local.to_string(),
            }),
            None => Err(GitError::NotPushed {
                remote: remote_name.to_string(),
                branch,
            }),
        }
    }
}

/// Credentials, each kind offered once (a wrong token must not loop). The
/// token goes only where [`token_may_go_to`] says; any other HTTP(S) remote
/// gets the person's own git credentials (their credential helper).
pub(super) fn credentials<'a>(token: Option<&'a str>, api: &'a str) -> git2::RemoteCallbacks<'a> {
    let mut callbacks = git2::RemoteCallbacks::new();
    let mut tried = false;
    let mut helper_tried = false;
    callbacks.credentials(move |url, username, allowed| {
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            match token.filter(|_| token_may_go_to(url, api)) {
                Some(token) if !tried => {
                    tried = true;
                    return git2::Cred::userpass_plaintext("x-access-token", token);
                }
                None if !helper_tried => {
                    helper_tried = true;
                    let config = git2::Config::open_default()?;
                    return git2::Cred::credential_helper(&config, url, username);
                }
                _ => return Err(git2::Error::from_str("authentication failed")),
            }
        }
        if tried {
            return Err(git2::Error::from_str("authentication failed"));
        }
        tried = true;
        if allowed.contains(git2::CredentialType::SSH_KEY) {
            return git2::Cred::ssh_key_from_agent(username.unwrap_or("git"));
        }
        git2::Cred::default()
    });
    callbacks
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
