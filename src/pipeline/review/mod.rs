//! The pull-request loop of a task in review/: a pass (pass.rs) reads the open
//! pull request, applies what people said (events.rs decides, with no effect
//! of its own), settles a merged or closed one (settle.rs) and starts a
//! revision round when something asks for one; a stacked pull request whose
//! dependency merged is moved onto the base branch first (restack.rs). A round is a list of steps, one
//! module each, journalled in the task's record like the task's own steps:
//! fetch → agent → commit → verify → push → reply. The dispatcher walks them
//! (resuming at the first one not done after a crash) and closes the round
//! here. schedule.rs says when the next pass is due, prompt.rs what the
//! round's agent is told.
pub mod agent;
pub mod commit;
pub mod events;
pub mod fetch;
pub mod pass;
pub mod prompt;
pub mod push;
pub mod reply;
pub mod restack;
pub mod schedule;
pub mod settle;
pub mod verify;

pub use crate::queue::review::RoundStep;

use super::TaskRun;
use crate::clock::Timestamp;
use crate::config::Config;
use crate::forge::{Forge, GitHub};
use crate::friction;
use crate::queue::review::{Review, Round, RoundSummary};
use crate::queue::QueueError;
use std::sync::Arc;

/// How a round step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: journalled, on to the next step.
    Done,
    /// The round stops short of a push, with this reason; it still replies.
    Stop(String),
    /// The remote moved while the round worked: the round starts over (once).
    Redo,
    /// GitHub cannot be reached now: the round waits at this step until the
    /// next pass is due.
    Later(String),
    /// The dispatcher was asked to stop (signal number); the next one resumes.
    Interrupted(i32),
}

/// Run one step of the round in progress.
pub fn run_step(step: RoundStep, run: &mut TaskRun) -> Result<Outcome, QueueError> {
    match step {
        RoundStep::Fetch => fetch::run(run),
        RoundStep::Agent => agent::run(run),
        RoundStep::Commit => commit::run(run),
        RoundStep::Verify => verify::run(run),
        RoundStep::Push => push::run(run),
        RoundStep::Reply => reply::run(run),
    }
}

/// The task's review record (a task in review/ always has one).
pub fn review<'a>(run: &'a mut TaskRun<'_>) -> &'a mut Review {
    let number = run.record.pr_number.unwrap_or_default();
    let url = run.record.pr_url.clone().unwrap_or_default();
    run.record
        .review
        .get_or_insert_with(|| Review::new(number, &url))
}

/// The round in progress. Its steps only run while there is one.
pub fn round<'a>(run: &'a mut TaskRun<'_>) -> &'a mut Round {
    review(run).round.get_or_insert_with(Round::default)
}

/// The remote the task's branch lives on, and the token for it.
pub fn remote(run: &TaskRun) -> Result<(String, Option<String>), String> {
    let config = crate::config::load(&run.ws.tree).map_err(|e| e.to_string())?;
    Ok((config.remote(), run.settings.forge_env.token.clone()))
}

/// The dispatcher's GitHub client for this repository.
pub fn forge(run: &TaskRun, config: &Config) -> Result<Arc<dyn Forge>, String> {
    let env = &run.settings.forge_env;
    let remote = config.remote();
    let Some(github) = env.github_repo(&run.ws.repo, config, &remote) else {
        return Err(
            "no GitHub repository is configured (remote URL, AGENTOS_GITHUB_REPO or `[github] repo`)"
                .into(),
        );
    };
    let Some(token) = env.token.clone() else {
        return Err(format!(
            "no GITHUB_TOKEN or GH_TOKEN to read pull request #{} of {}/{}",
            run.record.pr_number.unwrap_or_default(),
            github.owner,
            github.name
        ));
    };
    let timeout = env.timeout(config);
    run.forge
        .get(|| GitHub::new(github, &token, timeout).map(|c| Arc::new(c) as Arc<dyn Forge>))
        .map_err(|e| e.message)
}

/// The calls the forge retried for this task, as friction.
pub fn note_retries(run: &TaskRun, forge: &dyn Forge) {
    for retry in forge.take_retries() {
        friction::note(
            &run.ws.tree,
            friction::Event::new("github-retry", "review", &retry)
                .task(&run.entry.id, run.record.attempt),
        );
    }
}

/// The round is over (it replied): into the history, its events answered, the
/// next pass soon after a push, the worktree recycled unless kept.
pub fn close_round(run: &mut TaskRun) {
    let now = Timestamp::now();
    let review = review(run);
    let Some(round) = review.round.take() else {
        return;
    };
    for event in &round.events {
        review.answer(&event.key);
    }
    review.rounds = review.rounds.max(round.number);
    let outcome = match (&round.stopped, &round.pushed) {
        (Some(why), _) => format!("stopped: {why}"),
        (None, Some(sha)) => format!("pushed {}", &sha[..sha.len().min(12)]),
        (None, None) => "no change".into(),
    };
    review.history.push(RoundSummary {
        number: round.number,
        finished_at: Some(now),
        answered: round.answering(),
        outcome,
        verdict: round.verdict.clone(),
        reply: round.reply,
    });
    review.phase = crate::queue::review::Phase::WaitingForReview;
    if let Some(head) = round.pushed.clone() {
        review.head = Some(head);
    }
    schedule::after_push(review, now);
    if let Some(pushed) = round.pushed {
        // The branch's tip is the round's now.
        run.record.commit = Some(pushed.clone());
        run.record.pushed_commit = Some(pushed);
    }
    if !run.settings.keep {
        super::finish::retire(run.ws, &run.worktree);
    }
}
