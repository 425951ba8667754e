//! The agent step: the prompt written to the attempt's run folder, the agent run
//! in the worktree through the dispatcher's [`Launcher`], its process group, its
//! actions and its writes recorded as they happen. An earlier attempt's agent is
//! ended first, and the worktree reset to the base.
use super::{StepOutcome, TaskRun, CANCELLED};
use crate::agent::runner::{Launch, Observer, Outcome};
use crate::friction;
use crate::path_error::PathError;
use crate::progress::Progress;
use crate::queue::{self, Entry, QueueError, Record, Tree};
use std::time::Duration;

pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    let base = match run.base() {
        Ok(base) => base,
        Err(failed) => return Ok(failed),
    };
    let id = run.entry.id.clone();
    // An earlier attempt started an agent: make sure it is gone, and start over
    // from a worktree reset to the base commit.
    let ready = if let Some(pgid) = run.record.agent_pgid.take() {
        if crate::agent::process::end_stray_group(pgid, &id) {
            run.say(&format!(
                "ended the agent of an earlier attempt (process group {pgid})"
            ));
        }
        run.record.agent_writes.clear();
        run.ws
            .repo
            .fresh_worktree(&id, &base, &run.worktree, crate::git::Branch::Reset)
    } else {
        run.ws
            .repo
            .ensure_worktree(&id, &base, &run.worktree)
            .map(|_| ())
    };
    if let Err(e) = ready {
        return Ok(StepOutcome::Failed(format!("worktree: {e}")));
    }
    let run_dir = run.run_dir()?;
    let prompt = crate::agent::prompt::compose(
        &run.agent.instructions,
        &run.task,
        &id,
        &base,
        &run.worktree,
        run.agent.memory && run.agent.is_claude,
    );
    let prompt_path = run_dir.join("prompt.md");
    std::fs::write(&prompt_path, &prompt).map_err(PathError::at("write", &prompt_path))?;
    let timeout = match &run.task.timeout {
        Some(t) => crate::task::parse_duration(t).unwrap_or(run.agent.timeout),
        None => run.agent.timeout,
    };
    let launch = Launch {
        config: &run.agent,
        task_id: &id,
        task_file: &run.entry.path,
        worktree: &run.worktree,
        prompt: &prompt,
        run_dir: &run_dir,
        timeout,
    };
    run.progress.agent_running(&id);
    let outcome = {
        let mut observer = RecordingObserver {
            tree: &run.ws.tree,
            entry: &run.entry,
            record: &mut run.record,
            progress: &*run.progress,
        };
        run.launcher.launch(&launch, &mut observer)
    };
    run.progress.agent_stopped();
    run.record.agent_pgid = None;
    Ok(match outcome {
        Outcome::Succeeded(result) => {
            run.say(&format!("agent finished ({})", result.describe()));
            run.record.agent_result = Some(result);
            StepOutcome::Done
        }
        Outcome::Failed { reason, result } => {
            run.record.agent_result = result;
            if run.cancel_requested() {
                StepOutcome::Failed(CANCELLED.into())
            } else {
                StepOutcome::Failed(reason)
            }
        }
        Outcome::Interrupted(sig) => StepOutcome::Interrupted(sig),
    })
}

/// Records the agent's process group the moment it exists, and what it writes.
struct RecordingObserver<'a> {
    tree: &'a Tree,
    entry: &'a Entry,
    record: &'a mut Record,
    progress: &'a Progress,
}

impl Observer for RecordingObserver<'_> {
    fn spawned(&mut self, pgid: i32) {
        self.record.agent_pgid = Some(pgid);
        if let Err(e) = queue::write_record(&self.entry.record_path(), self.record) {
            tracing::warn!(
                "cannot record the agent's process group in {}: {e}",
                self.entry.record_path().display()
            );
        }
    }
    fn started(&mut self, session_id: Option<&str>) {
        crate::fault::point("agent-started");
        let session = session_id
            .map(|s| format!(" (session {s})"))
            .unwrap_or_default();
        tracing::info!(session = session_id, "agent started");
        self.progress.action(&format!("agent started{session}"));
    }
    fn silent(&mut self, for_: Duration) {
        friction::note(
            self.tree,
            friction::Event::new(
                "idle",
                "agent",
                &format!("the agent was silent for {} s", for_.as_secs()),
            )
            .task(&self.entry.id, self.record.attempt),
        );
    }
    fn action(&mut self, summary: &str, writes: Option<&str>) {
        tracing::debug!(action = summary, "agent action");
        self.progress.action(summary);
        if let Some(path) = writes {
            if !self.record.agent_writes.iter().any(|p| p == path) {
                self.record.agent_writes.push(path.to_string());
            }
        }
    }
}
