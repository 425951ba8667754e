//! The review record: what git agentos knows about the open pull request of a
//! task in review/ (kept in its record, beside it): what the last pass saw, when
//! the next one is due, the events it answered, and the journal of the revision
//! round in progress, step by step, so a killed dispatcher resumes it.
use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};

/// A task's pull request, followed while the task is in review/.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Review {
    pub number: u64,
    pub url: String,
    /// What the last pass saw (what `list`, `status` and `show` say).
    pub phase: Phase,
    /// The pull request's head commit at the last pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// When the next pass is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_pass: Option<Timestamp>,
    /// The interval that led to `next_pass`; it doubles while nothing changes.
    pub interval_ms: u64,
    pub passes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_pass: Option<Timestamp>,
    /// Why the last pass could not read the pull request (GitHub's words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Revision rounds made in all.
    pub rounds: u32,
    /// `rounds` when the last `@agentos retry` came: the bound counts from here.
    pub window_start: u32,
    /// The round in progress, journalled step by step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<Round>,
    /// The rounds made, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<RoundSummary>,
    /// Keys of the events answered, and of the comments whose commands were
    /// applied (`review:12`, `check:ci/test@<sha>`, `control:34`…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answered: Vec<String>,
    /// Who stopped rounds with `@agentos stop` (until `@agentos retry`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    /// The rounds ran out: the comment and the label `agentos:needs-human` are
    /// on the pull request; rounds wait for `@agentos retry`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub needs_human: bool,
    /// Comments that mention git agentos from someone without write access:
    /// shown, never acted on (the latest few).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<Ignored>,
    /// Where the last round measured the pull request's change from (the merge
    /// base with its base branch): `verify ID` measures from there too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_base: Option<String>,
    /// Targets added by `@agentos targets:` (`docs/** by @octo`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub widened: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
}

impl Review {
    pub fn new(number: u64, url: &str) -> Review {
        Review {
            number,
            url: url.to_string(),
            ..Review::default()
        }
    }

    /// `#3 round 2 of 3 answering a failing check `ci/test``, for one line
    /// (`list`, `status`, `show`, the board).
    pub fn line(&self) -> String {
        let mut line = format!("#{} {}", self.number, self.phase.describe());
        if let Some(error) = &self.last_error {
            line.push_str(&format!(" (the last pass failed: {error})"));
        }
        line
    }

    /// When the next pass is due: `in 4m12s (2030-01-02T03:05:05Z)`, `due now (…)`.
    pub fn next_pass_due(&self, now: Timestamp) -> Option<String> {
        let at = self.next_pass?;
        Some(match at.since(now) {
            Some(wait) if !wait.is_zero() => {
                let wait = std::time::Duration::from_secs(wait.as_secs().max(1));
                format!("in {} ({at})", crate::task::human(wait))
            }
            _ => format!("due now ({at})"),
        })
    }

    pub fn is_answered(&self, key: &str) -> bool {
        self.answered.iter().any(|k| k == key)
    }

    pub fn answer(&mut self, key: &str) {
        if !self.is_answered(key) {
            self.answered.push(key.to_string());
        }
    }

    /// Rounds made since the bound last started counting.
    pub fn rounds_in_window(&self) -> u32 {
        self.rounds.saturating_sub(self.window_start)
    }
}

/// What a pass saw, in the words `list`, `status` and `show` use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "kebab-case")]
pub enum Phase {
    /// Published; the first pass has not run yet.
    #[default]
    FirstPass,
    /// Open, nothing to answer, no check running.
    WaitingForReview,
    /// Approved by these people (and nothing to answer): waiting for a merge.
    Approved { by: Vec<String> },
    /// Checks on the head commit have not finished.
    ChecksRunning { names: Vec<String> },
    /// GitHub is still computing whether the pull request merges cleanly.
    CheckingMergeability,
    /// A revision round is under way.
    Round {
        round: u32,
        of: u32,
        answering: String,
    },
    /// The rounds ran out; a person must look (and comment `@agentos retry`).
    NeedsPerson { rounds: u32 },
    /// Rounds are stopped: the label `agentos:hold`, or `@agentos stop`.
    Held { why: String },
    Merged {
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
    },
    Closed {
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
}

impl Phase {
    /// One line for a person: `round 2 of 3 answering a failing check `ci/test``.
    pub fn describe(&self) -> String {
        let who = |by: &Option<String>| by.as_deref().map(|b| format!(" by @{b}"));
        match self {
            Phase::FirstPass => "published, not looked at yet".into(),
            Phase::WaitingForReview => "waiting for review".into(),
            Phase::Approved { by } => {
                let names: Vec<String> = by.iter().map(|b| format!("@{b}")).collect();
                format!("approved by {}; waiting for a merge", names.join(", "))
            }
            Phase::ChecksRunning { names } => match names.as_slice() {
                [] => "checks running".into(),
                [one] => format!("checks running (`{one}`)"),
                [first, rest @ ..] => format!("checks running (`{first}` and {} more)", rest.len()),
            },
            Phase::CheckingMergeability => "GitHub is checking whether it merges cleanly".into(),
            Phase::Round {
                round,
                of,
                answering,
            } => format!("round {round} of {of} answering {answering}"),
            Phase::NeedsPerson { rounds } => format!(
                "needs a person: {rounds} rounds made; comment `@agentos retry` on the pull request for more"
            ),
            Phase::Held { why } => format!("held: {why}"),
            Phase::Merged { by, commit } => format!(
                "merged{}{}",
                who(by).unwrap_or_default(),
                commit
                    .as_deref()
                    .map(|c| format!(" as {}", &c[..c.len().min(12)]))
                    .unwrap_or_default()
            ),
            Phase::Closed { by } => format!(
                "closed without merging{}",
                who(by).unwrap_or_default()
            ),
        }
    }
}

/// Something on the pull request a round answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Event {
    /// Once answered, never answered again: `review:<id>`, `comment:<id>`,
    /// `inline:<id>`, `check:<name>@<sha>`, `status:<context>@<sha>`,
    /// `conflict:<head>..<base>`.
    pub key: String,
    /// `the review by @octo requesting changes`, `a failing check `ci/test``.
    pub title: String,
    /// What the agent is told: the review's text and inline comments (file and
    /// line), the check's summary and annotations, the status's description
    /// and URL, the conflicting files.
    pub detail: String,
    /// A conflict with the base branch: the round merges the base first.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub conflict: bool,
}

/// The steps of a revision round, in order; each is journalled when done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoundStep {
    /// The pull request's head fetched and checked out (the base merged in
    /// when it conflicts).
    Fetch,
    Agent,
    Commit,
    Verify,
    /// A fast-forward push.
    Push,
    /// The one reply on the pull request.
    Reply,
}

impl RoundStep {
    pub const ALL: [RoundStep; 6] = [
        RoundStep::Fetch,
        RoundStep::Agent,
        RoundStep::Commit,
        RoundStep::Verify,
        RoundStep::Push,
        RoundStep::Reply,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RoundStep::Fetch => "fetch",
            RoundStep::Agent => "agent",
            RoundStep::Commit => "commit",
            RoundStep::Verify => "verify",
            RoundStep::Push => "push",
            RoundStep::Reply => "reply",
        }
    }

    /// The fault point (`AGENTOS_FAULT`) right after the step is journalled.
    pub fn fault_after(self) -> &'static str {
        match self {
            RoundStep::Fetch => "round-after-fetch",
            RoundStep::Agent => "round-after-agent",
            RoundStep::Commit => "round-after-commit",
            RoundStep::Verify => "round-after-verify",
            RoundStep::Push => "round-after-push",
            RoundStep::Reply => "round-after-reply",
        }
    }
}

/// The round in progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Round {
    /// The round's number among all the task's rounds (its run folder is
    /// `runs/<id>/round-<number>/`).
    pub number: u32,
    /// Its number within the bound, and the bound: "round 2 of 3".
    pub of: (u32, u32),
    pub events: Vec<Event>,
    pub steps: Vec<RoundStep>,
    pub started_at: Option<Timestamp>,
    /// The pull request's head as fetched, and the base branch's tip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    pub base_branch: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_tip: Option<String>,
    /// The base was merged in: these files were left with conflict markers.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub merging: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// The round's commit; None after the commit step: the agent changed nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// What the round's commit changed: `` `README.md` (modified) ``.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed: Option<String>,
    /// The reply's comment id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<u64>,
    /// A reply was sent (perhaps not answered before a crash): look for it
    /// before sending another.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reply_attempted: bool,
    /// Dispatchers that died during this round (after three it stops).
    #[serde(skip_serializing_if = "is_zero")]
    pub resumes: u32,
    /// The remote moved during the round once already: the round was redone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub redone: bool,
    /// Why the round stopped short of a push (it still replies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The verification's verdict, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// The round's report (repository-relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

impl Round {
    pub fn has(&self, step: RoundStep) -> bool {
        self.steps.contains(&step)
    }

    pub fn mark(&mut self, step: RoundStep) {
        if !self.has(step) {
            self.steps.push(step);
        }
    }

    /// The first step not journalled yet.
    pub fn first_pending(&self) -> Option<RoundStep> {
        RoundStep::ALL.into_iter().find(|s| !self.has(*s))
    }

    /// `the review by @octo requesting changes and a failing check `ci/test``.
    pub fn answering(&self) -> String {
        join_titles(self.events.iter().map(|e| e.title.as_str()))
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Titles joined as a person writes a list: `a, b and c`.
pub fn join_titles<'a>(titles: impl Iterator<Item = &'a str>) -> String {
    let titles: Vec<&str> = titles.collect();
    match titles.as_slice() {
        [] => "nothing".into(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A round that is over, as `show` lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoundSummary {
    pub number: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    pub answered: String,
    /// `pushed 1a2b3c4d5e6f`, `no change`, `stopped: …`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<u64>,
}

impl RoundSummary {
    /// `1: answered the review by @octo requesting changes: pushed 1a2b3c4d5e6f; verification passed`.
    pub fn line(&self) -> String {
        let verdict = self
            .verdict
            .as_deref()
            .map(|v| format!("; verification {v}"))
            .unwrap_or_default();
        format!(
            "{}: answered {}: {}{verdict}",
            self.number, self.answered, self.outcome
        )
    }
}

/// A comment shown and not acted on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ignored {
    pub by: String,
    /// GitHub's `author_association` (NONE, CONTRIBUTOR…).
    pub association: String,
    /// The comment's first line.
    pub text: String,
}

/// Who merged the pull request, and the merge commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Merged {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}
