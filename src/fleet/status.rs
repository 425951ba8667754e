//! The fleet at a glance, for `status --fleet`: per repository its dispatcher,
//! the counts per state, the running tasks and their step, the pause, the open
//! pull requests and the last failure. A member that cannot be read is shown
//! with its problem, never fatal.
use super::folder::{self, Member};
use crate::clock::Timestamp;
use crate::dispatch::lock::{DispatcherLock, Holder};
use crate::queue::{self, State, Tree};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct RepoStatus {
    pub name: String,
    /// Where the link points.
    pub path: String,
    /// Why it cannot be served (a dangling link, not a repository).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub dispatcher: Option<Holder>,
    pub counts: BTreeMap<&'static str, usize>,
    pub running: Vec<Running>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause: Option<String>,
    pub open_pull_requests: Vec<OpenPull>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<Failure>,
}

#[derive(Debug, Serialize)]
pub struct Running {
    pub id: String,
    pub agent: String,
    /// The step it is in (the first not done).
    pub step: String,
}

#[derive(Debug, Serialize)]
pub struct OpenPull {
    pub id: String,
    pub url: String,
    /// What it waits for.
    pub waiting: String,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub id: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// Every member of the fleet in `dir`, by name.
pub fn status(dir: &Path, now: Timestamp) -> Vec<RepoStatus> {
    folder::members(dir)
        .iter()
        .map(|m| of_member(m, now))
        .collect()
}

fn of_member(member: &Member, now: Timestamp) -> RepoStatus {
    let mut status = RepoStatus {
        name: member.name.clone(),
        path: folder::target(&member.origin).display().to_string(),
        problem: None,
        dispatcher: None,
        counts: BTreeMap::new(),
        running: Vec::new(),
        pause: None,
        open_pull_requests: Vec::new(),
        last_failure: None,
    };
    match &member.tree {
        Ok(tree) => fill(&mut status, tree, now),
        Err(problem) => status.problem = Some(problem.clone()),
    }
    status
}

fn fill(status: &mut RepoStatus, tree: &Tree, now: Timestamp) {
    status.dispatcher = DispatcherLock::probe(tree).ok().flatten();
    status.pause = crate::schedule::pause::current(tree, now).map(|p| p.describe(now));
    for state in State::ALL {
        let entries = match queue::entries(tree, state) {
            Ok(entries) => entries,
            Err(e) => {
                status.problem = Some(format!(
                    "cannot read {}: {e}",
                    tree.state_dir(state).display()
                ));
                continue;
            }
        };
        status.counts.insert(state.name(), entries.len());
        for entry in entries {
            let record = || queue::read_record(&entry.record_path()).ok().flatten();
            match state {
                State::Doing => {
                    let record = record().unwrap_or_default();
                    status.running.push(Running {
                        id: entry.id.clone(),
                        agent: record.agent.clone(),
                        step: record.first_pending().name().to_string(),
                    });
                }
                State::Review => {
                    if let Some(review) = record().and_then(|r| r.review) {
                        status.open_pull_requests.push(OpenPull {
                            id: entry.id.clone(),
                            url: review.url.clone(),
                            waiting: review.line(),
                        });
                    }
                }
                State::Failed => {
                    let record = record().unwrap_or_default();
                    let later = status
                        .last_failure
                        .as_ref()
                        .is_none_or(|f| f.at < record.finished_at);
                    if later {
                        status.last_failure = Some(Failure {
                            id: entry.id.clone(),
                            reason: record.reason.clone().unwrap_or_default(),
                            at: record.finished_at,
                        });
                    }
                }
                State::Todo | State::Done => {}
            }
        }
    }
}
