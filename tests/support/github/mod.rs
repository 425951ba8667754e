//! A stateful stand-in for the GitHub REST API on loopback, reached through
//! octocrab exactly as the real one is. It answers, shaped as the REST reference
//! documents them:
//! - pull requests: create, list (by head), get (`state`, `merged`, `merged_at`,
//!   `merge_commit_sha`, `merged_by`, `mergeable`, `mergeable_state`, `head`,
//!   `base`), update (`PATCH`: title, body, base, state);
//! - reviews, review comments (and replies to them), issue comments (list with
//!   `since`, create), the issue (`closed_by`), labels (list, add, set, remove);
//! - check runs for a ref (latest per name unless `filter=all`), their
//!   annotations, commit statuses (combined and listed);
//! - the authenticated user (`GET /user`).
//!
//! Every `GET` answers an `ETag` derived from its body; a request whose
//! `If-None-Match` matches gets `304 Not Modified` with no body, counted apart
//! (`not_modified`) and, as on GitHub, not charged to the rate limit
//! (`x-ratelimit-remaining`, `charged`). Lists page (`per_page`, `page`, `Link`).
//! Requests are checked against the REST rules (authentication, required fields,
//! one open pull request per head), and faults can be switched on.
//!
//! With `start_with_origin`, a bare repository stands for the remote: head and
//! base shas are read from its branches on every request (pushes are seen),
//! `mergeable` is what `git merge-tree` says, and `merge` makes the merge commit
//! on the base branch.
mod model;
mod origin;
mod pulls;
mod routes;

pub use model::{Annotation, Check, Who};
use origin::Origin;

use super::http::{self, rfc3339};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub struct State {
    pub owner: String,
    pub repo: String,
    /// The stand-in's own address, for `Link` headers.
    pub base_url: String,
    /// The token's user: what `GET /user` answers and who authors what the
    /// client posts.
    pub me: Who,
    pub origin: Option<Origin>,
    pub pulls: Vec<Value>,
    pub reviews: BTreeMap<u64, Vec<Value>>,
    pub review_comments: BTreeMap<u64, Vec<Value>>,
    pub issue_comments: BTreeMap<u64, Vec<Value>>,
    /// Check runs (each with its `head_sha`) and each one's annotations.
    pub check_runs: Vec<Value>,
    pub annotations: BTreeMap<u64, Vec<Value>>,
    /// Commit statuses with the sha they are on, oldest first.
    pub statuses: Vec<(String, Value)>,
    /// `mergeable` forced for a pull request (`None`: GitHub is computing it).
    pub mergeable: BTreeMap<u64, Option<bool>>,
    /// The next N pull request reads answer `mergeable: null` ("unknown"), as
    /// GitHub does while it computes mergeability after a push.
    pub mergeable_unknown: usize,
    pub closed_by: BTreeMap<u64, String>,
    pub next_id: u64,
    /// Requests charged to the rate limit (a 304 is not).
    pub charged: usize,
    /// `304 Not Modified` answers.
    pub not_modified: usize,
    pub rate_reset: u64,
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

impl State {
    fn new(owner: &str, repo: &str) -> State {
        State {
            owner: owner.into(),
            repo: repo.into(),
            base_url: String::new(),
            me: Who::collaborator("agentos-bot"),
            origin: None,
            pulls: Vec::new(),
            reviews: BTreeMap::new(),
            review_comments: BTreeMap::new(),
            issue_comments: BTreeMap::new(),
            check_runs: Vec::new(),
            annotations: BTreeMap::new(),
            statuses: Vec::new(),
            mergeable: BTreeMap::new(),
            mergeable_unknown: 0,
            closed_by: BTreeMap::new(),
            next_id: 100,
            charged: 0,
            not_modified: 0,
            rate_reset: http::now_secs() + 3600,
            requests: Vec::new(),
            create_then_502: 0,
            fail_all: None,
            rate_limit_once: None,
            malformed: 0,
            stall: (0, std::time::Duration::ZERO),
        }
    }

    fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn pull_index(&self, number: u64) -> Option<usize> {
        self.pulls.iter().position(|p| p["number"] == number)
    }

    /// A pull request's head commit now (from origin when there is one).
    fn head_sha(&self, number: u64) -> String {
        let pr = &self.pulls[self.pull_index(number).expect("no such pull request")];
        let stored = pr["head"]["sha"].as_str().unwrap_or_default().to_string();
        self.origin
            .as_ref()
            .and_then(|o| o.branch_sha(pr["head"]["ref"].as_str()?))
            .unwrap_or(stored)
    }
}

pub struct GitHubApi {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

fn now() -> String {
    rfc3339(http::now_secs())
}

impl GitHubApi {
    pub fn start(owner: &'static str, repo: &'static str) -> GitHubApi {
        let state = Arc::new(Mutex::new(State::new(owner, repo)));
        let shared = state.clone();
        let url = http::serve(Arc::new(move |req: &http::Request| {
            routes::handle(&shared, req)
        }));
        state.lock().expect("lock").base_url = url.clone();
        GitHubApi { url, state }
    }

    /// A stand-in whose branches are those of the bare repository `bare`.
    pub fn start_with_origin(owner: &'static str, repo: &'static str, bare: &Path) -> GitHubApi {
        let api = GitHubApi::start(owner, repo);
        api.lock().origin = Some(Origin::open(bare));
        api
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("lock")
    }

    /// The pull requests as stored (what the client sent, and what it changed).
    pub fn pulls(&self) -> Vec<Value> {
        self.lock().pulls.clone()
    }

    /// How many requests had this method and a path ending in `suffix`.
    pub fn requests_to(&self, method: &str, suffix: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|(m, p, _)| m == method && p.ends_with(suffix))
            .count()
    }

    /// Requests charged to the rate limit, and `304 Not Modified` answers.
    pub fn charged(&self) -> usize {
        self.lock().charged
    }
    pub fn not_modified(&self) -> usize {
        self.lock().not_modified
    }

    /// The pull request's head commit now.
    pub fn head_sha(&self, number: u64) -> String {
        self.lock().head_sha(number)
    }

    /// A review on the pull request's current head: `state` is
    /// `CHANGES_REQUESTED`, `APPROVED` or `COMMENTED`. Returns its id.
    pub fn review(&self, number: u64, who: &Who, state: &str, body: &str) -> u64 {
        let mut s = self.lock();
        let (id, commit, slug, at) = (s.id(), s.head_sha(number), s.slug(), now());
        let review = model::review(&model::ReviewFields {
            repo: &slug,
            number,
            id,
            who,
            state,
            body,
            commit: &commit,
            at: &at,
        });
        s.reviews.entry(number).or_default().push(review);
        id
    }

    /// An inline review comment on `path` at `line` (part of `who`'s latest
    /// review on the pull request, if any). Returns its id.
    pub fn review_comment(&self, number: u64, who: &Who, path: &str, line: u64, body: &str) -> u64 {
        let mut s = self.lock();
        let (id, commit, slug, at) = (s.id(), s.head_sha(number), s.slug(), now());
        let review_id = s.reviews.get(&number).and_then(|rs| {
            rs.iter()
                .rev()
                .find(|r| r["user"]["login"] == who.login.as_str())
                .and_then(|r| r["id"].as_u64())
        });
        let comment = model::review_comment(&model::ReviewComment {
            repo: &slug,
            number,
            id,
            review_id,
            in_reply_to: None,
            who,
            path,
            line: Some(line),
            body,
            commit: &commit,
            at: &at,
        });
        s.review_comments.entry(number).or_default().push(comment);
        id
    }

    /// A conversation comment on the pull request. Returns its id.
    pub fn comment(&self, number: u64, who: &Who, body: &str) -> u64 {
        let mut s = self.lock();
        let (id, slug) = (s.id(), s.slug());
        let comment = model::issue_comment(&slug, number, id, who, body, &now());
        s.issue_comments.entry(number).or_default().push(comment);
        id
    }

    /// A check run on commit `sha`. Returns its id.
    pub fn check_run(&self, sha: &str, check: &Check) -> u64 {
        let mut s = self.lock();
        let (id, slug, at) = (s.id(), s.slug(), now());
        let numbers: Vec<u64> = s
            .pulls
            .iter()
            .filter_map(|p| p["number"].as_u64())
            .collect();
        let pulls = numbers
            .into_iter()
            .filter(|n| s.head_sha(*n) == sha)
            .map(|n| {
                let mut pr = s.pulls[s.pull_index(n).expect("pull")].clone();
                pr["head"]["sha"] = sha.into();
                model::pull_minimal(&pr)
            })
            .collect();
        let run = model::check_run(&slug, id, sha, check, pulls, &at);
        let notes = check
            .annotations
            .iter()
            .map(|a| model::annotation(&slug, sha, a))
            .collect();
        s.check_runs.push(run);
        s.annotations.insert(id, notes);
        id
    }

    /// Complete a running check run with `conclusion`.
    pub fn finish_check(&self, id: u64, conclusion: &str) {
        let mut s = self.lock();
        let run = s
            .check_runs
            .iter_mut()
            .find(|r| r["id"] == id)
            .expect("no such check run");
        run["status"] = "completed".into();
        run["conclusion"] = conclusion.into();
        run["completed_at"] = now().into();
    }

    /// A commit status on `sha`: `state` is `error`, `failure`, `pending` or
    /// `success`.
    pub fn status(
        &self,
        sha: &str,
        context: &str,
        state: &str,
        description: &str,
        target_url: &str,
    ) -> u64 {
        let mut s = self.lock();
        let (id, slug, at) = (s.id(), s.slug(), now());
        let status = model::status(&model::StatusFields {
            repo: &slug,
            id,
            sha,
            context,
            state,
            description,
            target_url,
            at: &at,
        });
        s.statuses.push((sha.to_string(), status));
        id
    }

    /// Force `mergeable` (`Some(false)`: a conflict with the base branch;
    /// `None`: still being computed), instead of asking git.
    pub fn set_mergeable(&self, number: u64, mergeable: Option<bool>) {
        self.lock().mergeable.insert(number, mergeable);
    }

    /// Merge the pull request as `login` would with the merge button: with an
    /// origin, a real merge commit on the base branch. Returns its sha.
    pub fn merge(&self, number: u64, login: &str) -> String {
        let mut s = self.lock();
        let i = s.pull_index(number).expect("no such pull request");
        let (head, base) = {
            let pr = &s.pulls[i];
            (
                pr["head"]["ref"].as_str().unwrap_or_default().to_string(),
                pr["base"]["ref"].as_str().unwrap_or_default().to_string(),
            )
        };
        assert_eq!(
            s.pulls[i]["state"], "open",
            "only an open pull request merges"
        );
        let head_sha = s.head_sha(number);
        let message = format!("Merge pull request #{number} from {}/{head}", s.owner);
        let sha = match &s.origin {
            Some(o) => o.merge(&base, &head, &message),
            None => format!("{:040x}", u128::from(model::stable_id(&message))),
        };
        let at = now();
        let pr = &mut s.pulls[i];
        pr["head"]["sha"] = head_sha.into();
        for (k, v) in [
            ("state", json!("closed")),
            ("merged", json!(true)),
            ("merged_at", json!(at)),
            ("closed_at", json!(at)),
            ("updated_at", json!(at)),
            ("merge_commit_sha", json!(sha)),
            ("merged_by", model::user(login)),
        ] {
            pr[k] = v;
        }
        s.closed_by.insert(number, login.to_string());
        sha
    }

    /// Close the pull request without merging, as `login`.
    pub fn close(&self, number: u64, login: &str) {
        let mut s = self.lock();
        let i = s.pull_index(number).expect("no such pull request");
        let at = now();
        for (k, v) in [
            ("state", json!("closed")),
            ("closed_at", json!(at)),
            ("updated_at", json!(at)),
        ] {
            s.pulls[i][k] = v;
        }
        s.closed_by.insert(number, login.to_string());
    }

    /// The conversation comments on the pull request, oldest first.
    pub fn comments(&self, number: u64) -> Vec<Value> {
        self.lock()
            .issue_comments
            .get(&number)
            .cloned()
            .unwrap_or_default()
    }

    /// What the client posted on the pull request (conversation comments and
    /// replies to review comments), as the token's user: bodies, oldest first.
    pub fn posted(&self, number: u64) -> Vec<String> {
        let s = self.lock();
        let me = s.me.login.clone();
        let mut mine: Vec<&Value> = s
            .issue_comments
            .get(&number)
            .into_iter()
            .chain(s.review_comments.get(&number))
            .flatten()
            .filter(|c| c["user"]["login"] == me.as_str())
            .collect();
        mine.sort_by_key(|c| c["id"].as_u64());
        mine.iter()
            .map(|c| c["body"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The labels on the pull request, by name.
    pub fn labels(&self, number: u64) -> Vec<String> {
        let s = self.lock();
        let pr = &s.pulls[s.pull_index(number).expect("no such pull request")];
        pr["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["name"].as_str().map(str::to_string))
            .collect()
    }

    /// Add labels as a person would.
    pub fn add_labels(&self, number: u64, names: &[&str]) {
        let mut s = self.lock();
        let i = s.pull_index(number).expect("no such pull request");
        routes::add_labels(&mut s.pulls[i], names.iter().map(|n| n.to_string()));
    }
}
