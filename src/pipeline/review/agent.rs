//! The round's agent step: the task's own agent, in the same sandbox and
//! through the same step as any task (`pipeline::agent::launch`), on the task's
//! prompt with the round's events and the change so far added. An agent an
//! earlier attempt started is ended first and the worktree prepared again.
use super::{fetch, prompt, round, Outcome};
use crate::pipeline::{agent, StepOutcome, TaskRun};
use crate::queue::QueueError;

pub fn run(run: &mut TaskRun) -> Result<Outcome, QueueError> {
    if agent::end_earlier(run) {
        if let Err(e) = fetch::prepare(run) {
            return Ok(Outcome::Stop(e));
        }
    }
    run.record.agent_writes.clear();
    run.record.agent_landings.clear();
    run.record.sandbox_denials.clear();
    run.record.agent_result = None;
    let id = run.entry.id.clone();
    let dir = run.run_dir()?;
    let diff = std::fs::read_to_string(dir.join(fetch::DIFF_FILE)).unwrap_or_default();
    let r = round(run).clone();
    let base = r.head.clone().unwrap_or_default();
    let mut text = crate::agent::prompt::compose(
        &run.agent.instructions,
        &run.task,
        &id,
        &base,
        &run.worktree,
        run.agent.memory && run.agent.is_claude,
    );
    text.push_str(&prompt::round_section(
        &r,
        &crate::git::task_branch(&id),
        &diff,
    ));
    Ok(match agent::launch(run, &text)? {
        StepOutcome::Done => Outcome::Done,
        StepOutcome::Failed(reason) => Outcome::Stop(format!("the agent: {reason}")),
        StepOutcome::Interrupted(sig) => Outcome::Interrupted(sig),
        // A usage or rate limit: the queue pauses as for any task, and the
        // round waits at this step for a later pass (no round is spent).
        StepOutcome::Paused(limit) => {
            let now = crate::clock::now();
            let said = match crate::schedule::pause::pause_for(&run.ws.tree, &limit, Some(&id), now)
            {
                Ok(pause) => pause.describe(now),
                Err(e) => format!("{} (the pause could not be saved: {e})", limit.message),
            };
            Outcome::Later(format!("the agent stopped at a limit: {said}"))
        }
    })
}
