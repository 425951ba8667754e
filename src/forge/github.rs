//! The GitHub REST API through octocrab's client (its authentication, base URI and
//! timeouts): opening pull requests here; transport.rs sends requests and judges
//! the answers (status, rate-limit headers, ETags, pages), so every fault gets
//! its own treatment; review.rs reads an open pull request and answers on it.
mod review;
mod transport;

use super::{redact, Conditional, Forge, ForgeError, GitHubRepo, NewPull, PullRef};
use serde_json::{json, Value};
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::Duration;

/// Attempts of one call; backoff doubles from BACKOFF between them.
const ATTEMPTS: u32 = 4;
const BACKOFF: Duration = Duration::from_millis(250);
/// The longest rate-limit wait honoured; a longer one fails the call.
const MAX_RATE_WAIT: Duration = Duration::from_secs(60);

/// The real GitHub.
pub struct GitHub {
    client: octocrab::Octocrab,
    runtime: tokio::runtime::Runtime,
    repo: GitHubRepo,
    /// What each retried call met, by the thread that made it (each publish runs
    /// on one thread), for the friction log.
    retried: Mutex<Vec<(ThreadId, String)>>,
}

impl GitHub {
    pub fn new(repo: GitHubRepo, token: &str, timeout: Duration) -> Result<GitHub, ForgeError> {
        let fail = |e: String| ForgeError {
            message: redact(&e),
            ..ForgeError::default()
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
                // Retries are ours: paced, and each one logged.
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

    fn slug(&self) -> String {
        format!("{}/{}", self.repo.owner, self.repo.name)
    }

    /// `/repos/{owner}/{name}` and `rest`.
    fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.repo.owner, self.repo.name)
    }

    fn pull_ref(value: &Value) -> Option<PullRef> {
        Some(PullRef {
            number: value["number"].as_u64()?,
            url: value["html_url"]
                .as_str()
                .or(value["url"].as_str())?
                .to_string(),
        })
    }
}

/// Percent-encode a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Forge for GitHub {
    fn find_open(&self, branch: &str) -> Result<Option<PullRef>, ForgeError> {
        let head = format!("{}:{branch}", self.repo.owner);
        let path = format!(
            "/repos/{}/{}/pulls?state=open&head={}&per_page=100",
            self.repo.owner,
            self.repo.name,
            encode(&head)
        );
        let list = self.call("list pull requests", None, &path)?;
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .find(|pr| pr["head"]["ref"] == branch)
            .and_then(GitHub::pull_ref))
    }

    fn create(&self, pull: &NewPull) -> Result<PullRef, ForgeError> {
        let path = format!("/repos/{}/{}/pulls", self.repo.owner, self.repo.name);
        let body = json!({
            "title": pull.title,
            "head": pull.head,
            "base": pull.base,
            "body": pull.body,
            "draft": pull.draft,
        });
        let created = self.call("open pull requests", Some(&body), &path)?;
        GitHub::pull_ref(&created).ok_or_else(|| ForgeError {
            message: format!(
                "GitHub's answer to opening a pull request on {} has no number or URL",
                self.slug()
            ),
            ..ForgeError::default()
        })
    }

    fn add_labels(&self, number: u64, labels: &[String]) -> Result<(), ForgeError> {
        let path = format!(
            "/repos/{}/{}/issues/{number}/labels",
            self.repo.owner, self.repo.name
        );
        self.call("add labels", Some(&json!({ "labels": labels })), &path)
            .map(|_| ())
    }

    fn take_retries(&self) -> Vec<String> {
        let me = std::thread::current().id();
        let mut all = self.retried.lock().unwrap_or_else(|e| e.into_inner());
        let (mine, others): (Vec<_>, Vec<_>) = all.drain(..).partition(|(t, _)| *t == me);
        *all = others;
        mine.into_iter().map(|(_, m)| m).collect()
    }

    fn me(&self, cache: &mut Conditional) -> Result<String, ForgeError> {
        self.me_login(cache)
    }
    fn read_pull(
        &self,
        number: u64,
        cache: &mut Conditional,
    ) -> Result<super::PullSnapshot, ForgeError> {
        self.read(number, cache)
    }
    fn closed_by(&self, number: u64) -> Result<Option<String>, ForgeError> {
        self.closer(number)
    }
    fn comment(&self, number: u64, body: &str) -> Result<u64, ForgeError> {
        self.post_comment(number, body)
    }
    fn find_comment(
        &self,
        number: u64,
        marker: &str,
        cache: &mut Conditional,
    ) -> Result<Option<u64>, ForgeError> {
        self.find_own_comment(number, marker, cache)
    }
    fn retarget(&self, number: u64, base: &str) -> Result<(), ForgeError> {
        self.set_base(number, base)
    }
    fn remove_label(&self, number: u64, name: &str) -> Result<(), ForgeError> {
        self.unlabel(number, name)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            super::encode("octo:agentos/fix-1"),
            "octo%3Aagentos%2Ffix-1"
        );
    }
}
