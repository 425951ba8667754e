//! Following the open pull requests of the tasks in review/: `watch` makes each
//! task's pass when it is due (and none at all while review/ is empty, so it
//! sends no request and spends no CPU), `sync` makes one pass over each now.
//! A pass that starts a revision round runs it here, step by step, through the
//! pipeline's round steps, journalling each as the worker does a task's; a
//! round a dead dispatcher left half done is resumed at its first step not
//! done, and after three such deaths it stops (and still replies).
use super::dispatcher::Dispatcher;
use super::error::DispatchError;
use super::resume::MAX_ATTEMPTS;
use super::worker::Worker;
use crate::clock::Timestamp;
use crate::friction;
use crate::path_error::PathError;
use crate::pipeline::review::{self, pass, round, schedule, Outcome, RoundStep};
use crate::pipeline::{finish, TaskRun, CANCELLED};
use crate::queue::{self, Entry, State};
use std::time::Duration;

/// How following one task went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followed {
    /// Its pass is not due.
    NotDue,
    /// Still open: what it waits for.
    Open(String),
    Merged,
    /// Closed without merging, or cancelled: in failed/, with the reason.
    Failed(String),
    Interrupted(i32),
}

/// Follow the tasks in review/: those whose pass is due, or (`force`, for
/// `sync`) every one, or only `only`. Nothing with `--no-pr`. (Signals are
/// read where the dispatcher waits: draining the bus here could lose a
/// worker's report.)
pub fn follow(d: &mut Dispatcher, force: bool, only: Option<&str>) -> Result<(), DispatchError> {
    if d.opts.no_pr {
        return Ok(());
    }
    let entries = in_stack_order(reviews(d)?);
    // The state is checked as before a claim: a round writes to the task's
    // runs/ folder, which is checked whole before its pass.
    if entries.is_empty() || !d.may_claim() {
        return Ok(());
    }
    for entry in entries {
        if only.is_some_and(|id| id != entry.id) {
            continue;
        }
        if d.summary.interrupted.is_some() || !d.task_runs_safe(&entry.id) {
            return Ok(());
        }
        let id = entry.id.clone();
        let mut me = d.me.take();
        let followed = d.inline.follow(entry, force, &mut me);
        d.me = me;
        match followed? {
            Followed::NotDue => {}
            Followed::Open(phase) => d.summary.review.push((id, phase)),
            Followed::Merged => {
                d.notify_task(crate::notify::Kind::TaskDone, &id, None);
                d.summary.done.push(id)
            }
            Followed::Failed(reason) => {
                d.notify_task(crate::notify::Kind::TaskFailed, &id, Some(&reason));
                d.summary.failed.push((id, reason))
            }
            Followed::Interrupted(sig) => d.summary.interrupted = Some(sig),
        }
    }
    Ok(())
}

/// How long until the next pass is due; None while review/ is empty (then no
/// timer wakes the dispatcher for it).
pub fn next_due(d: &Dispatcher) -> Option<Duration> {
    if d.opts.no_pr {
        return None;
    }
    let now = Timestamp::now();
    reviews(d)
        .ok()?
        .iter()
        .filter_map(|e| queue::read_record(&e.record_path()).ok().flatten())
        .filter_map(|r| r.review)
        .map(|r| schedule::due_in(&r, now))
        .min()
}

/// Tasks stacked on another one after the rest, so a dependency that merged
/// in this pass moves the pull requests stacked on it in the same one.
fn in_stack_order(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by_cached_key(|e| {
        queue::read_record(&e.record_path())
            .ok()
            .flatten()
            .is_some_and(|r| r.stack_base.is_some())
    });
    entries
}

fn reviews(d: &Dispatcher) -> Result<Vec<Entry>, DispatchError> {
    let dir = d.ws.tree.state_dir(State::Review);
    Ok(queue::entries(&d.ws.tree, State::Review).map_err(PathError::at("read", &dir))?)
}

impl Worker {
    /// Follow one task in review/: resume its round, or make its pass when it
    /// is due (now, with `force`) and run the round the pass starts.
    pub fn follow(
        &mut self,
        entry: Entry,
        force: bool,
        me: &mut Option<String>,
    ) -> Result<Followed, DispatchError> {
        let span = tracing::info_span!("review", id = %entry.id);
        let _entered = span.enter();
        let Some(mut record) = queue::read_record(&entry.record_path()).ok().flatten() else {
            return Ok(Followed::NotDue); // no record: nothing to follow it by
        };
        let now = Timestamp::now();
        let resumed = record.pid != std::process::id();
        let in_round = record.review.as_ref().is_some_and(|r| r.round.is_some());
        let due = record
            .review
            .as_ref()
            .is_none_or(|r| schedule::due_in(r, now).is_zero());
        let go = force || due || (in_round && resumed);
        if !go {
            return Ok(Followed::NotDue);
        }
        record.pid = std::process::id();
        let (task, agent) = match self.load(&entry, &record) {
            Ok(loaded) => loaded,
            Err(reason) => {
                // Said, and not tried again before the next pass would be due.
                self.progress.line(&format!("{}: {reason}", entry.id));
                let review = review_of(&mut record);
                schedule::after_pass(review, false, now);
                self.save(&entry, &record)?;
                return Ok(Followed::Open(reason));
            }
        };
        let mut run = TaskRun {
            ws: &self.ws,
            worktree: self.ws.tree.worktrees_dir().join(&entry.id),
            entry,
            record,
            task,
            agent,
            settings: &self.settings,
            forge: &self.forge,
            launcher: self.launcher.as_mut(),
            progress: &mut self.progress,
        };
        if run.cancel_requested() {
            return cancel(run);
        }
        if in_round {
            note_resume(&mut run, resumed);
        } else {
            match pass::run(&mut run, me)? {
                pass::Passed::Quiet => return Ok(Followed::Open(phase(&run))),
                pass::Passed::Merged => return Ok(Followed::Merged),
                pass::Passed::Closed(reason) => return Ok(Followed::Failed(reason)),
                pass::Passed::Round => {}
            }
        }
        run_round(run)
    }
}

/// What the pull request waits for, in words.
fn phase(run: &TaskRun) -> String {
    run.record
        .review
        .as_ref()
        .map(|r| r.phase.describe())
        .unwrap_or_default()
}

fn review_of(record: &mut queue::Record) -> &mut queue::review::Review {
    let (number, url) = (record.pr_number.unwrap_or_default(), record.pr_url.clone());
    record
        .review
        .get_or_insert_with(|| queue::review::Review::new(number, &url.unwrap_or_default()))
}

/// A round found half done: a dead dispatcher's (counted; after three the
/// round stops) or one stopped cleanly by a signal (not counted).
fn note_resume(run: &mut TaskRun, resumed: bool) {
    if !resumed {
        return;
    }
    if std::mem::take(&mut run.record.interrupted) {
        return;
    }
    let r = round(run);
    r.resumes += 1;
    let (resumes, number, step) = (
        r.resumes,
        r.number,
        r.first_pending().map_or("close", RoundStep::name),
    );
    friction::note(
        &run.ws.tree,
        friction::Event::new(
            "resume",
            &format!("round-{step}"),
            &format!("the dispatcher died during round {number}; resumed at its {step} step"),
        )
        .task(&run.entry.id, run.record.attempt),
    );
    if resumes >= MAX_ATTEMPTS && round(run).stopped.is_none() {
        round(run).stopped = Some(format!(
            "the dispatcher died {resumes} times during this round"
        ));
    }
    run.say(&format!("resuming round {number} at its {step} step"));
}

/// Walk the round in progress through its steps, from the first not done.
fn run_round(mut run: TaskRun) -> Result<Followed, DispatchError> {
    loop {
        if run.cancel_requested() {
            return cancel(run);
        }
        let Some(step) = round(&mut run).first_pending() else {
            break;
        };
        if round(&mut run).stopped.is_some() && step != RoundStep::Reply {
            round(&mut run).mark(step); // a stopped round goes straight to its reply
            continue;
        }
        let outcome = {
            let _step = tracing::info_span!("round step", step = step.name()).entered();
            review::run_step(step, &mut run)?
        };
        match outcome {
            Outcome::Done => {
                round(&mut run).mark(step);
                run.save()?;
                tracing::info!(step = step.name(), "done");
                crate::fault::point(step.fault_after());
            }
            Outcome::Stop(reason) => {
                if run.cancel_requested() {
                    return cancel(run);
                }
                let number = round(&mut run).number;
                friction::note(
                    &run.ws.tree,
                    friction::Event::new(
                        "review-round-failed",
                        &format!("round-{}", step.name()),
                        &reason,
                    )
                    .task(&run.entry.id, run.record.attempt),
                );
                run.say(&format!("round {number} stopped: {reason}"));
                let r = round(&mut run);
                r.stopped = Some(reason);
                r.mark(step);
                run.save()?;
            }
            Outcome::Redo => {}
            Outcome::Later(reason) => {
                run.say(&format!("round waits for the next pass: {reason}"));
                schedule::after_pass(review::review(&mut run), false, Timestamp::now());
                run.save()?;
                return Ok(Followed::Open(reason));
            }
            Outcome::Interrupted(sig) => {
                run.record.interrupted = true;
                run.save()?;
                run.say(&format!(
                    "stopped by signal {sig}; the next dispatcher resumes the round"
                ));
                return Ok(Followed::Interrupted(sig));
            }
        }
    }
    review::close_round(&mut run);
    run.save()?;
    Ok(Followed::Open(phase(&run)))
}

/// `git agentos cancel` on a task in review/: to failed/, its pull request
/// left as it is.
fn cancel(run: TaskRun) -> Result<Followed, DispatchError> {
    let reason = format!(
        "{CANCELLED} while its pull request was open ({}; left as it is)",
        run.record.pr_url.as_deref().unwrap_or("?")
    );
    finish::fail(
        run.ws,
        &run.entry,
        run.record,
        &reason,
        Some(&run.task),
        run.settings.keep,
        run.progress,
    )?;
    Ok(Followed::Failed(reason))
}
