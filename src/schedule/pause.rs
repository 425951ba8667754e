//! The queue's pause, in `.agentos/runs/pause.json`: until when no task starts,
//! why, the backoff the next limit without a reset time gets (5 minutes,
//! doubling to an hour), and the tasks a limit sent back to todo/, which go
//! first when the pause ends. Written whole and durably, so a dispatcher killed
//! during a pause leaves it in place; `git agentos resume` ends it.
use super::limits::{Limit, LimitKind};
use crate::clock::Timestamp;
use crate::durable;
use crate::queue::Tree;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// The first backoff of a limit that gives no reset time.
pub const BACKOFF_FIRST: Duration = Duration::from_secs(5 * 60);
/// The longest backoff.
pub const BACKOFF_MAX: Duration = Duration::from_secs(60 * 60);

/// The pause file's name in runs/.
pub const FILE: &str = "pause.json";

/// What the scheduler keeps between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The pause in force (or over, when `until` has passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause: Option<Pause>,
    /// The backoff the last limit without a reset time got, in seconds (0: none
    /// since the last run that hit no limit).
    pub backoff_secs: u64,
    /// Tasks sent back to todo/ by a limit, first first: they run before the rest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub front: Vec<String>,
    /// The local day a person resumed a daily-budget pause on: the daily cap
    /// does not pause the queue again that day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_resumed_on: Option<String>,
}

/// A pause of the whole queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    pub until: Timestamp,
    pub kind: LimitKind,
    /// What the agent (or the budget) said.
    pub message: String,
    pub since: Timestamp,
    /// The task that ran into the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

impl Pause {
    /// `paused until 03:00 (usage limit)`.
    pub fn describe(&self, now: Timestamp) -> String {
        format!(
            "paused until {} ({})",
            self.until.local_time_near(now),
            self.kind.label()
        )
    }
}

pub fn path(tree: &Tree) -> PathBuf {
    tree.runs_dir().join(FILE)
}

/// Read the state; a missing or unreadable file is no pause (a broken file is
/// never a reason to stop the queue for ever).
pub fn load(tree: &Tree) -> State {
    std::fs::read(path(tree))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

pub fn save(tree: &Tree, state: &State) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(state).map_err(io::Error::other)?;
    text.push('\n');
    durable::ensure_dir(&tree.runs_dir())?;
    durable::write(&path(tree), text.as_bytes())
}

/// The pause in force at `now`, if any.
pub fn current(tree: &Tree, now: Timestamp) -> Option<Pause> {
    if !path(tree).exists() {
        return None;
    }
    load(tree).pause.filter(|p| p.until > now)
}

/// Pause the queue for `limit`, which task `task` ran into at `now` (sending it
/// to the front of todo/). Returns the pause.
pub fn pause_for(
    tree: &Tree,
    limit: &Limit,
    task: Option<&str>,
    now: Timestamp,
) -> io::Result<Pause> {
    let mut state = load(tree);
    let until = match limit.resets_at.filter(|at| *at > now) {
        Some(at) => at,
        None => {
            let next = match state.backoff_secs {
                0 => BACKOFF_FIRST,
                secs => (Duration::from_secs(secs) * 2).min(BACKOFF_MAX),
            };
            state.backoff_secs = next.as_secs();
            now.after(next)
        }
    };
    // A later pause (another worker's, or one already in force) is kept.
    let until = match &state.pause {
        Some(p) if p.until > until => p.until,
        _ => until,
    };
    let pause = Pause {
        until,
        kind: limit.kind,
        message: limit.message.clone(),
        since: now,
        task: task.map(str::to_string),
    };
    state.pause = Some(pause.clone());
    if let Some(id) = task {
        if !state.front.iter().any(|f| f == id) {
            state.front.push(id.to_string());
        }
    }
    save(tree, &state)?;
    Ok(pause)
}

/// End the pause now (`git agentos resume`). Returns the pause that was in force.
pub fn resume(tree: &Tree, now: Timestamp) -> io::Result<Option<Pause>> {
    let mut state = load(tree);
    let ended = state.pause.take().filter(|p| p.until > now);
    if let Some(p) = &ended {
        if p.kind == LimitKind::DailyBudget {
            state.budget_resumed_on = Some(now.local_day());
        }
    }
    state.backoff_secs = 0;
    if path(tree).exists() {
        save(tree, &state)?;
    }
    Ok(ended)
}

/// An agent ran without hitting a limit: the next limit starts from the first
/// backoff again. Cheap when there is nothing to forget.
pub fn forget_backoff(tree: &Tree) {
    if !path(tree).exists() {
        return;
    }
    let mut state = load(tree);
    if state.backoff_secs != 0 {
        state.backoff_secs = 0;
        if let Err(e) = save(tree, &state) {
            tracing::warn!("cannot write {}: {e}", path(tree).display());
        }
    }
}

/// Put the tasks a limit sent back first, in the order they came back.
pub fn front_first<T>(tree: &Tree, ready: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
    if !path(tree).exists() {
        return ready;
    }
    let front = load(tree).front;
    if front.is_empty() {
        return ready;
    }
    let (mut first, rest): (Vec<T>, Vec<T>) = ready
        .into_iter()
        .partition(|r| front.iter().any(|f| f == id(r)));
    first.sort_by_key(|r| front.iter().position(|f| f == id(r)));
    first.extend(rest);
    first
}

/// The dispatcher's scan: a task no longer queued drops off the front list.
pub fn prune_front(tree: &Tree, queued: &[&str]) {
    if !path(tree).exists() {
        return;
    }
    let mut state = load(tree);
    let before = state.front.len();
    state.front.retain(|f| queued.contains(&f.as_str()));
    if state.front.len() != before {
        if let Err(e) = save(tree, &state) {
            tracing::warn!("cannot write {}: {e}", path(tree).display());
        }
    }
}

#[cfg(test)]
mod tests;
