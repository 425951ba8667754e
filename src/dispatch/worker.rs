//! The worker: walks one claimed task through the pipeline's steps, in order,
//! skipping those its journal has, journalling each one done (and stopping at
//! its fault point in tests). One in the dispatcher's thread, and one per task
//! running on a thread of its own with `--jobs N`.
use super::error::DispatchError;
use crate::agent::{self, runner::Launcher};
use crate::forge::LazyForge;
use crate::pipeline::{self, finish, Settings, Step, StepOutcome, TaskRun, CANCELLED};
use crate::progress::Progress;
use crate::queue::{Entry, Record};
use crate::schedule::limits::Limit;
use crate::task;
use crate::workspace::Workspace;
use std::sync::Arc;

/// How one task ended, as a worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    Done(String),
    /// Published: in review/ while its pull request (the URL) is open.
    Review(String, String),
    Failed(String, String),
    Interrupted(i32),
    /// It ran into a usage or rate limit: back in todo/, the queue paused
    /// (`paused until 03:00 (usage limit)`).
    Paused(String, String),
}

pub struct Worker {
    pub ws: Workspace,
    pub(super) settings: Arc<Settings>,
    pub(super) forge: Arc<LazyForge>,
    pub(super) launcher: Box<dyn Launcher>,
    pub(super) progress: Progress,
    /// The agent command for every task (`AGENTOS_AGENT_CMD` or the demo's).
    agent_override: Option<String>,
}

impl Worker {
    pub fn new(
        ws: Workspace,
        settings: Arc<Settings>,
        forge: Arc<LazyForge>,
        launcher: Box<dyn Launcher>,
        progress: Progress,
        agent_override: Option<String>,
    ) -> Worker {
        Worker {
            ws,
            settings,
            forge,
            launcher,
            progress,
            agent_override,
        }
    }

    /// Walk one claimed task through its steps, from the first one not done.
    pub fn process(&mut self, entry: Entry, record: Record) -> Result<Finished, DispatchError> {
        let span = tracing::info_span!("task", id = %entry.id, attempt = record.attempt);
        let _entered = span.enter();
        let (task, agent) = match self.load(&entry, &record) {
            Ok(loaded) => loaded,
            Err(reason) => return self.fail(entry, record, &reason),
        };
        let worktree = self.ws.tree.worktrees_dir().join(&entry.id);
        if !record.history.is_empty() {
            // A resume: a killed dispatcher may have left git's lock files behind.
            for lock in self.ws.repo.clear_stale_locks(&entry.id, &worktree) {
                self.progress.line(&format!(
                    "{}: removed {}, left by the dispatcher that died",
                    entry.id,
                    lock.display()
                ));
            }
        }
        let mut run = TaskRun {
            ws: &self.ws,
            entry,
            record,
            task,
            agent,
            worktree,
            settings: &self.settings,
            forge: &self.forge,
            launcher: self.launcher.as_mut(),
            progress: &mut self.progress,
        };
        for step in Step::ALL {
            if run.record.has(step) {
                continue;
            }
            // A task whose file was deleted fails (the run goes on with the next).
            if std::fs::symlink_metadata(&run.entry.path).is_err() {
                let reason = finish::deleted(run.ws, &run.entry, step);
                return fail_run(run, &reason);
            }
            // A cancelled task stops before its next step (up to publishing).
            let cancellable = !matches!(step, Step::Claim | Step::Preflight | Step::Finish);
            if cancellable && run.cancel_requested() {
                return fail_run(run, CANCELLED);
            }
            if step == Step::Finish {
                crate::fault::point("before-finish");
            }
            let outcome = {
                let _step = tracing::info_span!("step", step = step.name()).entered();
                tracing::debug!("started");
                pipeline::run_step(step, &mut run)?
            };
            match outcome {
                StepOutcome::Done if step == Step::Finish => break,
                StepOutcome::Done => {
                    run.record.mark(step);
                    run.save()?;
                    tracing::info!(step = step.name(), "done");
                    if let Some(point) = step.fault_after() {
                        crate::fault::point(point);
                    }
                }
                StepOutcome::Failed(reason) => return fail_run(run, &reason),
                StepOutcome::Paused(limit) => return requeue_run(run, &limit),
                StepOutcome::Interrupted(sig) => {
                    run.record.interrupted = true;
                    run.save()?;
                    run.say(&format!(
                        "stopped by signal {sig}; the next `run` resumes it"
                    ));
                    return Ok(Finished::Interrupted(sig));
                }
            }
        }
        if let Some(url) = run.record.review.as_ref().map(|r| r.url.clone()) {
            return Ok(Finished::Review(run.entry.id, url));
        }
        Ok(Finished::Done(run.entry.id))
    }

    /// The task file (read and checked again) and its agent's settings; what
    /// is wrong when either cannot be had.
    pub(super) fn load(
        &self,
        entry: &Entry,
        record: &Record,
    ) -> Result<(task::Task, agent::config::AgentConfig), String> {
        let task = task::load(&entry.path)
            .map_err(|e| format!("the claimed task file cannot be read: {e}"))?;
        task::validate(&task)
            .map_err(|problem| format!("{}: {problem}", self.ws.rel(&entry.path)))?;
        let agent =
            agent::config::load(&self.ws.tree, &record.agent, self.agent_override.as_deref())
                .map_err(|e| format!("preflight: {e}"))?;
        Ok((task, agent))
    }

    /// Fail a claimed task (to failed/, with its reason).
    pub fn fail(
        &self,
        entry: Entry,
        record: Record,
        reason: &str,
    ) -> Result<Finished, DispatchError> {
        finish::fail(
            &self.ws,
            &entry,
            record,
            reason,
            None,
            self.settings.keep,
            &self.progress,
        )?;
        Ok(Finished::Failed(entry.id, reason.to_string()))
    }

    /// Write a task's record durably.
    pub fn save(&self, entry: &Entry, record: &Record) -> Result<(), DispatchError> {
        let path = entry.record_path();
        crate::queue::write_record(&path, record)
            .map_err(|e| crate::path_error::PathError::new("write", &path, e))?;
        Ok(())
    }
}

fn requeue_run(run: TaskRun, limit: &Limit) -> Result<Finished, DispatchError> {
    let pause = finish::requeue(
        run.ws,
        &run.entry,
        run.record,
        &run.task,
        limit,
        run.settings.keep,
        run.progress,
    )?;
    let describe = pause.describe(crate::clock::now());
    Ok(Finished::Paused(run.entry.id, describe))
}

fn fail_run(run: TaskRun, reason: &str) -> Result<Finished, DispatchError> {
    finish::fail(
        run.ws,
        &run.entry,
        run.record,
        reason,
        Some(&run.task),
        run.settings.keep,
        run.progress,
    )?;
    Ok(Finished::Failed(run.entry.id, reason.to_string()))
}

#[cfg(test)]
mod tests;
