//! The order of work: one task at a time, or with `--jobs N` up to N at once on
//! threads of their own, never two whose targets may overlap. Between tasks,
//! `watch` makes the passes over open pull requests that are due (follow.rs)
//! and waits for file-system events or the next pass; a safety rescan backs off
//! exponentially.
use super::bus::Msg;
use super::dispatcher::{new_worker, Dispatcher};
use super::error::DispatchError;
use super::follow;
use super::worker::Finished;
use crate::progress::Progress;
use crate::queue::{Entry, Record};
use crate::task::targets::may_overlap;
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::Duration;

/// The first safety rescan of an idle `watch`; it doubles up to [`RESCAN_MAX`].
pub const RESCAN_FIRST: Duration = Duration::from_secs(75);
pub const RESCAN_MAX: Duration = Duration::from_secs(20 * 60);

/// One task at a time until the queue is empty (or one task, or a signal).
pub fn run_sequential(d: &mut Dispatcher) -> Result<(), DispatchError> {
    let mut rescan = RESCAN_FIRST;
    loop {
        d.check_signals();
        if d.summary.interrupted.is_some() || d.summary.halted.is_some() {
            return Ok(());
        }
        if d.opts.once
            && (d.summary.done.len() + d.summary.failed.len() + d.summary.review.len()) > 0
        {
            return Ok(());
        }
        if d.opts.watch {
            follow::follow(d, false, None)?;
            if d.summary.interrupted.is_some() {
                return Ok(());
            }
        }
        if let Some(pause) = d.paused() {
            if !d.opts.watch {
                return Ok(());
            }
            d.sleep_through(&pause);
            continue;
        }
        match d.scan()?.into_iter().next() {
            Some(ready) => {
                rescan = RESCAN_FIRST;
                if let Some((entry, record)) = d.claim(ready)? {
                    let finished = d.inline.process(entry, record)?;
                    d.absorb(finished);
                }
            }
            None if d.summary.halted.is_some() => return Ok(()),
            None if d.opts.watch => rescan = next_rescan(d, rescan),
            None if d.settle_young_files() => {}
            None => return Ok(()),
        }
    }
}

/// Wait for work or the next pass over an open pull request; the next safety
/// rescan interval (a wait cut short by a pass keeps it as it was).
fn next_rescan(d: &mut Dispatcher, rescan: Duration) -> Duration {
    let due = follow::next_due(d);
    if d.wait_for_work(due.map_or(rescan, |due| due.min(rescan))) {
        RESCAN_FIRST
    } else if due.is_some_and(|due| due < rescan) {
        rescan
    } else {
        (rescan * 2).min(RESCAN_MAX)
    }
}

/// `--jobs N`: up to N tasks at once, each on a thread of its own, never two
/// whose targets may overlap.
pub fn run_parallel(d: &mut Dispatcher, jobs: usize) -> Result<(), DispatchError> {
    let mut running: Vec<(String, Vec<String>)> = Vec::new();
    let mut started = 0usize;
    let mut rescan = RESCAN_FIRST;
    loop {
        // Signals arrive in the receive below, with the workers' reports: this
        // loop must never drain the channel elsewhere, or a report is lost.
        if d.opts.watch && d.summary.interrupted.is_none() {
            follow::follow(d, false, None)?;
        }
        let stop = d.summary.interrupted.is_some()
            || d.summary.halted.is_some()
            || (d.opts.once && started > 0);
        let pause = d.paused();
        if !stop && pause.is_none() && running.len() < jobs {
            for ready in d.scan()? {
                if running.len() >= jobs || (d.opts.once && started > 0) {
                    break;
                }
                let clash = running
                    .iter()
                    .any(|(_, targets)| may_overlap(targets, &ready.task.targets));
                if clash {
                    continue;
                }
                let targets = ready.task.targets.clone();
                let Some((entry, record)) = d.claim(ready)? else {
                    continue;
                };
                running.push((entry.id.clone(), targets));
                started += 1;
                let id = entry.id.clone();
                let report = move |result| Msg::WorkerDone { id, result };
                spawn_worker(d, entry, record, d.bus.tx.clone(), report)?;
            }
        }
        if running.is_empty() {
            if stop || d.summary.halted.is_some() {
                return Ok(());
            }
            if let Some(pause) = pause {
                if !d.opts.watch {
                    return Ok(());
                }
                d.sleep_through(&pause);
                continue;
            }
            if !d.opts.watch {
                if d.settle_young_files() {
                    continue;
                }
                return Ok(());
            }
            rescan = next_rescan(d, rescan);
            continue;
        }
        let next = if d.opts.watch {
            follow::next_due(d)
        } else {
            None
        };
        let received = match next {
            Some(due) => d.bus.rx.recv_timeout(due),
            None => d.bus.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Err(RecvTimeoutError::Timeout) => {} // a pass is due
            Ok(Msg::WorkerDone { id, result }) => {
                running.retain(|(r, _)| *r != id);
                match result {
                    Ok(finished) => d.absorb(finished),
                    Err(error) => {
                        d.progress.line(&format!("{id}: {error}"));
                        d.summary.failed.push((id, error));
                    }
                }
            }
            Ok(Msg::Signal(sig)) => d.summary.interrupted = Some(sig),
            Ok(Msg::QueueChanged { .. } | Msg::FleetChanged | Msg::Served { .. }) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

/// Run a claimed task on a thread of its own, which sends `report(result)` to
/// `main` when it is through.
pub fn spawn_worker(
    d: &Dispatcher,
    entry: Entry,
    record: Record,
    main: Sender<Msg>,
    report: impl FnOnce(Result<Finished, String>) -> Msg + Send + 'static,
) -> Result<(), DispatchError> {
    let root = d.ws.tree.repo_root.clone();
    let (signals, settings, forge) = (d.signals.clone(), d.settings.clone(), d.forge.clone());
    let agent_override = d.agent_override.clone();
    let label = d.opts.label.clone();
    let id = entry.id.clone();
    std::thread::Builder::new()
        .name(format!("task {id}"))
        .spawn(move || {
            // A worker that panics still reports, so the dispatcher never waits
            // for a thread that is gone.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut worker = new_worker(
                    &root,
                    &signals,
                    settings,
                    forge,
                    Progress::lines().labelled(label.as_deref()),
                    agent_override,
                )?;
                worker.process(entry, record)
            }))
            .map_err(|_| "the worker stopped unexpectedly (a bug; please report it)".to_string())
            .and_then(|result| result.map_err(|e| e.to_string()));
            let _ = main.send(report(result));
        })
        .map_err(DispatchError::Thread)?;
    Ok(())
}
