//! The step loop with a fake agent and a fake forge: every step in order and
//! journalled, a resume that skips what is done, failures with their step.
use super::{Finished, Worker};
use crate::agent::runner::Outcome;
use crate::forge::{ForgeError, LazyForge};
use crate::pipeline::fakes::{FakeAgent, FakeForge, Fixture, OPENS_ONE};
use crate::pipeline::{Settings, Step};
use crate::progress::Progress;
use crate::queue::{self, Record, State};
use crate::workspace::Workspace;
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn worker(fx: &Fixture, agent: FakeAgent, forge: &Arc<FakeForge>) -> Worker {
    let settings = Settings {
        keep: false,
        no_pr: false,
        forge_env: Fixture::forge_env(),
    };
    Worker::new(
        Workspace::discover(&fx.ws.tree.repo_root).expect("workspace"),
        Arc::new(settings),
        Arc::new(LazyForge::with(forge.clone())),
        Box::new(agent),
        Progress::lines(),
        None,
    )
}

fn record_in(fx: &Fixture, state: State) -> Record {
    let path = fx.ws.tree.state_dir(state).join("fix.record.json");
    queue::read_record(&path).expect("read").expect("a record")
}

#[test]
fn the_loop_runs_every_step_in_order_and_opens_one_pull_request() {
    let fx = Fixture::new();
    let forge = Arc::new(FakeForge::default());
    let agent = FakeAgent::fixing();
    let calls = agent.calls.clone();
    let (entry, record) = fx.claim();
    let claimed = std::fs::read_to_string(&entry.path).expect("claimed");
    let finished = worker(&fx, agent, &forge)
        .process(entry, record)
        .expect("process");
    let url = "https://github.test/octo/widgets/pull/7";
    assert_eq!(finished, Finished::Review("fix".into(), url.into()));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let record = record_in(&fx, State::Review);
    let steps: Vec<Step> = record.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        steps,
        Step::ALL.to_vec(),
        "each step journalled once, in order"
    );
    assert_eq!(
        record.pr_url.as_deref(),
        Some("https://github.test/octo/widgets/pull/7")
    );
    assert_eq!(
        record.pushed_commit, record.commit,
        "the remote has the branch"
    );
    assert_eq!(forge.calls(), OPENS_ONE);
    let review = record.review.expect("the pull request followed");
    assert_eq!((review.number, review.url.as_str()), (7, url));
    assert!(review.next_pass.is_some(), "a first pass is due");
    let in_review = std::fs::read_to_string(fx.ws.tree.state_dir(State::Review).join("fix.md"))
        .expect("review");
    assert_eq!(in_review, claimed, "in review/, the file as it was");
    assert!(
        !fx.ws.tree.worktrees_dir().join("fix").exists(),
        "worktree retired"
    );
}

#[test]
fn a_resume_skips_every_step_its_journal_has() {
    let fx = Fixture::new();
    let forge = Arc::new(FakeForge::default());
    let (entry, record) = fx.claim();
    // The first attempt is stopped by a signal while its agent runs.
    let stopped = FakeAgent::ending(|| Some(Outcome::Interrupted(15)));
    let finished = worker(&fx, stopped, &forge)
        .process(entry.clone(), record)
        .expect("process");
    assert_eq!(finished, Finished::Interrupted(15));
    let record = record_in(&fx, State::Doing);
    assert!(record.interrupted);
    assert_eq!(record.first_pending(), Step::Agent);
    // Preflight is done: a base that no longer resolves does not matter now.
    let task = fx.ws.tree.state_dir(State::Doing).join("fix.md");
    let text = std::fs::read_to_string(&task).expect("task");
    std::fs::write(
        &task,
        text.replace("base_branch", "base = \"gone\"\nbase_branch"),
    )
    .expect("edit");
    let agent = FakeAgent::fixing();
    let calls = agent.calls.clone();
    let finished = worker(&fx, agent, &forge)
        .process(entry, record)
        .expect("resume");
    assert!(matches!(finished, Finished::Review(..)), "{finished:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let record = record_in(&fx, State::Review);
    assert_eq!(record.steps.len(), Step::ALL.len());
}

#[test]
fn a_failing_agent_fails_the_task_with_its_reason_and_no_forge_call() {
    let fx = Fixture::new();
    let forge = Arc::new(FakeForge::default());
    let (entry, record) = fx.claim();
    let failing = FakeAgent::ending(|| {
        Some(Outcome::Failed {
            reason: "the agent exited with code 1".into(),
            result: None,
        })
    });
    let finished = worker(&fx, failing, &forge)
        .process(entry, record)
        .expect("process");
    assert_eq!(
        finished,
        Finished::Failed("fix".into(), "the agent exited with code 1".into())
    );
    let reason = std::fs::read_to_string(fx.ws.tree.state_dir(State::Failed).join("fix.reason"))
        .expect("reason");
    assert_eq!(reason, "the agent exited with code 1\n");
    assert_eq!(record_in(&fx, State::Failed).first_pending(), Step::Agent);
    assert!(forge.calls().is_empty());
    let (events, _) = crate::friction::read(&fx.ws.tree).expect("friction");
    assert_eq!(events[0].kind, "agent-error");
    assert_eq!(events[0].step.as_deref(), Some("agent"));
}

#[test]
fn a_forge_that_refuses_fails_the_task_at_publish() {
    let fx = Fixture::new();
    let forge = Arc::new(FakeForge::default());
    *forge.create_fails.lock().expect("lock") = Some(ForgeError {
        status: Some(403),
        message: "the token cannot open pull requests on octo/widgets".into(),
        ..ForgeError::default()
    });
    let (entry, record) = fx.claim();
    let finished = worker(&fx, FakeAgent::fixing(), &forge)
        .process(entry, record)
        .expect("process");
    assert_eq!(
        finished,
        Finished::Failed(
            "fix".into(),
            "publish: the token cannot open pull requests on octo/widgets".into()
        )
    );
    let record = record_in(&fx, State::Failed);
    assert_eq!(record.first_pending(), Step::Publish);
    assert!(
        record.pushed_commit.is_some(),
        "the push came before the refusal"
    );
}
