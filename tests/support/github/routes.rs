//! The stand-in's request handling: faults, authentication, the routes, then
//! ETags (304 on a matching `If-None-Match`), paging and rate-limit headers.
use super::http::{percent_decode, Request, Response};
use super::pulls::{
    combined, create_pull, detailed, issue, latest_runs, reply, resolve, update_pull,
};
use super::{model, now, State};
use serde_json::{json, Value};
use std::sync::Mutex;

pub(super) fn error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
    )
}

pub(super) fn invalid(resource: &str, field: &str, code: &str) -> Response {
    Response::json(
        422,
        &json!({"message": "Validation Failed",
            "errors": [{"resource": resource, "field": field, "code": code}],
            "documentation_url": "https://docs.github.com/rest"}),
    )
}

pub fn handle(state: &Mutex<State>, req: &Request) -> Response {
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
    let response = route(&mut s, req);
    conditional(&mut s, req, response)
}

/// ETag on every successful GET; 304 when `If-None-Match` names it; the
/// rate-limit headers, charging everything but a 304.
fn conditional(s: &mut State, req: &Request, mut response: Response) -> Response {
    if req.method == "GET" && response.status == 200 {
        let etag = format!("W/\"{:016x}\"", fnv64(&response.body));
        let matches = req.headers.get("if-none-match").is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == etag.trim_start_matches("W/"))
        });
        if matches {
            response = Response {
                status: 304,
                content_type: "application/json",
                body: Vec::new(),
                headers: Vec::new(),
            };
        }
        response.headers.push(("etag".into(), etag));
        response.headers.push((
            "cache-control".into(),
            "private, max-age=60, s-maxage=60".into(),
        ));
    }
    if response.status == 304 {
        s.not_modified += 1;
    } else {
        s.charged += 1;
    }
    let headers = [
        ("x-ratelimit-limit", "5000".to_string()),
        (
            "x-ratelimit-remaining",
            5000usize.saturating_sub(s.charged).to_string(),
        ),
        ("x-ratelimit-used", s.charged.to_string()),
        ("x-ratelimit-reset", s.rate_reset.to_string()),
        ("x-ratelimit-resource", "core".to_string()),
    ];
    response
        .headers
        .extend(headers.into_iter().map(|(k, v)| (k.to_string(), v)));
    response
}

fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One page of `items` (`per_page` default 30, at most 100; `page` from 1),
/// with GitHub's `Link` header when there are more.
fn paged(
    s: &State,
    req: &Request,
    items: Vec<Value>,
    wrap: impl Fn(Vec<Value>) -> Value,
) -> Response {
    let per_page = req
        .query
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = req
        .query
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut response = Response::json(200, &wrap(slice));
    let link = |p: usize, rel: &str| {
        format!(
            "<{}{}?per_page={per_page}&page={p}>; rel=\"{rel}\"",
            s.base_url, req.path
        )
    };
    let mut links = Vec::new();
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
        links.push(link(page - 1, "prev"));
    }
    if !links.is_empty() {
        response.headers.push(("link".into(), links.join(", ")));
    }
    response
}

fn list(s: &State, req: &Request, items: Vec<Value>) -> Response {
    paged(s, req, items, Value::Array)
}

pub(super) fn body_of(req: &Request) -> Result<Value, Response> {
    serde_json::from_slice(&req.body).map_err(|_| error(400, "Problems parsing JSON"))
}

pub fn add_labels(pr: &mut Value, names: impl Iterator<Item = String>) {
    let mut labels = pr["labels"].as_array().cloned().unwrap_or_default();
    for name in names {
        if !labels.iter().any(|l| l["name"] == name.as_str()) {
            labels.push(model::label(&name));
        }
    }
    pr["labels"] = Value::Array(labels);
}

fn label_names(body: &Value) -> Vec<String> {
    let list = body.get("labels").unwrap_or(body);
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().or(l["name"].as_str()).map(str::to_string))
        .collect()
}

fn route(s: &mut State, req: &Request) -> Response {
    if req.method == "GET" && req.path == "/user" {
        let mut me = model::user(&s.me.login);
        me["name"] = json!(null);
        me["email"] = json!(null);
        return Response::json(200, &me);
    }
    let base = format!("/repos/{}", s.slug());
    let Some(rest) = req.path.strip_prefix(&base) else {
        return error(404, "Not Found");
    };
    let segs: Vec<String> = rest
        .trim_start_matches('/')
        .split('/')
        .map(|seg| percent_decode(&seg.replace('+', "%2B")))
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let method = req.method.as_str();
    if let ["commits", .., what @ ("check-runs" | "status" | "statuses")] = segs.as_slice() {
        if method != "GET" {
            return error(404, "Not Found");
        }
        let rev = segs[1..segs.len() - 1].join("/");
        let Some(sha) = resolve(s, &rev) else {
            return error(422, &format!("No commit found for SHA: {rev}"));
        };
        return match *what {
            "check-runs" => {
                let all = req.query.get("filter").is_some_and(|f| f == "all");
                let runs: Vec<Value> = latest_runs(s, &sha, all)
                    .into_iter()
                    .filter(|r| {
                        req.query
                            .get("check_name")
                            .is_none_or(|n| r["name"] == n.as_str())
                    })
                    .filter(|r| {
                        req.query
                            .get("status")
                            .is_none_or(|st| r["status"] == st.as_str())
                    })
                    .collect();
                let total = runs.len();
                paged(
                    s,
                    req,
                    runs,
                    |page| json!({"total_count": total, "check_runs": page}),
                )
            }
            "status" => Response::json(200, &combined(s, &sha)),
            _ => {
                let all = s
                    .statuses
                    .iter()
                    .rev()
                    .filter(|(at, _)| *at == sha)
                    .map(|(_, v)| v.clone())
                    .collect();
                list(s, req, all)
            }
        };
    }
    let number = segs.get(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    let index = s.pull_index(number);
    match (method, segs.as_slice()) {
        ("GET", ["pulls"]) => {
            let state_filter = req
                .query
                .get("state")
                .cloned()
                .unwrap_or_else(|| "open".into());
            let head = req.query.get("head").cloned();
            let found: Vec<Value> = (0..s.pulls.len())
                .filter(|i| state_filter == "all" || s.pulls[*i]["state"] == state_filter.as_str())
                .filter(|i| {
                    head.as_ref()
                        .is_none_or(|h| s.pulls[*i]["head"]["label"] == h.as_str())
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|i| {
                    let mut pr = s.pulls[i].clone();
                    pr["head"]["sha"] = s.head_sha(pr["number"].as_u64().unwrap_or(0)).into();
                    pr
                })
                .collect();
            list(s, req, found)
        }
        ("POST", ["pulls"]) => create_pull(s, req),
        (_, ["check-runs", id, "annotations"]) if method == "GET" => {
            match id.parse::<u64>().ok().and_then(|id| s.annotations.get(&id)) {
                Some(notes) => list(s, req, notes.clone()),
                None => error(404, "Not Found"),
            }
        }
        (_, ["pulls" | "issues", ..]) if index.is_none() => error(404, "Not Found"),
        ("GET", ["pulls", _]) => Response::json(200, &detailed(s, index.unwrap_or(0))),
        ("PATCH", ["pulls", _]) => update_pull(s, req, index.unwrap_or(0)),
        ("GET", ["pulls", _, "reviews"]) => {
            list(s, req, s.reviews.get(&number).cloned().unwrap_or_default())
        }
        ("GET", ["pulls", _, "comments"]) => list(
            s,
            req,
            s.review_comments.get(&number).cloned().unwrap_or_default(),
        ),
        ("POST", ["pulls", _, "comments", id, "replies"]) => reply(s, req, number, id),
        ("GET", ["issues", _]) => Response::json(200, &issue(s, index.unwrap_or(0))),
        ("GET", ["issues", _, "comments"]) => {
            let since = req.query.get("since");
            let comments = s.issue_comments.get(&number).cloned().unwrap_or_default();
            let found = comments
                .into_iter()
                .filter(|c| {
                    since.is_none_or(|t| c["updated_at"].as_str().unwrap_or("") >= t.as_str())
                })
                .collect();
            list(s, req, found)
        }
        ("POST", ["issues", _, "comments"]) => {
            let body = match body_of(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let Some(text) = body["body"].as_str().filter(|t| !t.is_empty()) else {
                return invalid("IssueComment", "body", "missing_field");
            };
            let (id, slug, me) = (s.id(), s.slug(), s.me.clone());
            let comment = model::issue_comment(&slug, number, id, &me, text, &now());
            s.issue_comments
                .entry(number)
                .or_default()
                .push(comment.clone());
            Response::json(201, &comment)
        }
        ("GET", ["issues", _, "labels"]) => {
            let labels = s.pulls[index.unwrap_or(0)]["labels"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            list(s, req, labels)
        }
        ("POST" | "PUT", ["issues", _, "labels"]) => {
            let body = match body_of(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let pr = &mut s.pulls[index.unwrap_or(0)];
            if method == "PUT" {
                pr["labels"] = json!([]);
            }
            add_labels(pr, label_names(&body).into_iter());
            Response::json(200, &pr["labels"])
        }
        ("DELETE", ["issues", _, "labels", name]) => {
            let pr = &mut s.pulls[index.unwrap_or(0)];
            let mut labels = pr["labels"].as_array().cloned().unwrap_or_default();
            let before = labels.len();
            labels.retain(|l| l["name"] != *name);
            if labels.len() == before {
                return error(404, "Label does not exist");
            }
            pr["labels"] = Value::Array(labels);
            Response::json(200, &pr["labels"])
        }
        _ => error(404, "Not Found"),
    }
}
