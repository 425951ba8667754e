//! Revision rounds: a review requesting changes, a failing check, a conflict
//! with the base branch, and a person's own push that a round keeps.
use super::{readme_round, readme_rounds, Scenario, BRANCH, FIXED, ID};
use crate::support::github::{Check, Who};
use std::sync::Arc;

#[test]
fn changes_requested_make_one_new_commit_on_the_branch_and_one_reply() {
    let mut s = Scenario::published(readme_rounds(), &[]);
    let published = s.branch_log();
    assert_eq!(published.len(), 1);
    let owner = Who::owner("octo");
    s.github
        .review(1, &owner, "CHANGES_REQUESTED", "Please pin the version.");
    s.github
        .review_comment(1, &owner, "README.md", 3, "Say `cargo install --locked`.");
    let sync = s.agentos(&["sync"]).ok();
    assert!(sync.stdout.contains("review  fix: "), "{}", sync.stdout);

    let log = s.branch_log();
    assert_eq!(log.len(), 2, "one new commit on the branch");
    assert_eq!(
        log[1], published[0],
        "on top of what was there: a fast-forward"
    );
    assert_eq!(s.on_branch("README.md"), readme_round(1));
    let replies = s.github.posted(1);
    assert_eq!(replies.len(), 1, "one reply: {replies:?}");
    for part in [
        "round 1 of 3",
        "the review by @octo requesting changes",
        &format!("pushed {}", log[0]),
        "**Verification**: passed",
        "> Done: wrote README.md.",
    ] {
        assert!(
            replies[0].contains(part),
            "the reply lacks {part:?}:\n{}",
            replies[0]
        );
    }
    // The round's agent was told the review, its inline comment with file and
    // line, and the change so far.
    let prompt = s.prompts_of_round(1).concat();
    for part in [
        "## Event 1: the review by @octo requesting changes",
        "Please pin the version.",
        "- `README.md` line 3 (@octo): Say `cargo install --locked`.",
        "## The change so far",
        "+Install with `cargo install`.",
    ] {
        assert!(
            prompt.contains(part),
            "the prompt lacks {part:?}:\n{prompt}"
        );
    }
    let record = s.record();
    assert_eq!(record["review"]["rounds"], 1);
    assert_eq!(
        record["review"]["history"][0]["outcome"],
        format!("pushed {}", &log[0][..12])
    );
    // Answered once: another pass makes no round.
    s.agentos(&["sync"]).ok();
    assert_eq!(s.branch_log().len(), 2);
    assert_eq!(s.github.posted(1).len(), 1);
    let show = s.agentos(&["show", ID]).ok();
    assert_eq!(
        s.branch_updates(),
        2,
        "pushed twice in all: the publish and the round"
    );
    assert!(
        show.stdout
            .contains("round     1: answered the review by @octo requesting changes: pushed"),
        "{}",
        show.stdout
    );
    s.assert_no_token();
}

#[test]
fn a_failing_check_and_a_comment_make_one_round_whose_prompt_holds_the_annotations() {
    let mut s = Scenario::published(readme_rounds(), &[]);
    let head = s.github.head_sha(1);
    let check = Check::failed("ci/test", "1 test failed: test_readme").annotate(
        "README.md",
        3,
        "`cargo install` needs `--locked` here",
    );
    s.github.check_run(&head, &check);
    s.github.check_run(&head, &Check::passed("ci/lint"));
    // Seen in the same pass: one round answers both.
    s.github
        .comment(1, &Who::member("alice"), "@agentos and keep it short");
    s.agentos(&["sync"]).ok();
    let prompt = s.prompts_of_round(1).concat();
    for part in [
        "@agentos and keep it short",
        "a failing check `ci/test`",
        "The check run `ci/test` concluded `failure`.",
        "1 test failed: test_readme",
        "- `README.md` line 3 [failure] ci/test: README.md#L3: `cargo install` needs `--locked` here",
    ] {
        assert!(prompt.contains(part), "the prompt lacks {part:?}:\n{prompt}");
    }
    assert!(
        !prompt.contains("ci/lint"),
        "a passing check is not an event"
    );
    assert_eq!(s.branch_log().len(), 2);
    let replies = s.github.posted(1);
    assert_eq!(replies.len(), 1);
    for part in ["a failing check `ci/test`", "the comment by @alice"] {
        assert!(replies[0].contains(part), "{part:?}: {}", replies[0]);
    }
    assert_eq!(s.record()["review"]["rounds"], 1, "one round for both");
    // The check ran on the old head: the new head has none failing.
    s.agentos(&["sync"]).ok();
    assert_eq!(s.github.posted(1).len(), 1);
    s.assert_no_token();
}

#[test]
fn a_conflict_with_the_base_is_merged_resolved_and_pushed() {
    const RESOLVED: &str = "# Example\n\nInstall with `cargo install` (or `make install`).\n";
    let writes: super::Writes = Arc::new(|round| match round {
        None => vec![("README.md".into(), FIXED.into())],
        Some(_) => vec![("README.md".into(), RESOLVED.into())],
    });
    let mut s = Scenario::published(writes, &[]);
    // Meanwhile main changes the same line.
    s.repo
        .write("README.md", "# Example\n\nInstall with `make install`.\n");
    s.repo
        .git(&["commit", "-q", "-am", "Document make install"]);
    s.repo.git(&["push", "-q", "origin", "main"]);
    let main = s.repo.git(&["rev-parse", "main"]).trim().to_string();
    let pull = &s.github.pulls()[0];
    assert_eq!(pull["number"], 1);
    s.agentos(&["sync"]).ok();

    let prompt = s.prompts_of_round(1).concat();
    assert!(
        prompt.contains("## Event 1: a conflict with `main`"),
        "{prompt}"
    );
    assert!(
        prompt.contains("These files hold conflict markers"),
        "{prompt}"
    );
    assert!(prompt.contains("- `README.md`"), "{prompt}");
    let tip = s.origin_git(&["rev-parse", BRANCH]).trim().to_string();
    let parents = s.origin_git(&["rev-list", "--parents", "-n", "1", &tip]);
    let parents: Vec<&str> = parents.split_whitespace().skip(1).collect();
    assert_eq!(parents.len(), 2, "a merge commit: {parents:?}");
    assert_eq!(parents[1], main, "it merges main as it is now");
    assert_eq!(s.on_branch("README.md"), RESOLVED);
    let merges = s.origin_git(&["merge-tree", "--write-tree", "main", BRANCH]);
    assert!(!merges.is_empty(), "it merges cleanly into main now");
    let replies = s.github.posted(1);
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0].contains("a conflict with `main`"),
        "{}",
        replies[0]
    );
    assert!(
        replies[0].contains("it merges the base branch"),
        "{}",
        replies[0]
    );
    s.assert_no_token();
}

#[test]
fn a_persons_own_push_to_the_branch_between_rounds_is_kept() {
    let writes: super::Writes = Arc::new(|round| match round {
        None => vec![("README.md".into(), FIXED.into())],
        Some(n) => vec![(
            "docs/install.md".into(),
            format!("Install notes, round {n}.\n"),
        )],
    });
    let mut s = Scenario::published(writes, &["docs/**"]);
    // Round 1, asked for in a comment.
    s.github.comment(
        1,
        &Who::member("alice"),
        "@agentos add install notes under docs/",
    );
    s.agentos(&["sync"]).ok();
    assert_eq!(s.branch_log().len(), 2);
    // A person pushes to the branch (accepting a suggestion, say).
    let persons = s.person_pushes(
        "README.md",
        "# Example\n\nInstall with `cargo install --locked`.\n",
        "Pin the install (suggestion)",
    );
    // Round 2.
    s.github.comment(
        1,
        &Who::owner("octo"),
        "@agentos and mention the notes once more",
    );
    s.agentos(&["sync"]).ok();
    let log = s.branch_log();
    assert_eq!(
        log.len(),
        4,
        "publish, round 1, the person's, round 2: {log:?}"
    );
    assert_eq!(log[1], persons, "round 2 builds on the person's commit");
    assert!(
        s.on_branch("README.md").contains("--locked"),
        "the person's change is kept"
    );
    assert_eq!(s.on_branch("docs/install.md"), "Install notes, round 2.\n");
    let prompt = s.prompts_of_round(2).concat();
    assert!(
        prompt.contains("+Install with `cargo install --locked`."),
        "the round saw the push: {prompt}"
    );
    assert_eq!(s.github.posted(1).len(), 2, "one reply per round");
    s.assert_no_token();
}
