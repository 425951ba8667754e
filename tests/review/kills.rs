//! `kill -9` at every step of a revision round: the next `sync` resumes the
//! round where it stopped, and the pull request gets exactly one push (one new
//! commit, one update of the branch) and one reply.
use super::Scenario;
use crate::support::github::Who;
use crate::support::FakeAgent;

/// Every fault point of a round, in its order.
const POINTS: [&str; 10] = [
    "round-after-fetch",
    "agent-started",
    "round-after-agent",
    "round-mid-commit",
    "round-after-commit",
    "round-after-verify",
    "round-mid-push",
    "round-after-push",
    "round-mid-reply",
    "round-after-reply",
];

#[test]
fn killed_at_the_first_round_steps_the_pull_request_gets_one_push_and_one_reply() {
    killed_at(&POINTS[..5]);
}

#[test]
fn killed_at_the_last_round_steps_the_pull_request_gets_one_push_and_one_reply() {
    killed_at(&POINTS[5..]);
}

/// For each point: publish, a review, `sync` killed there, `sync` again.
fn killed_at(points: &[&str]) {
    for &point in points {
        let mut s = Scenario::published_fake(|repo| {
            FakeAgent::new(repo)
                .runs("echo \"a line from pid $$\" >> README.md")
                .reports(1, 0.0, "Added a line.")
                .build()
        });
        assert_eq!(s.branch_updates(), 1, "{point}: the publish");
        s.github.review(
            1,
            &Who::owner("octo"),
            "CHANGES_REQUESTED",
            "One more line, please.",
        );
        let killed = s.agentos_env(&["sync"], &[("AGENTOS_FAULT", point)]);
        assert_ne!(killed.code, 0, "{point}: the dispatcher was killed");
        assert!(
            killed.stderr.contains(&format!("killed at `{point}`")),
            "{point}: {}",
            killed.stderr
        );
        let resumed = s.agentos(&["sync"]).ok();
        assert!(
            resumed.stderr.contains("resuming round 1") || point == "round-after-reply",
            "{point}: {}",
            resumed.stderr
        );
        assert_eq!(s.branch_log().len(), 2, "{point}: one new commit");
        assert_eq!(s.branch_updates(), 2, "{point}: the round pushed once");
        let replies = s.github.posted(1);
        assert_eq!(replies.len(), 1, "{point}: one reply: {replies:?}");
        assert!(
            replies[0].contains("round 1 of 3"),
            "{point}: {}",
            replies[0]
        );
        let record = s.record();
        assert_eq!(record["review"]["rounds"], 1, "{point}");
        assert!(
            record["review"]["round"].is_null(),
            "{point}: the round is closed"
        );
        // And it stays answered.
        s.agentos(&["sync"]).ok();
        assert_eq!(s.github.posted(1).len(), 1, "{point}");
        assert_eq!(s.branch_updates(), 2, "{point}");
        s.assert_no_token();
    }
}
