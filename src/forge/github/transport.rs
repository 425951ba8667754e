//! Sending requests to GitHub and judging the answers: status, rate-limit
//! headers, ETags and `Link` pages. 5xx answers, answers that are not JSON and
//! answers that do not come in time are retried with backoff; a rate limit is
//! waited out when GitHub asks for a minute or less; a `304` to a conditional
//! GET answers with what the cache holds.
use super::{GitHub, ATTEMPTS, BACKOFF, MAX_RATE_WAIT};
use crate::forge::{redact, Conditional, ForgeError};
use serde_json::Value;
use std::time::Duration;

/// How a request is sent.
#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

/// One answer, read whole.
struct Answer {
    status: u16,
    /// Seconds to wait before asking again, from `retry-after` or the reset time.
    wait: Option<u64>,
    rate_limited: bool,
    body: String,
    etag: Option<String>,
    /// The next page (`Link: <…>; rel="next"`).
    next: Option<String>,
}

/// What a successful call returned.
enum Reply {
    Fresh {
        value: Value,
        etag: Option<String>,
        next: Option<String>,
    },
    /// `304`: what the ETag stands for has not changed.
    NotModified,
}

enum Verdict {
    Done(Reply),
    /// Worth another attempt after this long (None: the usual backoff).
    Again(ForgeError, Option<Duration>),
    Fail(ForgeError),
}

impl GitHub {
    /// Send one request and read the whole answer.
    async fn send(
        &self,
        method: Method,
        body: Option<&Value>,
        path: &str,
        etag: Option<&str>,
    ) -> Result<Answer, octocrab::Error> {
        let response = match method {
            Method::Post => self.client._post(path, body).await?,
            Method::Patch => self.client._patch(path, body).await?,
            Method::Delete => self.client._delete(path, body).await?,
            Method::Get => {
                let mut headers = http::HeaderMap::new();
                if let Some(value) = etag.and_then(|e| http::HeaderValue::from_str(e).ok()) {
                    headers.insert(http::header::IF_NONE_MATCH, value);
                }
                self.client._get_with_headers(path, Some(headers)).await?
            }
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
        let etag = header("etag");
        let next = header("link").and_then(|l| next_link(&l));
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
            etag,
            next,
        })
    }

    fn judge(&self, what: &str, answer: Result<Answer, octocrab::Error>) -> Verdict {
        let slug = self.slug();
        let error = |status: Option<u16>, message: String| ForgeError {
            status,
            message: redact(&message),
            retry_after: None,
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
        if answer.status == 304 {
            return Verdict::Done(Reply::NotModified);
        }
        let parsed: Result<Value, _> = if answer.body.trim().is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_str(&answer.body)
        };
        if (200..300).contains(&answer.status) {
            return match parsed {
                Ok(value) => Verdict::Done(Reply::Fresh {
                    value,
                    etag: answer.etag,
                    next: answer.next,
                }),
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
                    retry_after: Some(wait.as_secs()),
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

    /// One request, retried while the verdict says so.
    fn request(
        &self,
        what: &str,
        method: Method,
        body: Option<&Value>,
        path: &str,
        etag: Option<&str>,
    ) -> Result<Reply, ForgeError> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            let answer = self.runtime.block_on(self.send(method, body, path, etag));
            match self.judge(what, answer) {
                Verdict::Done(reply) => return Ok(reply),
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
            message: format!("{what}: no answer"),
            ..ForgeError::default()
        }))
    }

    /// One call whose answer is JSON (a GET without an ETag, a POST, a DELETE).
    pub(super) fn call(
        &self,
        what: &str,
        post: Option<&Value>,
        path: &str,
    ) -> Result<Value, ForgeError> {
        let method = if post.is_some() {
            Method::Post
        } else {
            Method::Get
        };
        self.answer_of(what, self.request(what, method, post, path, None)?)
    }

    fn answer_of(&self, what: &str, reply: Reply) -> Result<Value, ForgeError> {
        match reply {
            Reply::Fresh { value, .. } => Ok(value),
            Reply::NotModified => Err(ForgeError {
                status: Some(304),
                message: format!(
                    "GitHub answered 304 to an unconditional request to {what} on {}",
                    self.slug()
                ),
                ..ForgeError::default()
            }),
        }
    }

    /// A PATCH; its answer, JSON.
    pub(super) fn patch(&self, what: &str, body: &Value, path: &str) -> Result<Value, ForgeError> {
        self.answer_of(
            what,
            self.request(what, Method::Patch, Some(body), path, None)?,
        )
    }

    /// A DELETE; its answer (often empty) is not read.
    pub(super) fn delete(&self, what: &str, path: &str) -> Result<(), ForgeError> {
        self.request(what, Method::Delete, None, path, None)
            .map(|_| ())
    }

    /// A GET sent with the ETag `cache` holds for it: the fresh answer, or the
    /// cached one after a `304` (which costs no rate limit). Every page of a
    /// list is followed the same way.
    pub(super) fn get_cached(
        &self,
        what: &str,
        path: &str,
        cache: &mut Conditional,
    ) -> Result<Vec<Value>, ForgeError> {
        let mut pages = Vec::new();
        let mut next = Some(path.to_string());
        while let Some(key) = next.take() {
            let etag = cache.etag(&key).map(str::to_string);
            match self.request(what, Method::Get, None, &key, etag.as_deref())? {
                Reply::Fresh {
                    value,
                    etag,
                    next: more,
                } => {
                    cache.fresh(&key, etag, value.clone(), more.clone());
                    pages.push(value);
                    next = more;
                }
                Reply::NotModified => match cache.not_modified(&key) {
                    Some(cached) => {
                        pages.push(cached.body);
                        next = cached.next;
                    }
                    // A 304 for what we never cached: ask again, unconditionally.
                    None => {
                        cache.forget(&key);
                        let reply = self.request(what, Method::Get, None, &key, None)?;
                        let value = self.answer_of(what, reply)?;
                        cache.fresh(&key, None, value.clone(), None);
                        pages.push(value);
                    }
                },
            }
        }
        Ok(pages)
    }
}

/// The `rel="next"` address of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_next_page_is_read_off_the_link_header() {
        let link = "<https://api.github.com/repos/o/r/issues/1/comments?per_page=100&page=2>; rel=\"next\", <https://api.github.com/repos/o/r/issues/1/comments?per_page=100&page=3>; rel=\"last\"";
        assert_eq!(
            super::next_link(link).as_deref(),
            Some("https://api.github.com/repos/o/r/issues/1/comments?per_page=100&page=2")
        );
        assert_eq!(super::next_link("<https://x/?page=1>; rel=\"prev\""), None);
    }
}
