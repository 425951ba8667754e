//! Dependencies between tasks (`after`): which queued tasks may run now, which
//! wait on a task not done yet, which are blocked by a failed one, and which can
//! never run (a cycle, an id that names no task). Computed from the state
//! folders alone, on every scan: nothing is stored, so nothing can go stale.
use crate::queue::{self, Ready, State, Tree};
use crate::task::Problem;
use std::collections::{HashMap, HashSet};
use std::io;

/// Why a queued task does not run yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Hold {
    /// It waits on these tasks, queued or running.
    Waiting { on: Vec<String> },
    /// A task it needs failed: `failed` (reached through `through`, when the
    /// failed task is not a direct dependency).
    Blocked {
        failed: String,
        through: Option<String>,
    },
}

impl Hold {
    /// `waiting on schema-task`, `blocked: schema-task failed`.
    pub fn describe(&self) -> String {
        match self {
            Hold::Waiting { on } => format!("waiting on {}", on.join(", ")),
            Hold::Blocked {
                failed,
                through: None,
            } => format!("blocked: {failed} failed"),
            Hold::Blocked {
                failed,
                through: Some(via),
            } => format!("blocked: {failed} failed (through {via})"),
        }
    }
}

/// todo/'s valid tasks sorted by what their dependencies allow.
#[derive(Debug, Default)]
pub struct Gated {
    /// May run now, in dispatch order.
    pub runnable: Vec<Ready>,
    /// Wait, in dispatch order.
    pub held: Vec<(Ready, Hold)>,
    /// Can never run as written: quarantine them.
    pub invalid: Vec<(Ready, Problem)>,
}

/// The state each task id is in (todo/ counts its valid and invalid files).
pub fn states(tree: &Tree, ready: &[Ready]) -> io::Result<HashMap<String, State>> {
    let mut out = HashMap::new();
    for state in [State::Doing, State::Review, State::Done, State::Failed] {
        for entry in queue::entries(tree, state)? {
            out.insert(entry.id, state);
        }
    }
    for entry in queue::entries(tree, State::Todo)? {
        out.entry(entry.id).or_insert(State::Todo);
    }
    for r in ready {
        out.insert(r.entry.id.clone(), State::Todo);
    }
    Ok(out)
}

/// What the dependencies say of one queued task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Runnable,
    Held(Hold),
    /// It can never run as written.
    Never(Problem),
}

/// Sort `ready` (in dispatch order) into runnable, held and invalid tasks.
pub fn gate(tree: &Tree, ready: Vec<Ready>) -> io::Result<Gated> {
    let verdicts = verdicts(tree, &ready)?;
    let mut out = Gated::default();
    for (r, verdict) in ready.into_iter().zip(verdicts) {
        match verdict {
            Verdict::Runnable => out.runnable.push(r),
            Verdict::Held(hold) => out.held.push((r, hold)),
            Verdict::Never(problem) => out.invalid.push((r, problem)),
        }
    }
    Ok(out)
}

/// One verdict per task of `ready`, in its order (for `list`, `status`, the board).
pub fn verdicts(tree: &Tree, ready: &[Ready]) -> io::Result<Vec<Verdict>> {
    if ready.iter().all(|r| r.task.after.is_empty()) {
        return Ok(vec![Verdict::Runnable; ready.len()]);
    }
    let states = states(tree, ready)?;
    Ok(verdicts_with(&states, ready))
}

/// [`verdicts`] with every task's state known.
pub fn verdicts_with(states: &HashMap<String, State>, ready: &[Ready]) -> Vec<Verdict> {
    let after: HashMap<&str, &[String]> = ready
        .iter()
        .map(|r| (r.entry.id.as_str(), r.task.after.as_slice()))
        .collect();
    let stacked: HashMap<&str, &str> = ready
        .iter()
        .filter_map(|r| Some((r.entry.id.as_str(), crate::task::stacks_on(&r.task)?)))
        .collect();
    let deps = Deps {
        after: &after,
        stacked: &stacked,
        states,
    };
    let mut memo: HashMap<String, Option<Hold>> = HashMap::new();
    ready
        .iter()
        .map(|r| {
            let id = r.entry.id.as_str();
            if let Some(unknown) = r.task.after.iter().find(|d| !states.contains_key(*d)) {
                return Verdict::Never(unknown_id(unknown));
            }
            if let Some(path) = cycle_through(id, &after) {
                return Verdict::Never(cycle(&path));
            }
            match hold(id, &deps, &mut memo, 0) {
                Some(h) => Verdict::Held(h),
                None => Verdict::Runnable,
            }
        })
        .collect()
}

/// What the queued tasks need: their `after`, the one each is stacked on, and
/// every task's state.
struct Deps<'a> {
    after: &'a HashMap<&'a str, &'a [String]>,
    stacked: &'a HashMap<&'a str, &'a str>,
    states: &'a HashMap<String, State>,
}

/// What holds `id` back, if anything (memoised; depth-limited, since a cycle
/// elsewhere may not be quarantined yet). A dependency is met when it is done
/// (merged, where the review loop applies), or, for a task stacked on it, once
/// it is in review/: its branch is pushed, and the stacked pull request goes
/// against that branch until it merges.
fn hold(
    id: &str,
    d: &Deps,
    memo: &mut HashMap<String, Option<Hold>>,
    depth: usize,
) -> Option<Hold> {
    if let Some(known) = memo.get(id) {
        return known.clone();
    }
    let deps = d.after.get(id).copied().unwrap_or_default();
    let stacked_on = d.stacked.get(id).copied();
    let mut waiting = Vec::new();
    let mut blocked = None;
    for dep in deps {
        match d.states.get(dep) {
            Some(State::Done) => {}
            Some(State::Review) if stacked_on == Some(dep.as_str()) => {}
            Some(State::Failed) => {
                blocked.get_or_insert(Hold::Blocked {
                    failed: dep.clone(),
                    through: None,
                });
            }
            Some(State::Todo) if depth < 64 => match hold(dep, d, memo, depth + 1) {
                Some(Hold::Blocked { failed, .. }) => {
                    blocked.get_or_insert(Hold::Blocked {
                        failed,
                        through: Some(dep.clone()),
                    });
                }
                _ => waiting.push(dep.clone()),
            },
            _ => waiting.push(dep.clone()),
        }
    }
    let result = blocked.or((!waiting.is_empty()).then_some(Hold::Waiting { on: waiting }));
    memo.insert(id.to_string(), result.clone());
    result
}

/// The ids of a cycle that leads from `start` back to it through `after`, if
/// any: `[a, b, a]`.
pub fn cycle_through(start: &str, after: &HashMap<&str, &[String]>) -> Option<Vec<String>> {
    let mut path = vec![start.to_string()];
    let mut seen = HashSet::new();
    if visit(start, start, after, &mut path, &mut seen) {
        Some(path)
    } else {
        None
    }
}

fn visit(
    at: &str,
    start: &str,
    after: &HashMap<&str, &[String]>,
    path: &mut Vec<String>,
    seen: &mut HashSet<String>,
) -> bool {
    for dep in after.get(at).copied().unwrap_or_default() {
        path.push(dep.clone());
        if dep == start {
            return true;
        }
        if seen.insert(dep.clone()) && visit(dep, start, after, path, seen) {
            return true;
        }
        path.pop();
    }
    false
}

/// `after` names an id that is no task.
pub fn unknown_id(id: &str) -> Problem {
    Problem::new(
        Some("after"),
        format!("`{id}` is no task in todo/, doing/, done/ or failed/"),
        format!("queue `{id}` first, or remove it from `after`"),
    )
}

/// `after` closes a cycle (`path` runs from a task back to itself).
pub fn cycle(path: &[String]) -> Problem {
    Problem::new(
        Some("after"),
        format!(
            "the tasks wait on each other in a cycle: {}",
            path.join(" → ")
        ),
        "remove one of them from the other's `after`",
    )
}

#[cfg(test)]
mod tests;
