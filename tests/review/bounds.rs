//! The bounds on rounds: `max_rounds`, then one comment, the label
//! `agentos:needs-human` and friction until `@agentos retry`; `@agentos stop` and
//! the label `agentos:hold`; targets widened by a person with write access; a
//! comment from someone without it only shown.
use super::{readme_rounds, Scenario, FIXED, ID};
use crate::support::github::Who;
use std::sync::Arc;

fn friction_count(s: &Scenario, kind: &str) -> usize {
    std::fs::read_to_string(s.repo.path(".agentos/friction.jsonl"))
        .unwrap_or_default()
        .matches(&format!("\"kind\":\"{kind}\""))
        .count()
}

#[test]
fn when_the_rounds_run_out_one_comment_the_label_and_friction_until_a_retry() {
    let mut s = Scenario::published(readme_rounds(), &[]);
    s.repo
        .write(".agentos/config.toml", "[review]\nmax_rounds = 1\n");
    let alice = Who::member("alice");
    s.github.comment(1, &alice, "@agentos pin the version");
    s.agentos(&["sync"]).ok();
    assert_eq!(s.github.posted(1).len(), 1, "round 1 replied");
    s.github.comment(1, &alice, "@agentos and mention the docs");
    s.agentos(&["sync"]).ok();
    let posted = s.github.posted(1);
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert!(
        posted[1].contains("has made 1 revision rounds") && posted[1].contains("`@agentos retry`"),
        "{}",
        posted[1]
    );
    assert!(s
        .github
        .labels(1)
        .contains(&"agentos:needs-human".to_string()));
    assert_eq!(friction_count(&s, "review-rounds-exhausted"), 1);
    assert_eq!(s.branch_log().len(), 2, "no round made");
    let status = s.agentos(&["status"]).ok();
    assert!(
        status.stdout.contains("#1 needs a person: 1 rounds made"),
        "{}",
        status.stdout
    );
    // Asked once, not at every pass.
    s.agentos(&["sync"]).ok();
    assert_eq!(s.github.posted(1).len(), 2);
    assert_eq!(friction_count(&s, "review-rounds-exhausted"), 1);
    // A person says go on: the waiting comment gets its round.
    s.github.comment(1, &Who::owner("octo"), "@agentos retry");
    s.agentos(&["sync"]).ok();
    let posted = s.github.posted(1);
    assert_eq!(posted.len(), 3, "{posted:?}");
    assert!(posted[2].contains("the comment by @alice"), "{}", posted[2]);
    assert!(!s
        .github
        .labels(1)
        .contains(&"agentos:needs-human".to_string()));
    assert_eq!(s.branch_log().len(), 3);
    assert_eq!(s.record()["review"]["rounds"], 2);
    s.assert_no_token();
}

#[test]
fn stop_and_the_hold_label_stop_rounds_until_retry_and_removal() {
    let mut s = Scenario::published(readme_rounds(), &[]);
    s.github.comment(1, &Who::owner("octo"), "@agentos stop");
    s.github
        .comment(1, &Who::member("alice"), "@agentos fix the wording");
    s.agentos(&["sync"]).ok();
    assert!(s.github.posted(1).is_empty(), "no round while stopped");
    let show = s.agentos(&["show", ID]).ok();
    assert!(
        show.stdout.contains("held: @octo said `stop`"),
        "{}",
        show.stdout
    );
    // Retried, but the label holds it.
    s.github.add_labels(1, &["agentos:hold"]);
    s.github.comment(1, &Who::owner("octo"), "@agentos retry");
    s.agentos(&["sync"]).ok();
    assert!(s.github.posted(1).is_empty());
    let status = s.agentos(&["status"]).ok();
    assert!(
        status.stdout.contains("held: the label `agentos:hold`"),
        "{}",
        status.stdout
    );
    // The label removed: the waiting comment is answered.
    s.github.state.lock().expect("lock").pulls[0]["labels"] = serde_json::json!([]);
    s.agentos(&["sync"]).ok();
    let posted = s.github.posted(1);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(posted[0].contains("the comment by @alice"), "{}", posted[0]);
    s.assert_no_token();
}

#[test]
fn a_writer_widens_the_targets_and_a_strangers_comment_is_only_shown() {
    let writes: super::Writes = Arc::new(|round| match round {
        None => vec![("README.md".into(), FIXED.into())],
        Some(_) => vec![("docs/install.md".into(), "Install notes.\n".into())],
    });
    let mut s = Scenario::published(writes, &[]);
    s.github.comment(
        1,
        &Who::stranger("mallory"),
        "@agentos rewrite the whole project",
    );
    s.agentos(&["sync"]).ok();
    assert!(
        s.github.posted(1).is_empty(),
        "a stranger's comment starts nothing"
    );
    let show = s.agentos(&["show", ID]).ok();
    assert!(
        show.stdout.contains(
            "ignored   @mallory (NONE, no write access): @agentos rewrite the whole project"
        ),
        "{}",
        show.stdout
    );
    s.github.comment(
        1,
        &Who::owner("octo"),
        "@agentos targets: docs/**\n@agentos add install notes in docs/install.md",
    );
    s.agentos(&["sync"]).ok();
    let task = s.repo.read(".agentos/review/fix.md");
    assert!(
        task.contains("targets = [\"README.md\", \"docs/**\"]"),
        "the task file records it: {task}"
    );
    assert_eq!(s.on_branch("docs/install.md"), "Install notes.\n");
    let posted = s.github.posted(1);
    assert_eq!(posted.len(), 1);
    assert!(
        posted[0].contains("**Verification**: passed"),
        "{}",
        posted[0]
    );
    assert_eq!(s.record()["review"]["widened"][0], "docs/** by @octo");
    s.assert_no_token();
}
