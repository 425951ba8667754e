//! An open pull request as one pass reads it: its state, head and
//! mergeability, its reviews and comments, and the checks and statuses on its
//! head commit, parsed from GitHub's REST answers (the fields git agentos uses;
//! anything missing reads as empty).
use serde::Deserialize;
use serde_json::Value;

/// Everything one pass read about a pull request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PullSnapshot {
    pub pull: Pull,
    pub reviews: Vec<ReviewItem>,
    /// Inline comments on the diff.
    pub inline: Vec<InlineComment>,
    /// Conversation comments.
    pub comments: Vec<Comment>,
    /// Check runs on the head commit (the latest per name), each failing one
    /// with its annotations.
    pub checks: Vec<CheckRun>,
    /// Commit statuses on the head commit (the latest per context).
    pub statuses: Vec<Status>,
    /// Some answer differed from the one cached: something changed.
    pub changed: bool,
    /// Requests GitHub charged to the rate limit, and those answered 304.
    pub charged: usize,
    pub not_modified: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Pull {
    pub number: u64,
    pub state: String,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    pub merged_by: Option<User>,
    pub draft: bool,
    pub head: Branch,
    pub base: Branch,
    /// None while GitHub computes it (after a push).
    pub mergeable: Option<bool>,
    pub mergeable_state: Option<String>,
    pub labels: Vec<Label>,
    pub html_url: String,
}

impl Pull {
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
    pub fn has_label(&self, name: &str) -> bool {
        self.labels.iter().any(|l| l.name == name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Branch {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct User {
    pub login: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Label {
    pub name: String,
}

/// GitHub's `author_association` that means write access to the repository.
pub fn can_write(association: &str) -> bool {
    matches!(association, "OWNER" | "MEMBER" | "COLLABORATOR")
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ReviewItem {
    pub id: u64,
    pub user: Option<User>,
    pub author_association: String,
    /// `CHANGES_REQUESTED`, `APPROVED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    pub body: Option<String>,
    pub commit_id: Option<String>,
    pub html_url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct InlineComment {
    pub id: u64,
    pub pull_request_review_id: Option<u64>,
    pub in_reply_to_id: Option<u64>,
    pub user: Option<User>,
    pub author_association: String,
    pub path: String,
    pub line: Option<u64>,
    pub original_line: Option<u64>,
    pub body: String,
    pub html_url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Comment {
    pub id: u64,
    pub user: Option<User>,
    pub author_association: String,
    pub body: Option<String>,
    pub html_url: String,
}

/// The login of whoever wrote something (`ghost` for a deleted account).
pub fn login(user: &Option<User>) -> &str {
    user.as_ref().map_or("ghost", |u| u.login.as_str())
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress`, `completed` (and `waiting`, `requested`, `pending`).
    pub status: String,
    pub conclusion: Option<String>,
    pub output: CheckOutput,
    pub details_url: Option<String>,
    pub html_url: Option<String>,
    #[serde(skip)]
    pub annotations: Vec<Annotation>,
}

impl CheckRun {
    pub fn is_complete(&self) -> bool {
        self.status == "completed"
    }
    /// Completed, and not in a way that lets the pull request through.
    pub fn failed(&self) -> bool {
        self.is_complete()
            && matches!(
                self.conclusion.as_deref(),
                Some("failure" | "timed_out" | "action_required" | "startup_failure")
            )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CheckOutput {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
    pub annotations_count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Annotation {
    pub path: String,
    pub start_line: Option<u64>,
    pub end_line: Option<u64>,
    pub annotation_level: Option<String>,
    pub title: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Status {
    pub context: String,
    /// `error`, `failure`, `pending`, `success`.
    pub state: String,
    pub description: Option<String>,
    pub target_url: Option<String>,
}

impl Status {
    pub fn failed(&self) -> bool {
        matches!(self.state.as_str(), "failure" | "error")
    }
}

/// A list answer (one page or several), each item parsed; items that do not
/// parse are skipped rather than failing the pass.
pub fn items<T: for<'de> Deserialize<'de>>(pages: &[Value]) -> Vec<T> {
    pages
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

/// The check runs of a `check-runs` answer (its pages), the latest per name.
pub fn check_runs(pages: &[Value]) -> Vec<CheckRun> {
    let mut runs: Vec<CheckRun> = Vec::new();
    for page in pages {
        let list = page["check_runs"].as_array().cloned().unwrap_or_default();
        for value in list {
            if let Ok(run) = serde_json::from_value::<CheckRun>(value) {
                // GitHub lists the newest run of a name first.
                if !runs.iter().any(|r| r.name == run.name) {
                    runs.push(run);
                }
            }
        }
    }
    runs
}

/// The latest status per context of a combined-status answer.
pub fn statuses(combined: &Value) -> Vec<Status> {
    let mut out: Vec<Status> = Vec::new();
    for value in combined["statuses"].as_array().into_iter().flatten() {
        if let Ok(status) = serde_json::from_value::<Status>(value.clone()) {
            if !out.iter().any(|s| s.context == status.context) {
                out.push(status);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_parse_and_missing_fields_read_as_empty() {
        let pull: Pull = serde_json::from_value(json!({
            "number": 3, "state": "open", "mergeable": null,
            "head": {"ref": "agentos/x", "sha": "abc"}, "labels": [{"name": "agentos:hold"}]
        }))
        .expect("pull");
        assert!(pull.is_open() && pull.has_label("agentos:hold"));
        assert_eq!(
            (pull.head.name.as_str(), pull.mergeable),
            ("agentos/x", None)
        );
        let runs = check_runs(&[json!({"total_count": 2, "check_runs": [
            {"id": 2, "name": "ci/test", "status": "completed", "conclusion": "failure"},
            {"id": 1, "name": "ci/test", "status": "completed", "conclusion": "success"},
            {"id": 3, "name": "lint", "status": "in_progress", "conclusion": null},
        ]})]);
        assert_eq!(runs.len(), 2, "the newest run per name");
        assert!(runs[0].failed() && !runs[1].is_complete());
        let st = statuses(&json!({"statuses": [
            {"context": "ci/x", "state": "error", "description": "boom"},
            {"context": "ci/x", "state": "success"}
        ]}));
        assert_eq!(st.len(), 1);
        assert!(st[0].failed());
        let comments: Vec<Comment> = items(&[json!([{"id": 1, "body": "hi"}, "not a comment"])]);
        assert_eq!(comments.len(), 1);
        assert_eq!(login(&comments[0].user), "ghost");
    }
}
