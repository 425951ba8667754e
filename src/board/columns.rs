//! The board's columns, read from the state folders: one per state of the
//! queue, in the queue's order ([`State::ALL`]), so a state the queue gains shows
//! up as a column once it has a label here. todo/ is in dispatch order (the
//! queue's own scan) with the files that can never run marked; a claimed task
//! shows the step it is at, since when, and what its agent did last; one in
//! review/ what its pull request waits for (a round in progress like a claimed
//! task, with its step and its agent's latest action) and when the next pass is
//! due; a failed one the first line of its reason; a finished one its outcome,
//! pull request and who merged it.
use super::files::{self, TEXT_CAP};
use crate::agent::transcript::{self, Item};
use crate::clock::Timestamp;
use crate::dispatch::lock::{DispatcherLock, Holder};
use crate::queue::review::{Phase, Review, RoundStep};
use crate::queue::{self, Entry, Record, State, Tree};
use std::time::Duration;

/// How many tasks a column of finished tasks shows (the most recent).
pub const FINISHED_SHOWN: usize = 30;

/// What a column is called on the board. Every state needs one: this is the
/// only place the board names states.
pub fn label(state: State) -> &'static str {
    match state {
        State::Todo => "To do",
        State::Doing => "Doing",
        State::Review => "In review",
        State::Done => "Done",
        State::Failed => "Failed",
    }
}

/// One repository's queue at a moment.
#[derive(Debug)]
pub struct Columns {
    pub columns: Vec<Column>,
    /// Who holds the dispatcher lock, if anyone.
    pub dispatcher: Option<Holder>,
    /// The queue's pause: `paused until 03:00 (usage limit)`.
    pub pause: Option<String>,
}

#[derive(Debug)]
pub struct Column {
    pub state: State,
    pub cards: Vec<Card>,
    /// How many tasks the state holds (more than `cards` when capped).
    pub total: usize,
}

/// One task on the board.
#[derive(Debug, Default)]
pub struct Card {
    pub id: String,
    pub title: String,
    pub agent: String,
    pub priority: i64,
    /// A claimed task that has not finished: where it is.
    pub running: Option<Running>,
    /// Why it failed (or cannot run): the first line.
    pub reason: Option<String>,
    /// The agent's outcome: `success, 2 turns, $0.0123`.
    pub outcome: Option<String>,
    pub pr_url: Option<String>,
    /// Short notes in the card's corner: blocked, waiting on…, cancelling…
    pub marks: Vec<Mark>,
    /// Its id is an id (its page can be opened, actions can name it).
    pub linkable: bool,
    pub can_retry: bool,
    pub can_cancel: bool,
}

/// Where a claimed task is.
#[derive(Debug, Clone)]
pub struct Running {
    /// The step in progress (`agent`; `round 2: verify` for a revision round).
    pub step: String,
    pub attempt: u32,
    /// How long since it was claimed.
    pub elapsed: Duration,
    /// The agent's latest action (a tool call, or what it said), while it runs.
    pub latest: Option<String>,
}

/// A note on a card. The kinds are what the page styles; later states add
/// their own notes (waiting on another task, a review round) as marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub kind: MarkKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// It cannot go on as it is.
    Blocked,
    /// It waits for something.
    Waiting,
    /// For information.
    Note,
}

impl MarkKind {
    pub fn class(self) -> &'static str {
        match self {
            MarkKind::Blocked => "blocked",
            MarkKind::Waiting => "waiting",
            MarkKind::Note => "note",
        }
    }
}

/// Read every state folder of `tree` as of `now`.
pub fn read(tree: &Tree, now: Timestamp) -> std::io::Result<Columns> {
    let mut columns = Vec::new();
    for state in State::ALL {
        let (cards, total) = if state == State::Todo {
            todo_cards(tree)?
        } else {
            let mut entries = queue::entries(tree, state)?;
            let total = entries.len();
            if state != State::Doing {
                // Most recently finished first; a long history is cut.
                entries.sort_by_cached_key(|e| {
                    std::cmp::Reverse(
                        std::fs::symlink_metadata(&e.path)
                            .and_then(|m| m.modified())
                            .ok(),
                    )
                });
                entries.truncate(FINISHED_SHOWN);
            }
            let mut cards: Vec<(Option<Timestamp>, Card)> =
                entries.iter().map(|e| settled_card(tree, e, now)).collect();
            if state == State::Doing {
                cards.sort_by_key(|(claimed, _)| *claimed);
            }
            (cards.into_iter().map(|(_, c)| c).collect(), total)
        };
        columns.push(Column {
            state,
            cards,
            total,
        });
    }
    let dispatcher = DispatcherLock::probe(tree).ok().flatten();
    let pause = crate::schedule::pause::current(tree, now).map(|p| p.describe(now));
    Ok(Columns {
        columns,
        dispatcher,
        pause,
    })
}

/// todo/ in dispatch order, then the files that can never run.
fn todo_cards(tree: &Tree) -> std::io::Result<(Vec<Card>, usize)> {
    let inspection = queue::inspect_todo(tree)?;
    let ready =
        crate::schedule::pause::front_first(tree, inspection.ready, |r| r.entry.id.as_str());
    let verdicts = crate::schedule::deps::verdicts(tree, &ready)?;
    let mut cards: Vec<Card> = ready
        .into_iter()
        .zip(verdicts)
        .map(|(ready, verdict)| Card {
            linkable: true,
            can_cancel: true,
            id: ready.entry.id,
            title: ready.task.title,
            agent: ready.agent,
            priority: ready.task.priority,
            ..dependency_marks(verdict)
        })
        .collect();
    for (entry, err) in inspection.invalid {
        let linkable = crate::task::check_id(&entry.id).is_ok();
        cards.push(Card {
            title: entry.id.clone(),
            agent: entry.folder_agent.clone().unwrap_or_default(),
            marks: vec![Mark {
                kind: MarkKind::Blocked,
                text: "never runs".into(),
            }],
            reason: Some(err.problem.to_string()),
            linkable,
            can_cancel: linkable,
            id: entry.id,
            ..Card::default()
        });
    }
    let total = cards.len();
    Ok((cards, total))
}

/// A queued task's marks from its dependencies: waiting on one, blocked by a
/// failed one, or never running (a cycle, an unknown id).
fn dependency_marks(verdict: crate::schedule::deps::Verdict) -> Card {
    use crate::schedule::deps::{Hold, Verdict};
    let (kind, text, reason) = match verdict {
        Verdict::Runnable => return Card::default(),
        Verdict::Held(hold @ Hold::Waiting { .. }) => (MarkKind::Waiting, hold.describe(), None),
        Verdict::Held(hold) => (MarkKind::Blocked, hold.describe(), None),
        Verdict::Never(problem) => (
            MarkKind::Blocked,
            "never runs".to_string(),
            Some(problem.to_string()),
        ),
    };
    Card {
        marks: vec![Mark { kind, text }],
        reason,
        ..Card::default()
    }
}

/// A task in any folder but todo/, from its file, record and reason; with the
/// time it was claimed, for ordering.
fn settled_card(tree: &Tree, entry: &Entry, now: Timestamp) -> (Option<Timestamp>, Card) {
    let task = crate::task::load(&entry.path).ok();
    let record = read_record(entry);
    let reason = files::read_text(&entry.reason_path(), TEXT_CAP)
        .and_then(|r| r.lines().next().map(str::to_string));
    let linkable = crate::task::check_id(&entry.id).is_ok();
    let mut card = Card {
        id: entry.id.clone(),
        title: task
            .as_ref()
            .map_or_else(|| entry.id.clone(), |t| t.title.clone()),
        agent: record
            .as_ref()
            .map(|r| r.agent.clone())
            .or_else(|| task.as_ref().and_then(|t| t.agent.clone()))
            .unwrap_or_else(|| "default".into()),
        priority: task.as_ref().map_or(0, |t| t.priority),
        reason,
        linkable,
        can_retry: linkable && entry.state == State::Failed,
        can_cancel: linkable && matches!(entry.state, State::Doing | State::Review),
        ..Card::default()
    };
    if !linkable {
        card.marks.push(Mark {
            kind: MarkKind::Blocked,
            text: "a copy of another task's file".into(),
        });
    }
    let Some(record) = record else {
        return (None, card);
    };
    card.outcome = record.agent_result.as_ref().map(|r| r.describe());
    card.pr_url = record.pr_url.clone();
    if let Some(review) = &record.review {
        review_marks(tree, entry, review, now, &mut card);
    }
    if record.finished_at.is_none() && record.claimed_at.is_some() && record.review.is_none() {
        card.running = Some(Running {
            step: record.first_pending().name().to_string(),
            attempt: record.attempt,
            elapsed: record
                .claimed_at
                .and_then(|at| now.since(at))
                .unwrap_or_default(),
            latest: latest_action(tree, &entry.id),
        });
        if queue::cancel_marker(entry).exists() {
            card.marks.push(Mark {
                kind: MarkKind::Waiting,
                text: "cancelling".into(),
            });
        }
    }
    if record.attempt > 1 {
        card.marks.push(Mark {
            kind: MarkKind::Note,
            text: format!("attempt {}", record.attempt),
        });
    }
    (record.claimed_at, card)
}

/// A task whose pull request is (or was) followed: what it waits for, the
/// round in progress, when the next pass is due; merged or closed, by whom.
fn review_marks(tree: &Tree, entry: &Entry, review: &Review, now: Timestamp, card: &mut Card) {
    let kind = match review.phase {
        Phase::NeedsPerson { .. } | Phase::Held { .. } | Phase::Closed { .. } => MarkKind::Blocked,
        Phase::Merged { .. } => MarkKind::Note,
        _ => MarkKind::Waiting,
    };
    card.marks.push(Mark {
        kind,
        text: review.line(),
    });
    if entry.state != State::Review {
        return;
    }
    if let Some(round) = &review.round {
        card.running = Some(Running {
            step: format!(
                "round {}: {}",
                round.number,
                round.first_pending().map_or("reply", RoundStep::name)
            ),
            attempt: 1,
            elapsed: round
                .started_at
                .and_then(|at| now.since(at))
                .unwrap_or_default(),
            latest: latest_action(tree, &entry.id),
        });
    } else if let Some(due) = review.next_pass_due(now) {
        card.marks.push(Mark {
            kind: MarkKind::Note,
            text: format!("next pass {due}"),
        });
    }
    if queue::cancel_marker(entry).exists() {
        card.marks.push(Mark {
            kind: MarkKind::Waiting,
            text: "cancelling".into(),
        });
    }
}

/// A task's record, when it is there and readable (never through a link).
pub fn read_record(entry: &Entry) -> Option<Record> {
    let text = files::read_text(&entry.record_path(), TEXT_CAP)?;
    serde_json::from_str(&text).ok()
}

/// What the agent of a running task (or of a revision round) did last: its
/// latest tool call or words.
fn latest_action(tree: &Tree, id: &str) -> Option<String> {
    let attempt = transcript::latest_run(&tree.runs_dir(), id)?;
    let name = attempt.file_name()?.to_str()?.to_string();
    let dir = files::real_dir(&tree.runs_dir(), &[id, &name])?;
    let tail = files::read_tail(&dir.join("agent.jsonl"), 64 * 1024)?;
    tail.text
        .lines()
        .rev()
        .flat_map(|line| transcript::items(line).into_iter().rev())
        .find_map(|item| match item {
            Item::Tool { name, detail } => Some(format!("{name} {detail}").trim_end().to_string()),
            Item::Text(text) => Some(crate::agent::stream::excerpt(&text)),
            Item::Start { .. } => Some("started".into()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_a_column_in_the_queues_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        tree.ensure_runtime().expect("runtime");
        let now = Timestamp::parse("2026-11-20T12:00:00Z").expect("now");
        let board = read(&tree, now).expect("read");
        let states: Vec<State> = board.columns.iter().map(|c| c.state).collect();
        assert_eq!(states, State::ALL);
        assert!(State::ALL.iter().all(|s| !label(*s).is_empty()));
    }
}
