//! Pull requests as GitHub shows them: created, updated, read in detail (head
//! and base from origin, mergeability, the checks' verdict), replied to, and
//! seen as issues; and the refs and check verdicts the commit endpoints read.
use super::http::{Request, Response};
use super::routes::{body_of, error, invalid};
use super::{model, now, State, Who};
use serde_json::{json, Value};
/// A ref as the commit endpoints take it (sha, branch, `heads/B`, `tags/T`).
pub(super) fn resolve(s: &State, rev: &str) -> Option<String> {
    let Some(origin) = &s.origin else {
        let head = s.pulls.iter().find(|p| p["head"]["ref"] == rev);
        return Some(head.map_or(rev.to_string(), |p| {
            p["head"]["sha"].as_str().unwrap_or(rev).to_string()
        }));
    };
    match rev.split_once('/') {
        Some(("heads", b)) => origin.branch_sha(b),
        Some(("tags", t)) => origin.resolve(&format!("refs/tags/{t}")),
        _ => origin.resolve(rev),
    }
}

/// The pull request as `GET /pulls/{n}` shows it now.
pub(super) fn detailed(s: &mut State, i: usize) -> Value {
    let mut pr = s.pulls[i].clone();
    let number = pr["number"].as_u64().unwrap_or(0);
    pr["head"]["sha"] = s.head_sha(number).into();
    if let Some(sha) = s
        .origin
        .as_ref()
        .and_then(|o| o.branch_sha(pr["base"]["ref"].as_str()?))
    {
        pr["base"]["sha"] = sha.into();
    }
    let (mergeable, mergeable_state) = if pr["state"] != "open" {
        (None, "unknown")
    } else {
        let mergeable = match s.mergeable.get(&number) {
            Some(forced) => *forced,
            None if s.mergeable_unknown > 0 => {
                s.mergeable_unknown -= 1;
                None
            }
            None => match &s.origin {
                Some(o) => o.merges_cleanly(
                    pr["base"]["ref"].as_str().unwrap_or_default(),
                    pr["head"]["ref"].as_str().unwrap_or_default(),
                ),
                None => Some(true),
            },
        };
        let sha = pr["head"]["sha"].as_str().unwrap_or_default();
        let failing = latest_runs(s, sha, false).iter().any(|r| {
            matches!(
                r["conclusion"].as_str(),
                Some("failure" | "timed_out" | "cancelled" | "action_required")
            )
        }) || combined(s, sha)["state"] == "failure";
        let state = match mergeable {
            None => "unknown",
            Some(false) => "dirty",
            Some(true) if pr["draft"] == true => "draft",
            Some(true) if failing => "unstable",
            Some(true) => "clean",
        };
        (mergeable, state)
    };
    pr["mergeable"] = json!(mergeable);
    pr["mergeable_state"] = mergeable_state.into();
    pr["rebaseable"] = json!(mergeable);
    pr["comments"] = s.issue_comments.get(&number).map_or(0, Vec::len).into();
    pr["review_comments"] = s.review_comments.get(&number).map_or(0, Vec::len).into();
    pr
}

/// Check runs on `sha`, the most recent per name unless `all`.
pub(super) fn latest_runs(s: &State, sha: &str, all: bool) -> Vec<Value> {
    let mut runs: Vec<Value> = Vec::new();
    for run in s.check_runs.iter().rev().filter(|r| r["head_sha"] == sha) {
        if all || !runs.iter().any(|r| r["name"] == run["name"]) {
            runs.push(run.clone());
        }
    }
    runs
}

pub(super) fn combined(s: &State, sha: &str) -> Value {
    let mut latest: Vec<Value> = Vec::new();
    for (_, st) in s.statuses.iter().rev().filter(|(at, _)| at == sha) {
        if !latest.iter().any(|l| l["context"] == st["context"]) {
            latest.push(st.clone());
        }
    }
    let states: Vec<&str> = latest.iter().filter_map(|l| l["state"].as_str()).collect();
    let state = if states.iter().any(|s| *s == "error" || *s == "failure") {
        "failure"
    } else if states.is_empty() || states.contains(&"pending") {
        "pending"
    } else {
        "success"
    };
    let (api, slug) = (model::API, s.slug());
    json!({"state": state, "statuses": latest, "sha": sha, "total_count": latest.len(),
        "repository": model::repository(&s.owner, &s.repo),
        "commit_url": format!("{api}/repos/{slug}/commits/{sha}"),
        "url": format!("{api}/repos/{slug}/commits/{sha}/status")})
}

pub(super) fn create_pull(s: &mut State, req: &Request) -> Response {
    let body = match body_of(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    for field in ["title", "head", "base"] {
        if !body[field].is_string() || body[field].as_str() == Some("") {
            return invalid("PullRequest", field, "missing_field");
        }
    }
    let (owner, repo) = (s.owner.clone(), s.repo.clone());
    let head = body["head"].as_str().unwrap_or_default().to_string();
    let head_ref = head.rsplit(':').next().unwrap_or(&head).to_string();
    let base_ref = body["base"].as_str().unwrap_or_default().to_string();
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
    let zero = "0".repeat(40);
    let (head_sha, base_sha) = match &s.origin {
        Some(o) => match (o.branch_sha(&head_ref), o.branch_sha(&base_ref)) {
            (Some(h), Some(b)) => (h, b),
            (None, _) => return invalid("PullRequest", "head", "invalid"),
            (_, None) => return invalid("PullRequest", "base", "invalid"),
        },
        None => (zero.clone(), zero),
    };
    let number = s.pulls.len() as u64 + 1;
    let at = now();
    let repository = model::repository(&owner, &repo);
    let pr = json!({
        "url": format!("http://github.invalid/api/repos/{owner}/{repo}/pulls/{number}"),
        "html_url": format!("https://github.invalid/{owner}/{repo}/pull/{number}"),
        "id": 1000 + number,
        "node_id": format!("PR_{number}"),
        "number": number,
        "state": "open",
        "locked": false,
        "maintainer_can_modify": false,
        "title": body["title"],
        "body": body["body"],
        "user": model::user(&s.me.login),
        "author_association": s.me.association,
        "draft": body["draft"].as_bool().unwrap_or(false),
        "labels": [],
        "created_at": at, "updated_at": at, "closed_at": null,
        "merged": false, "merged_at": null, "merge_commit_sha": null, "merged_by": null,
        "head": {"label": label, "ref": head_ref, "sha": head_sha, "user": model::user(&owner), "repo": repository},
        "base": {"label": format!("{owner}:{base_ref}"), "ref": base_ref, "sha": base_sha, "user": model::user(&owner), "repo": repository},
    });
    s.pulls.push(pr.clone());
    if s.create_then_502 > 0 {
        s.create_then_502 -= 1;
        return error(502, "Bad Gateway");
    }
    Response::json(201, &pr)
}

pub(super) fn update_pull(s: &mut State, req: &Request, i: usize) -> Response {
    let body = match body_of(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(base) = body["base"].as_str() {
        if s.origin
            .as_ref()
            .is_some_and(|o| o.branch_sha(base).is_none())
        {
            return invalid("PullRequest", "base", "invalid");
        }
        s.pulls[i]["base"]["ref"] = base.into();
        s.pulls[i]["base"]["label"] = format!("{}:{base}", s.owner).into();
    }
    match body["state"].as_str() {
        None => {}
        Some("closed") if s.pulls[i]["state"] == "open" => {
            let at = now();
            s.pulls[i]["state"] = "closed".into();
            s.pulls[i]["closed_at"] = at.into();
            let number = s.pulls[i]["number"].as_u64().unwrap_or(0);
            let me = s.me.login.clone();
            s.closed_by.insert(number, me);
        }
        Some("open") if s.pulls[i]["merged"] == true => {
            return invalid("PullRequest", "state", "invalid");
        }
        Some("open") => {
            s.pulls[i]["state"] = "open".into();
            s.pulls[i]["closed_at"] = Value::Null;
        }
        Some(_) => {}
    }
    for field in ["title", "body"] {
        if body[field].is_string() {
            s.pulls[i][field] = body[field].clone();
        }
    }
    s.pulls[i]["updated_at"] = now().into();
    Response::json(200, &detailed(s, i))
}

pub(super) fn reply(s: &mut State, req: &Request, number: u64, to: &str) -> Response {
    let body = match body_of(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(text) = body["body"].as_str().filter(|t| !t.is_empty()) else {
        return invalid("PullRequestReviewComment", "body", "missing_field");
    };
    let comments = s.review_comments.get(&number).cloned().unwrap_or_default();
    let to: u64 = to.parse().unwrap_or(0);
    let Some(parent) = comments.iter().find(|c| c["id"] == to) else {
        return error(404, "Not Found");
    };
    let (id, slug, me): (u64, String, Who) = (s.id(), s.slug(), s.me.clone());
    let comment = model::review_comment(&model::ReviewComment {
        repo: &slug,
        number,
        id,
        review_id: parent["pull_request_review_id"].as_u64(),
        in_reply_to: parent["id"].as_u64(),
        who: &me,
        path: parent["path"].as_str().unwrap_or_default(),
        line: parent["line"].as_u64(),
        body: text,
        commit: parent["commit_id"].as_str().unwrap_or_default(),
        at: &now(),
    });
    s.review_comments
        .entry(number)
        .or_default()
        .push(comment.clone());
    Response::json(201, &comment)
}

pub(super) fn issue(s: &State, i: usize) -> Value {
    let pr = &s.pulls[i];
    let number = pr["number"].as_u64().unwrap_or(0);
    let repo_url = format!("{}/repos/{}", model::API, s.slug());
    let url = format!("{repo_url}/issues/{number}");
    let html = pr["html_url"].as_str().unwrap_or_default();
    let closed_by = s.closed_by.get(&number).map(|l| model::user(l));
    json!({
        "id": 5000 + number, "node_id": format!("I_{number}"), "url": url,
        "repository_url": repo_url, "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"), "events_url": format!("{url}/events"),
        "html_url": html, "number": number, "state": pr["state"],
        "state_reason": if pr["state"] == "closed" { json!("completed") } else { json!(null) },
        "title": pr["title"], "body": pr["body"], "user": pr["user"], "labels": pr["labels"],
        "assignee": null, "assignees": [], "milestone": null, "locked": false,
        "comments": s.issue_comments.get(&number).map_or(0, Vec::len),
        "created_at": pr["created_at"], "updated_at": pr["updated_at"], "closed_at": pr["closed_at"],
        "closed_by": closed_by, "author_association": pr["author_association"],
        "pull_request": {"url": pr["url"], "html_url": html,
            "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"),
            "merged_at": pr["merged_at"]},
    })
}
