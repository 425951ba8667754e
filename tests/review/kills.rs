//! `kill -9` at every step of a revision round, with the real Claude Code CLI
//! against the scripted Messages API: the next `sync` resumes the round where
//! it stopped, and the pull request gets exactly one push (one new commit, one
//! update of the branch) and one reply per round, for two rounds in a row.
use super::{readme_round, readme_rounds, Scenario};
use crate::support::github::Who;

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
fn killed_at_the_first_round_steps_each_round_gets_one_push_and_one_reply() {
    killed_at(&POINTS[..5]);
}

#[test]
fn killed_at_the_last_round_steps_each_round_gets_one_push_and_one_reply() {
    killed_at(&POINTS[5..]);
}

/// For each point: publish, then twice: a review, `sync` killed there, `sync`
/// again.
fn killed_at(points: &[&str]) {
    for &point in points {
        let mut s = Scenario::published(readme_rounds(), &[]);
        assert_eq!(s.branch_updates(), 1, "{point}: the publish");
        for round in 1..=2u32 {
            let at = format!("{point}, round {round}");
            s.github.review(
                1,
                &Who::owner("octo"),
                "CHANGES_REQUESTED",
                &format!("Change {round}, please."),
            );
            let killed = s.agentos_env(&["sync"], &[("AGENTOS_FAULT", point)]);
            assert_ne!(killed.code, 0, "{at}: the dispatcher was killed");
            assert!(
                killed.stderr.contains(&format!("killed at `{point}`")),
                "{at}: {}",
                killed.stderr
            );
            let resumed = s.agentos(&["sync"]).ok();
            assert!(
                resumed.stderr.contains(&format!("resuming round {round}"))
                    || point == "round-after-reply",
                "{at}: {}",
                resumed.stderr
            );
            let n = round as usize;
            assert_eq!(s.branch_log().len(), 1 + n, "{at}: one new commit a round");
            assert_eq!(s.branch_updates(), 1 + n, "{at}: one push a round");
            assert_eq!(s.on_branch("README.md"), readme_round(round), "{at}");
            let replies = s.github.posted(1);
            assert_eq!(replies.len(), n, "{at}: one reply a round: {replies:?}");
            assert!(
                replies[n - 1].contains(&format!("round {round} of 3")),
                "{at}: {}",
                replies[n - 1]
            );
            let record = s.record();
            assert_eq!(record["review"]["rounds"], round, "{at}");
            assert!(
                record["review"]["round"].is_null(),
                "{at}: the round is closed"
            );
            // And it stays answered.
            s.agentos(&["sync"]).ok();
            assert_eq!(s.github.posted(1).len(), n, "{at}");
            assert_eq!(s.branch_updates(), 1 + n, "{at}");
        }
        s.assert_no_token();
    }
}
