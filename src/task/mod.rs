//! The task file: Markdown with TOML front matter between `+++` lines. [`Task`] and
//! [`FIELDS`] are the one field list that parsing, writing and the "known fields"
//! message share; parse.rs reads a file, write.rs writes one, validate.rs holds
//! the rules, targets.rs what the targets cover.
mod duration;
mod parse;
mod scheduling;
pub mod targets;
mod validate;
mod write;

pub use duration::{human, parse_duration};
pub use parse::{load, load_finished, parse, read_text, read_text_with_meta};
pub use scheduling::{check_caps, stacks_on, Usd};
pub use validate::{check_id, check_target, is_slug, slugify, validate};
pub use write::{toml_string, write};

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// The largest task file accepted.
pub const MAX_TASK_BYTES: u64 = 1024 * 1024;

/// Where the result section appended to a finished task in done/ begins.
pub const RESULT_MARKER: &str = "\n---\n\n## Result (git agentos)\n";

/// The most a result section adds to a finished task (the agent's summary in it
/// is cut to fit).
pub const MAX_RESULT_BYTES: u64 = 128 * 1024;

/// Every front-matter field, in the order [`write`] writes them. The fields of
/// [`Task`] other than `body`; a test holds the two together.
pub const FIELDS: [&str; 18] = [
    "title",
    "targets",
    "agent",
    "base",
    "base_branch",
    "verify",
    "priority",
    "timeout",
    "enqueued",
    "require_all",
    "draft",
    "labels",
    "triggered_by",
    "source_change",
    "after",
    "stack",
    "max_turns",
    "max_cost_usd",
];

/// One task, as its file says it. Deserialized straight from the front matter
/// (unknown fields are refused); the body is what follows it.
///
/// Serialized (for the todo index) without the fields left at their default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Task {
    pub title: String,
    pub targets: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The branch HEAD was on when the task was enqueued (the pull request's base).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_branch: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub priority: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// When the task entered the queue; orders tasks of equal priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enqueued: Option<Timestamp>,
    /// `false`: the change need not touch every plain-path target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_all: Option<bool>,
    /// Open the pull request as a draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
    /// Labels for the pull request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// The triggers that queued this task, the first one's task leading to the
    /// next: a trigger never fires on the output of a task it queued.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggered_by: Vec<String>,
    /// The patch id of the change the post-commit hook queued this task for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_change: Option<String>,
    /// Tasks that must be done before this one runs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// Start from the dependency's branch and open the pull request against it
    /// (default: true when `after` names exactly one task).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<bool>,
    /// The agent's turn cap (else agent.toml's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_turns: Option<u64>,
    /// The agent's spending cap in US dollars (else agent.toml's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<Usd>,
    #[serde(skip)]
    pub body: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// What is wrong with a task, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The front-matter field at fault, if one is.
    pub field: Option<String>,
    /// The line in the file, when known.
    pub line: Option<usize>,
    pub what: String,
    pub fix: String,
}

impl Problem {
    pub fn new(field: Option<&str>, what: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem {
            field: field.map(str::to_string),
            line: None,
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}; {}", self.what, self.fix)
    }
}

/// A problem with a named task file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", file.display())]
pub struct TaskFileError {
    pub file: PathBuf,
    pub problem: Problem,
}

#[cfg(test)]
mod tests;
