//! Resuming after a crash: every task in doing/ belongs to a dispatcher that is
//! gone (this one holds the lock), so each is resumed at its first step not done,
//! as a new attempt; a task whose dispatcher died too often fails with its history.
//! A task whose dispatcher is still alive (its lock file was deleted) is left alone.
use super::dispatcher::Dispatcher;
use super::error::DispatchError;
use super::lock::is_other_live_dispatcher;
use crate::clock::Timestamp;
use crate::friction;
use crate::path_error::PathError;
use crate::queue::{self, Record, State, Step};

/// After this many attempts (crashes, not clean stops) a task fails with its history.
pub const MAX_ATTEMPTS: u32 = 3;

pub fn resume_orphans(d: &mut Dispatcher) -> Result<(), DispatchError> {
    sweep_lone_records(d)?;
    let tree = d.ws.tree.clone();
    let doing = tree.state_dir(State::Doing);
    let orphans = queue::entries(&tree, State::Doing).map_err(PathError::at("read", &doing))?;
    for entry in orphans {
        if d.summary.interrupted.is_some() {
            break;
        }
        let record = queue::read_record(&entry.record_path()).ok().flatten();
        // Its dispatcher is alive (its lock file was deleted, so this one got
        // in): the task is not an orphan, and is left alone.
        if let Some(pid) = record
            .as_ref()
            .map(|r| r.pid)
            .filter(|pid| is_other_live_dispatcher(*pid))
        {
            d.progress.line(&format!(
                "{}: still run by the dispatcher pid {pid}; left alone",
                entry.id
            ));
            continue;
        }
        let mut record = match record {
            // Claimed, but the dispatcher died before the record was written.
            None => {
                let mut r = Record {
                    id: entry.id.clone(),
                    agent: "default".into(),
                    attempt: 1,
                    claimed_at: Some(Timestamp::now()),
                    ..Record::default()
                };
                r.mark(Step::Claim);
                r
            }
            Some(mut r) => {
                let last = r.last_step().map_or("none", Step::name);
                if r.interrupted {
                    r.history.push(format!(
                        "attempt {} was stopped by a signal after step {last}",
                        r.attempt
                    ));
                    r.interrupted = false;
                } else {
                    r.history.push(format!(
                        "attempt {} (pid {}) died after step {last}",
                        r.attempt, r.pid
                    ));
                    friction::note(
                        &tree,
                        friction::Event::new(
                            "resume",
                            r.first_pending().name(),
                            &format!(
                                "the dispatcher (pid {}) died after step {last}; resumed",
                                r.pid
                            ),
                        )
                        .task(&entry.id, r.attempt),
                    );
                    r.attempt += 1;
                }
                r
            }
        };
        record.pid = std::process::id();
        d.progress.line(&format!(
            "{}: resuming (attempt {})",
            entry.id, record.attempt
        ));
        let finished = if record.attempt > MAX_ATTEMPTS {
            let history = record.history.join("; ");
            let reason = format!("gave up after {MAX_ATTEMPTS} attempts: {history}");
            d.inline.fail(entry, record, &reason)?
        } else {
            d.inline.save(&entry, &record)?;
            d.inline.process(entry, record)?
        };
        d.absorb(finished);
    }
    Ok(())
}

/// Records left in doing/ without their task file (deleted while a dispatcher
/// that died ran it, or a finish cut short after the file moved) never stay
/// there: one whose task is done or failed is removed; any other task fails.
fn sweep_lone_records(d: &mut Dispatcher) -> Result<(), DispatchError> {
    let tree = d.ws.tree.clone();
    let doing = tree.state_dir(State::Doing);
    let Ok(names) = std::fs::read_dir(&doing) else {
        return Ok(());
    };
    for name in names
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
    {
        let Some(id) = name.strip_suffix(".record.json") else {
            continue;
        };
        let entry = queue::Entry {
            id: id.to_string(),
            state: State::Doing,
            path: doing.join(format!("{id}.md")),
            folder_agent: None,
        };
        if std::fs::symlink_metadata(&entry.path).is_ok() {
            continue;
        }
        let finished = queue::find(&tree, id)
            .ok()
            .flatten()
            .is_some_and(|e| matches!(e.state, State::Done | State::Failed));
        if finished {
            let record = entry.record_path();
            std::fs::remove_file(&record).map_err(PathError::at("remove", &record))?;
            continue;
        }
        let mut record = queue::read_record(&entry.record_path())
            .ok()
            .flatten()
            .unwrap_or_default();
        record.id = entry.id.clone();
        let reason = crate::pipeline::finish::deleted(&d.ws, &entry, record.first_pending());
        let failed = d.inline.fail(entry, record, &reason)?;
        d.absorb(failed);
    }
    Ok(())
}
