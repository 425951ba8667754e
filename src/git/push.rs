//! Pushing a task branch and confirming the remote has it (forced when the task
//! publishes its branch; a fast-forward only in a revision round, whose branch
//! people may push to as well); the credentials offered (the token over HTTPS,
//! the ssh-agent over SSH), each once.
use super::{task_branch, GitError, Repo};

impl Repo {
    /// Push `agentos/<id>` to `remote` (forced: the branch belongs to the task) and
    /// confirm that the remote's ref now equals the local one. HTTPS remotes get
    /// the token through the credential callback, SSH remotes the user's agent;
    /// each is tried once. Returns the pushed commit.
    pub fn push_task_branch(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
    ) -> Result<String, GitError> {
        self.push_branch(remote_name, id, token, true, None)
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
    ) -> Result<String, GitError> {
        self.push_branch(remote_name, id, token, true, Some(super::oid(expected)?))
    }

    /// Push `agentos/<id>` to `remote` as a fast-forward, never forced: when the
    /// remote's branch holds a commit the local one does not, the push is
    /// refused with [`GitError::NotFastForward`] and the remote keeps it.
    pub fn push_fast_forward(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
    ) -> Result<String, GitError> {
        self.push_branch(remote_name, id, token, false, None)
    }

    fn push_branch(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
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
            let mut callbacks = credentials(token);
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
            .connect_auth(git2::Direction::Fetch, Some(credentials(token)), None)
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

/// Credentials, each kind offered once (a wrong token must not loop).
pub(super) fn credentials(token: Option<&str>) -> git2::RemoteCallbacks<'_> {
    let mut callbacks = git2::RemoteCallbacks::new();
    let mut tried = false;
    callbacks.credentials(move |_url, username, allowed| {
        if tried {
            return Err(git2::Error::from_str("authentication failed"));
        }
        tried = true;
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            if let Some(token) = token {
                return git2::Cred::userpass_plaintext("x-access-token", token);
            }
        }
        if allowed.contains(git2::CredentialType::SSH_KEY) {
            return git2::Cred::ssh_key_from_agent(username.unwrap_or("git"));
        }
        git2::Cred::default()
    });
    callbacks
}
