//! One pass over the open pull request of a task in review/: read it through
//! the forge (conditional requests, the ETags kept in `runs/<id>/github-cache.json`),
//! then act on what events.rs found: settle a merged or closed pull request,
//! apply the commands people gave (`stop`, `retry`, `targets:`), keep the
//! comments only shown, and start a round for the events not answered yet,
//! unless rounds are held or ran out (then one comment and the label
//! `agentos:needs-human`). The pass sets when the next one is due.
use super::events::{self, Command, Control, Decision, NEEDS_HUMAN};
use super::{forge, note_retries, review, schedule, settle};
use crate::clock::Timestamp;
use crate::forge::{Conditional, Forge};
use crate::friction;
use crate::pipeline::TaskRun;
use crate::queue::review::{Phase, Round};
use crate::queue::{self, QueueError};
use std::path::PathBuf;
use std::time::Duration;

/// The most comments kept as "shown, not acted on".
const IGNORED_KEPT: usize = 20;

/// What a pass came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passed {
    /// Nothing to do now; the record says what the pull request waits for.
    Quiet,
    /// A round was started (in the record); the dispatcher runs it now.
    Round,
    /// Merged: the task is in done/.
    Merged,
    /// Closed without merging: the task is in failed/, with this reason.
    Closed(String),
}

/// Where a task's ETags and the answers they stand for are kept.
pub fn cache_path(run: &TaskRun) -> PathBuf {
    run.ws
        .tree
        .runs_dir()
        .join(&run.entry.id)
        .join("github-cache.json")
}

/// One pass. `me` is the token's user, asked once per dispatcher.
pub fn run(run: &mut TaskRun, me: &mut Option<String>) -> Result<Passed, QueueError> {
    let now = Timestamp::now();
    let config = match crate::config::load(&run.ws.tree) {
        Ok(c) => c,
        Err(e) => return failed(run, &e.to_string(), None, now),
    };
    let forge = match forge(run, &config) {
        Ok(f) => f,
        Err(e) => return failed(run, &e, None, now),
    };
    let login = match me.clone() {
        Some(login) => login,
        None => {
            let path = run.ws.tree.runs_dir().join("github-user.json");
            let mut cache = Conditional::load(&path);
            match forge.me(&mut cache) {
                Ok(login) => {
                    if cache.charged > 0 {
                        let _ = cache.save(&path);
                    }
                    *me = Some(login.clone());
                    login
                }
                Err(e) => return failed(run, &e.message, e.retry_after, now),
            }
        }
    };
    let number = review(run).number;
    let path = cache_path(run);
    let mut cache = Conditional::load(&path);
    let read = forge.read_pull(number, &mut cache);
    note_retries(run, forge.as_ref());
    let snap = match read {
        Ok(snap) => snap,
        Err(e) => return failed(run, &e.message, e.retry_after, now),
    };
    if snap.charged > 0 {
        if let Err(e) = cache.save(&path) {
            tracing::warn!("cannot keep the ETags in {}: {e}", path.display());
        }
    }
    tracing::debug!(
        number,
        charged = snap.charged,
        not_modified = snap.not_modified,
        "pass"
    );
    let r = review(run);
    r.last_error = None;
    r.passes += 1;
    r.last_pass = Some(now);
    r.head = Some(snap.pull.head.sha.clone()).filter(|s| !s.is_empty());
    let decision = events::decide(&snap, r, &config.review, &login);
    match &decision.settled {
        Some(events::Settled::Merged { commit, by }) => {
            settle::merged(run, commit.clone(), by.clone())?;
            return Ok(Passed::Merged);
        }
        Some(events::Settled::Closed) => {
            let by = forge.closed_by(number).ok().flatten();
            let reason = settle::closed(run, by)?;
            return Ok(Passed::Closed(reason));
        }
        None => {}
    }
    if let Err(e) = super::restack::run(run, forge.as_ref())? {
        restack_failed(run, &e);
    }
    let commanded = !decision.controls.is_empty();
    for control in &decision.controls {
        apply(run, forge.as_ref(), control)?;
    }
    for (_, ignored) in &decision.ignored {
        run.say(&format!(
            "a comment from @{} ({}, no write access) is shown, not acted on: {}",
            ignored.by, ignored.association, ignored.text
        ));
    }
    let r = review(run);
    for (key, ignored) in &decision.ignored {
        r.answer(key);
        r.ignored.push(ignored.clone());
    }
    let overflow = r.ignored.len().saturating_sub(IGNORED_KEPT);
    r.ignored.drain(..overflow);
    let max = config.review.max_rounds;
    let held = held_by(&decision, r.stopped_by.as_deref());
    let started = if decision.events.is_empty() {
        r.phase = quiet_phase(&decision, held);
        false
    } else if let Some(why) = held {
        r.phase = Phase::Held { why };
        false
    } else if r.rounds_in_window() >= max {
        exhausted(run, forge.as_ref(), &decision, max)?;
        false
    } else {
        let round = Round {
            number: r.rounds + 1,
            of: (r.rounds_in_window() + 1, max),
            events: decision.events.clone(),
            started_at: Some(now),
            base_branch: snap.pull.base.name.clone(),
            ..Round::default()
        };
        let line = format!(
            "pull request #{number}: round {} of {max} answering {}",
            round.of.0,
            round.answering()
        );
        r.phase = Phase::Round {
            round: round.of.0,
            of: max,
            answering: round.answering(),
        };
        r.round = Some(round);
        run.say(&line);
        true
    };
    let r = review(run);
    schedule::after_pass(r, snap.changed || commanded, now);
    if decision.mergeability_unknown {
        // GitHub computes it on the first read after a push: look again soon.
        schedule::after_push(r, now);
    }
    run.save()?;
    Ok(if started {
        Passed::Round
    } else {
        Passed::Quiet
    })
}

/// A pass that could not read the pull request: said in the record (and once
/// in the friction log while it lasts), the next pass backed off or put after
/// the rate limit GitHub asked for.
fn failed(
    run: &mut TaskRun,
    message: &str,
    retry_after: Option<u64>,
    now: Timestamp,
) -> Result<Passed, QueueError> {
    let message = crate::forge::redact(message);
    let r = review(run);
    let first = r.last_error.is_none();
    r.last_error = Some(message.clone());
    r.passes += 1;
    r.last_pass = Some(now);
    match retry_after {
        Some(secs) => schedule::wait_at_least(r, Duration::from_secs(secs), now),
        None => schedule::after_pass(r, false, now),
    }
    if first {
        friction::note(
            &run.ws.tree,
            friction::Event::new("review-pass-failed", "review", &message)
                .task(&run.entry.id, run.record.attempt),
        );
    }
    run.say(&format!("cannot read its pull request: {message}"));
    run.save()?;
    Ok(Passed::Quiet)
}

/// Moving a stacked branch failed: said, friction the first time, and tried
/// again at the next pass.
fn restack_failed(run: &mut TaskRun, message: &str) {
    let r = review(run);
    let first = r.last_error.as_deref() != Some(message);
    r.last_error = Some(message.to_string());
    if first {
        friction::note(
            &run.ws.tree,
            friction::Event::new("restack-failed", "review", message)
                .task(&run.entry.id, run.record.attempt),
        );
    }
    run.say(&format!("cannot move it onto its base branch: {message}"));
}

/// Why rounds are held, if they are.
fn held_by(decision: &Decision, stopped_by: Option<&str>) -> Option<String> {
    if decision.on_hold {
        Some(format!(
            "the label `{}` is on the pull request",
            events::HOLD
        ))
    } else {
        stopped_by.map(|by| format!("@{by} said `stop`; a comment `retry` starts rounds again"))
    }
}

/// What the pull request waits for when nothing asks for a round.
fn quiet_phase(decision: &Decision, held: Option<String>) -> Phase {
    if let Some(why) = held {
        Phase::Held { why }
    } else if !decision.running.is_empty() {
        Phase::ChecksRunning {
            names: decision.running.clone(),
        }
    } else if decision.mergeability_unknown {
        Phase::CheckingMergeability
    } else if !decision.approved_by.is_empty() {
        Phase::Approved {
            by: decision.approved_by.clone(),
        }
    } else {
        Phase::WaitingForReview
    }
}

/// Apply one comment's commands, once.
fn apply(run: &mut TaskRun, forge: &dyn Forge, control: &Control) -> Result<(), QueueError> {
    let number = review(run).number;
    for command in &control.commands {
        match command {
            Command::Stop => {
                review(run).stopped_by = Some(control.by.clone());
                run.say(&format!("@{} stopped the rounds", control.by));
            }
            Command::Retry => {
                let r = review(run);
                r.stopped_by = None;
                r.window_start = r.rounds;
                if std::mem::take(&mut r.needs_human) {
                    if let Err(e) = forge.remove_label(number, NEEDS_HUMAN) {
                        run.say(&format!("cannot remove the label `{NEEDS_HUMAN}`: {e}"));
                    }
                }
                run.say(&format!("@{} allowed more rounds", control.by));
            }
            Command::Targets(paths) => widen(run, paths, &control.by)?,
        }
    }
    review(run).answer(&control.key);
    Ok(())
}

/// `@agentos targets: PATH…` from someone with write access: the targets grow,
/// and the task file (through the queue) records it.
fn widen(run: &mut TaskRun, paths: &[String], by: &str) -> Result<(), QueueError> {
    let mut added = Vec::new();
    for path in paths {
        match crate::task::check_target(path) {
            Ok(()) if !run.task.targets.contains(path) => {
                run.task.targets.push(path.clone());
                added.push(path.clone());
            }
            Ok(()) => {}
            Err(problem) => run.say(&format!(
                "@{by} asked for the target `{path}`, which is refused: {problem}"
            )),
        }
    }
    if added.is_empty() {
        return Ok(());
    }
    queue::rewrite(&run.entry, &run.task)?;
    let r = review(run);
    for path in &added {
        r.widened.push(format!("{path} by @{by}"));
    }
    run.say(&format!("@{by} widened the targets: {}", added.join(", ")));
    Ok(())
}

/// The rounds ran out and something asks for another: once per window, a
/// comment and the label `agentos:needs-human`, and friction.
fn exhausted(
    run: &mut TaskRun,
    forge: &dyn Forge,
    decision: &Decision,
    max: u32,
) -> Result<(), QueueError> {
    let id = run.entry.id.clone();
    let r = review(run);
    let (number, rounds, window) = (r.number, r.rounds, r.window_start);
    r.phase = Phase::NeedsPerson { rounds: max };
    if r.needs_human {
        return Ok(());
    }
    let waiting =
        crate::queue::review::join_titles(decision.events.iter().map(|e| e.title.as_str()));
    let marker = format!("<!-- agentos:needs-human {id} after round {rounds} -->");
    let body = format!(
        "{marker}\n**git agentos** has made {max} revision rounds on this pull request since it was last told to go on, the most it makes on its own (`max_rounds` in the `[review]` section of `.agentos/config.toml`). It will not answer {waiting} by itself: a person should look. Comment `@agentos retry` to allow {max} more rounds.\n"
    );
    let mut cache = Conditional::load(&cache_path(run));
    let posted = match forge.find_comment(number, &marker, &mut cache) {
        Ok(Some(_)) => Ok(()),
        _ => forge.comment(number, &body).map(|_| ()),
    };
    let labelled = posted.and_then(|_| forge.add_labels(number, &[NEEDS_HUMAN.to_string()]));
    if let Err(e) = labelled {
        // Tried again at the next pass.
        run.say(&format!(
            "cannot ask for a person on pull request #{number}: {e}"
        ));
        return Ok(());
    }
    review(run).needs_human = true;
    friction::note(
        &run.ws.tree,
        friction::Event::new(
            "review-rounds-exhausted",
            "review",
            &format!(
                "{max} rounds made (rounds {}-{rounds}); {waiting} left for a person",
                window + 1
            ),
        )
        .task(&id, run.record.attempt),
    );
    let event = crate::notify::Event::about_task(
        &run.ws.tree,
        None,
        crate::notify::Kind::NeedsHuman,
        &id,
        Some(&format!(
            "{max} review rounds made; {waiting} left for a person"
        )),
    );
    crate::notify::emit(&run.ws.tree, &event);
    run.say(&format!(
        "pull request #{number}: {max} rounds made; labelled `{NEEDS_HUMAN}`, waiting for a person"
    ));
    Ok(())
}
