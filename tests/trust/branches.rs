//! Case 6: a task never resets an `agentos/<id>` branch it did not create.
//! `add` refuses an id whose branch exists (and gives a title's id the next free
//! number); a branch that appears after `add` fails the task, named and untouched.
use crate::support::{FakeAgent, TestRepo};

/// A branch with a commit of the person's own on it; returns that commit.
fn persons_branch(repo: &TestRepo, branch: &str) -> String {
    repo.git(&["checkout", "-q", "-b", branch]);
    repo.write("mine.txt", "my own work\n");
    repo.git(&["add", "mine.txt"]);
    repo.git(&["commit", "-q", "-m", "my own work"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["rev-parse", branch]).trim().to_string()
}

#[test]
fn add_refuses_an_id_whose_branch_exists_and_a_title_takes_the_next_free_id() {
    let repo = TestRepo::initialised();
    let mine = persons_branch(&repo, "agentos/fix-it");
    repo.agentos(&["add", "Fix it", "-t", "README.md", "--id", "fix-it"])
        .code(2)
        .stderr_has("agentos/fix-it");
    repo.agentos(&["add", "Fix it", "-t", "README.md"])
        .ok()
        .stdout_has("fix-it-2");
    assert_eq!(repo.git(&["rev-parse", "agentos/fix-it"]).trim(), mine);
}

#[test]
fn a_branch_that_appears_after_add_fails_the_task_and_is_never_reset() {
    let repo = TestRepo::initialised();
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    let mine = persons_branch(&repo, "agentos/fix");
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    let reason = repo.read(".agentos/failed/fix.reason");
    assert!(reason.contains("agentos/fix"), "{reason}");
    assert!(reason.contains("did not create"), "{reason}");
    assert_eq!(repo.git(&["rev-parse", "agentos/fix"]).trim(), mine);
}

/// The branch a task made is its own: a retry of a failed task runs again on
/// it, even when the agent of the failed attempt had committed on it.
#[test]
fn a_retried_task_reuses_the_branch_it_created() {
    let repo = TestRepo::initialised();
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    let strays = FakeAgent::new(&repo)
        .writes("other.txt", "outside the targets\n")
        .runs("git add other.txt && git commit -q -m 'the agent commits'")
        .reports_error("error_during_execution", "gave up")
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &strays)])
        .code(1);
    repo.agentos(&["retry", "fix"]).ok();
    let good = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &good)])
        .ok();
    assert_eq!(
        repo.git(&["diff", "--name-only", "main", "agentos/fix"]),
        "README.md\n"
    );
}
