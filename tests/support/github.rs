//! A stateful stand-in for the GitHub REST API on loopback, reached through
//! octocrab exactly as the real one is: pull requests (create, list by head),
//! labels. Requests are checked against the REST rules for those endpoints
//! (authentication, required fields, one open pull request per head), and faults
//! can be switched on.
use super::http::{self, Request, Response};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct State {
    pub pulls: Vec<Value>,
    /// Every request: method, path and body (for the token checks).
    pub requests: Vec<(String, String, String)>,
    /// The next N creates succeed on the server but answer 502 (the client retries).
    pub create_then_502: usize,
    /// Answer every request with this status (401, 403…).
    pub fail_all: Option<u16>,
    /// Answer the next request 403 "API rate limit exceeded" with this
    /// `retry-after` (seconds) and `x-ratelimit-remaining: 0`.
    pub rate_limit_once: Option<u64>,
    /// Answer the next N requests 200 with a body that is not JSON.
    pub malformed: usize,
    /// Hold the next N requests this long before answering (slower than the
    /// client's timeout).
    pub stall: (usize, std::time::Duration),
}

pub struct GitHubApi {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl GitHubApi {
    pub fn start(owner: &'static str, repo: &'static str) -> GitHubApi {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let url = http::serve(Arc::new(move |req: &Request| {
            handle(&shared, owner, repo, req)
        }));
        GitHubApi { url, state }
    }

    pub fn pulls(&self) -> Vec<Value> {
        self.state.lock().expect("lock").pulls.clone()
    }

    /// How many requests had this method and a path ending in `suffix`.
    pub fn requests_to(&self, method: &str, suffix: &str) -> usize {
        self.state
            .lock()
            .expect("lock")
            .requests
            .iter()
            .filter(|(m, p, _)| m == method && p.ends_with(suffix))
            .count()
    }
}

fn error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
    )
}

fn handle(state: &Mutex<State>, owner: &str, repo: &str, req: &Request) -> Response {
    let stall = {
        let mut s = state.lock().expect("lock");
        if s.stall.0 > 0 {
            s.stall.0 -= 1;
            Some(s.stall.1)
        } else {
            None
        }
    };
    if let Some(pause) = stall {
        // A server slower than the client's timeout: the delay is the fault.
        std::thread::sleep(pause);
    }
    let mut s = state.lock().expect("lock");
    s.requests.push((
        req.method.clone(),
        req.path.clone(),
        String::from_utf8_lossy(&req.body).into_owned(),
    ));
    let auth = req
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_default();
    if !(auth.starts_with("Bearer ") || auth.starts_with("token ")) {
        return error(401, "Requires authentication");
    }
    if let Some(secs) = s.rate_limit_once.take() {
        let mut r = error(403, "API rate limit exceeded for user ID 1.");
        r.headers = vec![
            ("retry-after".into(), secs.to_string()),
            ("x-ratelimit-remaining".into(), "0".into()),
        ];
        return r;
    }
    if s.malformed > 0 {
        s.malformed -= 1;
        return Response {
            status: 200,
            content_type: "text/html",
            body: b"<html><body>upstream proxy error</body></html>".to_vec(),
            headers: Vec::new(),
        };
    }
    if let Some(status) = s.fail_all {
        let message = match status {
            403 => "Resource not accessible by personal access token",
            404 => "Not Found",
            401 => "Bad credentials",
            500 => "Server Error",
            _ => "Service Unavailable",
        };
        return error(status, message);
    }
    let base = format!("/repos/{owner}/{repo}");
    let Some(rest) = req.path.strip_prefix(&base) else {
        return error(404, "Not Found");
    };
    match (req.method.as_str(), rest) {
        ("GET", "/pulls") => {
            let state_filter = req
                .query
                .get("state")
                .cloned()
                .unwrap_or_else(|| "open".into());
            let head = req.query.get("head").cloned();
            let list: Vec<Value> = s
                .pulls
                .iter()
                .filter(|p| state_filter == "all" || p["state"] == state_filter.as_str())
                .filter(|p| {
                    head.as_ref()
                        .is_none_or(|h| p["head"]["label"] == h.as_str())
                })
                .cloned()
                .collect();
            Response::json(200, &Value::Array(list))
        }
        ("POST", "/pulls") => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(_) => return error(400, "Problems parsing JSON"),
            };
            for field in ["title", "head", "base"] {
                if !body[field].is_string() || body[field].as_str() == Some("") {
                    return Response::json(
                        422,
                        &json!({"message": "Validation Failed",
                        "errors": [{"resource": "PullRequest", "field": field, "code": "missing_field"}]}),
                    );
                }
            }
            let head = body["head"].as_str().unwrap_or_default().to_string();
            let label = if head.contains(':') {
                head.clone()
            } else {
                format!("{owner}:{head}")
            };
            if s.pulls
                .iter()
                .any(|p| p["head"]["label"] == label.as_str() && p["state"] == "open")
            {
                return Response::json(
                    422,
                    &json!({"message": "Validation Failed",
                    "errors": [{"resource": "PullRequest", "code": "custom",
                                "message": format!("A pull request already exists for {label}.")}]}),
                );
            }
            let number = s.pulls.len() as u64 + 1;
            let pr = json!({
                "url": format!("http://github.invalid/api/repos/{owner}/{repo}/pulls/{number}"),
                "html_url": format!("https://github.invalid/{owner}/{repo}/pull/{number}"),
                "id": 1000 + number,
                "number": number,
                "state": "open",
                "locked": false,
                "maintainer_can_modify": false,
                "title": body["title"],
                "body": body["body"],
                "draft": body["draft"].as_bool().unwrap_or(false),
                "labels": [],
                "head": {"label": label, "ref": head.rsplit(':').next().unwrap_or(&head), "sha": "0000000000000000000000000000000000000000"},
                "base": {"label": format!("{owner}:{}", body["base"].as_str().unwrap_or("")), "ref": body["base"], "sha": "0000000000000000000000000000000000000000"},
            });
            s.pulls.push(pr.clone());
            if s.create_then_502 > 0 {
                s.create_then_502 -= 1;
                return error(502, "Bad Gateway");
            }
            Response::json(201, &pr)
        }
        ("POST", path) if path.starts_with("/issues/") && path.ends_with("/labels") => {
            let number: u64 = path
                .trim_start_matches("/issues/")
                .trim_end_matches("/labels")
                .parse()
                .unwrap_or(0);
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let Some(pr) = s.pulls.iter_mut().find(|p| p["number"] == number) else {
                return error(404, "Not Found");
            };
            let labels: Vec<Value> = body["labels"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|l| json!({"id": 1, "node_id": "x", "url": "http://x", "name": l, "color": "ffffff", "default": false}))
                .collect();
            pr["labels"] = Value::Array(labels.clone());
            Response::json(200, &Value::Array(labels))
        }
        _ => error(404, "Not Found"),
    }
}
