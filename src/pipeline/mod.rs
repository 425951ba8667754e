//! The steps of a claimed task, one module each, in the order a task goes
//! through them: preflight → worktree → agent → commit → verify → publish →
//! finish. Each takes the task's [`TaskRun`] and returns one [`StepOutcome`];
//! the dispatcher's worker journals what is done and resumes at the first step
//! that is not. Adding a step is one module here and one variant of [`Step`].
//! review/ is what follows for a task whose pull request is open: passes over
//! it and revision rounds, whose steps are journalled the same way.
pub mod agent;
pub mod boundary;
pub mod commit;
#[cfg(test)]
pub mod fakes;
pub mod finish;
mod guards;
mod modes_guard;
pub mod preflight;
pub mod publish;
mod refs_guard;
pub mod review;
mod run;
pub mod verify;
pub mod worktree;

pub use crate::queue::Step;
pub use run::{Settings, StepOutcome, TaskRun, CANCELLED};

use crate::queue::QueueError;

/// Run one step. An error is the dispatcher's own (its state cannot be written),
/// not the task's: the task waits in doing/ for the next run.
pub fn run_step(step: Step, run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    match step {
        // Claimed before the task reached the worker.
        Step::Claim => Ok(StepOutcome::Done),
        Step::Preflight => preflight::run(run),
        Step::Worktree => worktree::run(run),
        Step::Agent => agent::run(run),
        Step::Commit => commit::run(run),
        Step::Verify => verify::run(run),
        Step::Publish => publish::run(run),
        Step::Finish => finish::run(run),
    }
}
