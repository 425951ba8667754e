//! The scheduling fields' own types and rules: `after` (ids of tasks that must be
//! done first), `stack`, and the caps `max_turns` and `max_cost_usd`.
use super::{is_slug, Problem, Task};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in US dollars, as a task or agent.toml gives a cap (`2`, `2.5`).
#[derive(Debug, Clone, Copy, Default, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Usd(pub f64);

impl PartialEq for Usd {
    fn eq(&self, other: &Usd) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Usd {}

impl Usd {
    /// As TOML: always a float (`2.0`), so it reads back as the same value.
    pub fn to_toml(self) -> String {
        match self.0 {
            x if x.is_nan() => "nan".into(),
            x if x.is_infinite() && x > 0.0 => "inf".into(),
            x if x.is_infinite() => "-inf".into(),
            x => format!("{x:?}"),
        }
    }
}

impl fmt::Display for Usd {
    /// `$2.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${:.2}", self.0)
    }
}

/// The rules of `after`, `max_turns` and `max_cost_usd`.
pub fn validate(task: &Task) -> Result<(), Problem> {
    for id in &task.after {
        if !is_slug(id) {
            return Err(Problem::new(
                Some("after"),
                format!("`{}` is not a task id", id.escape_debug()),
                "name tasks by id (lower-case letters, digits, `.`, `_` and `-`), as `git agentos list` shows them",
            ));
        }
    }
    if task.stack == Some(true) && task.after.len() != 1 {
        return Err(Problem::new(
            Some("stack"),
            format!(
                "`stack = true` needs exactly one task in `after`, and it names {}",
                task.after.len()
            ),
            "name the one task to start from in `after`, or remove `stack`",
        ));
    }
    check_caps(task)
}

/// The rules of `max_turns` and `max_cost_usd` (for agent.toml's defaults too).
pub fn check_caps(task: &Task) -> Result<(), Problem> {
    if task.max_turns == Some(0) {
        return Err(Problem::new(
            Some("max_turns"),
            "a cap of 0 turns lets the agent do nothing",
            "give at least 1, or leave the field out",
        ));
    }
    if let Some(usd) = task.max_cost_usd {
        if !(usd.0.is_finite() && usd.0 > 0.0) {
            return Err(Problem::new(
                Some("max_cost_usd"),
                format!("`{}` is not an amount of dollars above 0", usd.to_toml()),
                "write it like `max_cost_usd = 2.5`",
            ));
        }
    }
    Ok(())
}

/// Whether the task starts from its dependency's branch: `stack`, else true
/// when `after` names exactly one task.
pub fn stacks_on(task: &Task) -> Option<&str> {
    let stacked = task.stack.unwrap_or(task.after.len() == 1);
    match task.after.as_slice() {
        [one] if stacked => Some(one.as_str()),
        _ => None,
    }
}
