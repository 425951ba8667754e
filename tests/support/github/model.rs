//! The JSON of GitHub's REST resources, shaped field for field as the REST
//! reference documents them (and as octocrab's models parse them): users, pull
//! requests, reviews, review comments, issue comments, check runs and their
//! annotations, commit statuses, labels.
use serde_json::{json, Value};

/// Where the stand-in says its API and web pages live.
pub const API: &str = "http://github.invalid/api";
pub const WEB: &str = "https://github.invalid";

/// Someone who acts on a pull request, and how GitHub relates them to the
/// repository (`author_association`: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR,
/// FIRST_TIME_CONTRIBUTOR, FIRST_TIMER, MANNEQUIN, NONE).
#[derive(Clone, Debug)]
pub struct Who {
    pub login: String,
    pub association: String,
}

impl Who {
    pub fn new(login: &str, association: &str) -> Who {
        Who {
            login: login.into(),
            association: association.into(),
        }
    }
    /// The repository's owner (write access).
    pub fn owner(login: &str) -> Who {
        Who::new(login, "OWNER")
    }
    /// A member of the owning organisation (write access).
    pub fn member(login: &str) -> Who {
        Who::new(login, "MEMBER")
    }
    /// An outside collaborator (write access).
    pub fn collaborator(login: &str) -> Who {
        Who::new(login, "COLLABORATOR")
    }
    /// Anyone else, on a public repository (no write access).
    pub fn stranger(login: &str) -> Who {
        Who::new(login, "NONE")
    }
}

/// A check run to script: `Check::failed("ci/test", "2 tests failed")`.
#[derive(Clone, Debug, Default)]
pub struct Check {
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// With `completed`: `success`, `failure`, `neutral`, `cancelled`,
    /// `skipped`, `timed_out` or `action_required`.
    pub conclusion: Option<String>,
    pub title: String,
    pub summary: String,
    pub annotations: Vec<Annotation>,
}

#[derive(Clone, Debug)]
pub struct Annotation {
    pub path: String,
    pub line: u64,
    /// `notice`, `warning` or `failure`.
    pub level: String,
    pub title: String,
    pub message: String,
}

impl Check {
    pub fn completed(name: &str, conclusion: &str, summary: &str) -> Check {
        Check {
            name: name.into(),
            status: "completed".into(),
            conclusion: Some(conclusion.into()),
            title: format!("{name}: {conclusion}"),
            summary: summary.into(),
            annotations: Vec::new(),
        }
    }
    pub fn failed(name: &str, summary: &str) -> Check {
        Check::completed(name, "failure", summary)
    }
    pub fn passed(name: &str) -> Check {
        Check::completed(name, "success", "All good.")
    }
    pub fn running(name: &str) -> Check {
        Check {
            name: name.into(),
            status: "in_progress".into(),
            ..Check::default()
        }
    }
    /// Add a `failure` annotation on `path` at `line`.
    pub fn annotate(mut self, path: &str, line: u64, message: &str) -> Check {
        self.annotations.push(Annotation {
            path: path.into(),
            line,
            level: "failure".into(),
            title: format!("{}: {path}#L{line}", self.name),
            message: message.into(),
        });
        self
    }
}

/// A stable number for a name (user ids, node ids).
pub fn stable_id(text: &str) -> u64 {
    // FNV-1a: the same login always gets the same id.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    hash % 100_000_000 + 1
}

/// A user as every endpoint embeds one (`simple-user`).
pub fn user(login: &str) -> Value {
    let id = stable_id(login);
    let u = format!("{API}/users/{login}");
    json!({
        "login": login, "id": id, "node_id": format!("U_{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "", "url": u, "html_url": format!("{WEB}/{login}"),
        "followers_url": format!("{u}/followers"),
        "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"),
        "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"),
        "organizations_url": format!("{u}/orgs"), "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": if login.ends_with("[bot]") { "Bot" } else { "User" },
        "site_admin": false,
    })
}

pub fn label(name: &str) -> Value {
    let id = stable_id(name);
    json!({"id": id, "node_id": format!("LA_{id}"), "url": format!("{API}/labels/{name}"),
        "name": name, "description": null, "color": "ededed", "default": false})
}

pub struct ReviewFields<'a> {
    pub repo: &'a str,
    pub number: u64,
    pub id: u64,
    pub who: &'a Who,
    pub state: &'a str,
    pub body: &'a str,
    pub commit: &'a str,
    pub at: &'a str,
}

pub fn review(r: &ReviewFields) -> Value {
    let (repo, number, id) = (r.repo, r.number, r.id);
    let pr = format!("{API}/repos/{repo}/pulls/{number}");
    let html = format!("{WEB}/{repo}/pull/{number}#pullrequestreview-{id}");
    json!({
        "id": id, "node_id": format!("PRR_{id}"), "user": user(&r.who.login), "body": r.body,
        "state": r.state, "html_url": html, "pull_request_url": pr,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr}},
        "submitted_at": r.at, "commit_id": r.commit, "author_association": r.who.association,
    })
}

pub struct ReviewComment<'a> {
    pub repo: &'a str,
    pub number: u64,
    pub id: u64,
    pub review_id: Option<u64>,
    pub in_reply_to: Option<u64>,
    pub who: &'a Who,
    pub path: &'a str,
    pub line: Option<u64>,
    pub body: &'a str,
    pub commit: &'a str,
    pub at: &'a str,
}

pub fn review_comment(c: &ReviewComment) -> Value {
    let url = format!("{API}/repos/{}/pulls/comments/{}", c.repo, c.id);
    let html = format!("{WEB}/{}/pull/{}#discussion_r{}", c.repo, c.number, c.id);
    let pr = format!("{API}/repos/{}/pulls/{}", c.repo, c.number);
    json!({
        "url": url, "pull_request_review_id": c.review_id, "id": c.id,
        "node_id": format!("PRRC_{}", c.id),
        "diff_hunk": format!("@@ -1,1 +1,1 @@ {}", c.path), "path": c.path,
        "position": c.line, "original_position": c.line,
        "commit_id": c.commit, "original_commit_id": c.commit,
        "in_reply_to_id": c.in_reply_to, "user": user(&c.who.login), "body": c.body,
        "created_at": c.at, "updated_at": c.at, "html_url": html, "pull_request_url": pr,
        "author_association": c.who.association,
        "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pr}},
        "start_line": null, "original_start_line": null, "start_side": null,
        "line": c.line, "original_line": c.line, "side": "RIGHT", "subject_type": "line",
    })
}

pub fn issue_comment(repo: &str, number: u64, id: u64, who: &Who, body: &str, at: &str) -> Value {
    json!({
        "id": id, "node_id": format!("IC_{id}"),
        "url": format!("{API}/repos/{repo}/issues/comments/{id}"),
        "html_url": format!("{WEB}/{repo}/pull/{number}#issuecomment-{id}"),
        "issue_url": format!("{API}/repos/{repo}/issues/{number}"),
        "body": body, "user": user(&who.login), "created_at": at, "updated_at": at,
        "author_association": who.association,
    })
}

pub fn check_run(
    repo: &str,
    id: u64,
    sha: &str,
    check: &Check,
    pulls: Vec<Value>,
    at: &str,
) -> Value {
    let url = format!("{API}/repos/{repo}/check-runs/{id}");
    json!({
        "id": id, "node_id": format!("CR_{id}"), "head_sha": sha, "external_id": "",
        "url": url, "html_url": format!("{WEB}/{repo}/runs/{id}"),
        "details_url": format!("{WEB}/{repo}/runs/{id}"),
        "status": check.status, "conclusion": check.conclusion,
        "started_at": at,
        "completed_at": if check.status == "completed" { Value::from(at) } else { Value::Null },
        "output": {
            "title": if check.title.is_empty() { Value::Null } else { Value::from(check.title.as_str()) },
            "summary": if check.summary.is_empty() { Value::Null } else { Value::from(check.summary.as_str()) },
            "text": null, "annotations_count": check.annotations.len(),
            "annotations_url": format!("{url}/annotations"),
        },
        "name": check.name, "check_suite": {"id": id},
        "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
        "pull_requests": pulls,
    })
}

pub fn annotation(repo: &str, sha: &str, a: &Annotation) -> Value {
    json!({
        "path": a.path, "start_line": a.line, "end_line": a.line,
        "start_column": null, "end_column": null, "annotation_level": a.level,
        "title": a.title, "message": a.message, "raw_details": null,
        "blob_href": format!("{WEB}/{repo}/blob/{sha}/{}", a.path),
    })
}

pub struct StatusFields<'a> {
    pub repo: &'a str,
    pub id: u64,
    pub sha: &'a str,
    pub context: &'a str,
    pub state: &'a str,
    pub description: &'a str,
    pub target_url: &'a str,
    pub at: &'a str,
}

pub fn status(s: &StatusFields) -> Value {
    json!({
        "url": format!("{API}/repos/{}/statuses/{}", s.repo, s.sha),
        "avatar_url": "https://avatars.githubusercontent.com/u/9919?v=4",
        "id": s.id, "node_id": format!("SC_{}", s.id), "state": s.state,
        "description": s.description, "target_url": s.target_url, "context": s.context,
        "created_at": s.at, "updated_at": s.at, "creator": user("ci-bot"),
    })
}

/// The pull request as a check run lists it (`pull-request-minimal`).
pub fn pull_minimal(pr: &Value) -> Value {
    json!({
        "url": pr["url"], "id": pr["id"], "number": pr["number"],
        "head": {"ref": pr["head"]["ref"], "sha": pr["head"]["sha"], "repo": pr["head"]["repo"]},
        "base": {"ref": pr["base"]["ref"], "sha": pr["base"]["sha"], "repo": pr["base"]["repo"]},
    })
}

/// A repository as embedded in a pull request's head and base.
pub fn repository(owner: &str, name: &str) -> Value {
    let id = stable_id(&format!("{owner}/{name}"));
    json!({"id": id, "node_id": format!("R_{id}"), "name": name,
        "full_name": format!("{owner}/{name}"), "owner": user(owner), "private": false,
        "html_url": format!("{WEB}/{owner}/{name}"), "url": format!("{API}/repos/{owner}/{name}"),
        "default_branch": "main"})
}
