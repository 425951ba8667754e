//! The GitHub REST API through octocrab's client (its authentication, base URI and
//! timeouts), with the answers read here: status, rate-limit headers and body, so
//! every fault gets its own treatment. 5xx answers, answers that are not JSON and
//! answers that do not come in time are retried with backoff; a rate limit waits
//! as long as GitHub says (`retry-after`, or until `x-ratelimit-reset`), up to a
//! minute; 401/403/404 are explained; every retry is kept for the friction log.
use super::{redact, Forge, ForgeError, GitHubRepo, NewPull, PullRef};
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

/// One answer, read whole.
struct Answer {
    status: u16,
    /// Seconds to wait before asking again, from `retry-after` or the reset time.
    wait: Option<u64>,
    rate_limited: bool,
    body: String,
}

enum Verdict {
    Done(Value),
    /// Worth another attempt after this long (None: the usual backoff).
    Again(ForgeError, Option<Duration>),
    Fail(ForgeError),
}

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

    /// Send one request and read the whole answer.
    async fn send(&self, post: Option<&Value>, path: &str) -> Result<Answer, octocrab::Error> {
        let response = match post {
            Some(body) => self.client._post(path, Some(body)).await?,
            None => self.client._get(path).await?,
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        };
        let remaining = header("x-ratelimit-remaining");
        let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
        let reset_in = header("x-ratelimit-reset")
            .and_then(|v| v.parse::<i64>().ok())
            .map(|reset| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                (reset - now).max(1) as u64
            });
        let exhausted = remaining.as_deref() == Some("0");
        let rate_limited = status == 429 || (status == 403 && (retry_after.is_some() || exhausted));
        let wait = retry_after.or(if exhausted { reset_in } else { None });
        let body = self
            .client
            .body_to_string(response)
            .await
            .unwrap_or_default();
        Ok(Answer {
            status,
            wait,
            rate_limited,
            body,
        })
    }

    fn judge(&self, what: &str, answer: Result<Answer, octocrab::Error>) -> Verdict {
        let slug = self.slug();
        let error = |status: Option<u16>, message: String| ForgeError {
            status,
            message: redact(&message),
        };
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                return Verdict::Again(
                    error(
                        None,
                        format!("cannot {what} on {slug}: no answer from GitHub ({e})"),
                    ),
                    None,
                )
            }
        };
        let parsed: Result<Value, _> = serde_json::from_str(&answer.body);
        if (200..300).contains(&answer.status) {
            return match parsed {
                Ok(v) => Verdict::Done(v),
                Err(_) => Verdict::Again(
                    error(
                        Some(answer.status),
                        format!(
                            "GitHub answered {} with a body that is not JSON when asked to {what} on {slug}: `{}`",
                            answer.status,
                            answer.body.chars().take(80).collect::<String>()
                        ),
                    ),
                    None,
                ),
            };
        }
        let value = parsed.unwrap_or(Value::Null);
        let message = value["message"].as_str().unwrap_or("").to_string();
        let details: Vec<&str> = value["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str())
            .collect();
        let detail = if details.is_empty() {
            String::new()
        } else {
            format!(" ({})", details.join("; "))
        };
        let status = answer.status;
        if answer.rate_limited {
            let wait = Duration::from_secs(answer.wait.unwrap_or(0));
            let err = error(
                Some(status),
                format!("GitHub rate-limited the token ({status}) when asked to {what} on {slug}: {message}; it asked to wait {} s", wait.as_secs()),
            );
            return if wait > MAX_RATE_WAIT {
                Verdict::Fail(ForgeError {
                    message: format!("{}, longer than git agentos waits; retry the task later with `git agentos retry`", err.message),
                    ..err
                })
            } else {
                Verdict::Again(err, answer.wait.map(Duration::from_secs))
            };
        }
        let text = match status {
            401 => format!("the token was refused by GitHub for {slug}: {message}{detail}; check GITHUB_TOKEN"),
            403 => format!("the token cannot {what} on {slug}: {message}{detail}; it needs the pull requests (write) permission"),
            404 => format!("GitHub does not show {slug} to this token: {message}{detail}; check the repository name and the token's access"),
            _ => format!("GitHub answered {status} when asked to {what} on {slug}: {message}{detail}"),
        };
        if status >= 500 {
            Verdict::Again(error(Some(status), text), None)
        } else {
            Verdict::Fail(error(Some(status), text))
        }
    }

    /// One call, retried while the verdict says so.
    fn call(&self, what: &str, post: Option<&Value>, path: &str) -> Result<Value, ForgeError> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            let answer = self.runtime.block_on(self.send(post, path));
            match self.judge(what, answer) {
                Verdict::Done(v) => return Ok(v),
                Verdict::Fail(e) => return Err(e),
                Verdict::Again(e, wait) => {
                    if attempt + 1 < ATTEMPTS {
                        self.retried
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((std::thread::current().id(), e.message.clone()));
                        std::thread::sleep(wait.unwrap_or(BACKOFF * 2u32.pow(attempt)));
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(ForgeError {
            status: None,
            message: format!("{what}: no answer"),
        }))
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
            status: None,
            message: format!(
                "GitHub's answer to opening a pull request on {} has no number or URL",
                self.slug()
            ),
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
