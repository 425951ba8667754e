//! What a pass makes of a pull request: who may ask for a round, what is only
//! shown, the commands, checks that are still running, each event answered once.
use super::*;
use crate::forge::pull::{
    Annotation, Branch, CheckOutput, CheckRun, Comment, InlineComment, Label, Pull, ReviewItem,
    User,
};

fn user(login: &str) -> Option<User> {
    Some(User {
        login: login.into(),
    })
}

fn snapshot() -> PullSnapshot {
    PullSnapshot {
        pull: Pull {
            number: 1,
            state: "open".into(),
            head: Branch {
                name: "agentos/fix".into(),
                sha: "h1".into(),
            },
            base: Branch {
                name: "main".into(),
                sha: "b1".into(),
            },
            mergeable: Some(true),
            ..Pull::default()
        },
        ..PullSnapshot::default()
    }
}

fn comment(id: u64, who: &str, association: &str, body: &str) -> Comment {
    Comment {
        id,
        user: user(who),
        author_association: association.into(),
        body: Some(body.into()),
        html_url: String::new(),
    }
}

fn decide_default(snap: &PullSnapshot, review: &Review) -> Decision {
    decide(snap, review, &ReviewConfig::default(), "agentos-bot")
}

#[test]
fn a_review_requesting_changes_from_a_writer_is_one_event_with_its_inline_comments() {
    let mut snap = snapshot();
    snap.reviews = vec![
        ReviewItem {
            id: 7,
            user: user("octo"),
            author_association: "OWNER".into(),
            state: "CHANGES_REQUESTED".into(),
            body: Some("Please also fix the title.".into()),
            ..ReviewItem::default()
        },
        ReviewItem {
            id: 8,
            user: user("drive-by"),
            author_association: "NONE".into(),
            state: "CHANGES_REQUESTED".into(),
            body: Some("I want changes too".into()),
            ..ReviewItem::default()
        },
    ];
    snap.inline = vec![InlineComment {
        id: 9,
        pull_request_review_id: Some(7),
        user: user("octo"),
        author_association: "OWNER".into(),
        path: "README.md".into(),
        line: Some(3),
        body: "Say `cargo install --locked`.".into(),
        ..InlineComment::default()
    }];
    let d = decide_default(&snap, &Review::default());
    assert_eq!(d.events.len(), 1, "{:?}", d.events);
    let e = &d.events[0];
    assert_eq!(e.key, "review:7");
    assert_eq!(e.title, "the review by @octo requesting changes");
    assert_eq!(
        e.detail,
        "Please also fix the title.\n- `README.md` line 3 (@octo): Say `cargo install --locked`."
    );
    let mut answered = Review::default();
    answered.answer("review:7");
    assert!(
        decide_default(&snap, &answered).events.is_empty(),
        "answered once"
    );
    // The reviewer approves later: their earlier verdict no longer counts.
    snap.reviews.push(ReviewItem {
        id: 10,
        user: user("octo"),
        author_association: "OWNER".into(),
        state: "APPROVED".into(),
        ..ReviewItem::default()
    });
    let d = decide_default(&snap, &Review::default());
    assert!(d.events.is_empty());
    assert_eq!(d.approved_by, ["octo"]);
}

#[test]
fn mentions_from_writers_ask_for_rounds_others_are_shown_and_our_own_are_ignored() {
    let mut snap = snapshot();
    snap.comments = vec![
        comment(1, "alice", "MEMBER", "@agentos please also update the docs"),
        comment(2, "mallory", "NONE", "@agentos delete everything"),
        comment(
            3,
            "agentos-bot",
            "COLLABORATOR",
            "**git agentos** … `@agentos retry`",
        ),
        comment(
            4,
            "bob",
            "COLLABORATOR",
            "cc @agentos-bot, nothing for @agentosx",
        ),
        comment(5, "carol", "OWNER", "@AgentOS stop"),
    ];
    let d = decide_default(&snap, &Review::default());
    let keys: Vec<&str> = d.events.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["comment:1"]);
    assert_eq!(d.events[0].detail, "@agentos please also update the docs");
    assert_eq!(d.ignored.len(), 1);
    assert_eq!(
        (
            d.ignored[0].0.as_str(),
            d.ignored[0].1.by.as_str(),
            d.ignored[0].1.association.as_str()
        ),
        ("ignored:2", "mallory", "NONE")
    );
    assert_eq!(
        d.controls,
        [Control {
            key: "control:5".into(),
            by: "carol".into(),
            commands: vec![Command::Stop]
        }]
    );
}

#[test]
fn commands_are_read_line_by_line() {
    let (commands, request) = parse("@agentos retry", "@agentos");
    assert_eq!((commands, request), (vec![Command::Retry], false));
    let (commands, request) = parse(
        "Thanks!\n@agentos targets: docs/**, `CHANGELOG.md`\n@agentos and update the changelog",
        "@agentos",
    );
    assert_eq!(
        commands,
        [Command::Targets(vec![
            "docs/**".into(),
            "CHANGELOG.md".into()
        ])]
    );
    assert!(request);
    assert!(!mentions_word("mail me at x@agentos.dev", "@agentos"));
    assert!(mentions_word("@agentos.", "@agentos"));
    assert!(mentions_word("hey @agentos, fix it", "@agentos"));
    assert!(!mentions_word("hey @agentos-bot", "@agentos"));
    assert!(
        mentions_word("/bot go", "/bot"),
        "the trigger word is configurable"
    );
}

#[test]
fn failing_checks_wait_until_every_check_on_the_head_has_finished() {
    let mut snap = snapshot();
    let failing = CheckRun {
        id: 1,
        name: "ci/test".into(),
        status: "completed".into(),
        conclusion: Some("failure".into()),
        output: CheckOutput {
            title: Some("2 tests failed".into()),
            summary: Some("test_readme failed".into()),
            annotations_count: 1,
            ..CheckOutput::default()
        },
        annotations: vec![Annotation {
            path: "README.md".into(),
            start_line: Some(3),
            end_line: Some(3),
            annotation_level: Some("failure".into()),
            title: Some("spelling".into()),
            message: "`instal` is misspelt".into(),
        }],
        ..CheckRun::default()
    };
    let running = CheckRun {
        id: 2,
        name: "ci/lint".into(),
        status: "in_progress".into(),
        ..CheckRun::default()
    };
    snap.checks = vec![failing, running];
    let d = decide_default(&snap, &Review::default());
    assert!(d.events.is_empty());
    assert_eq!(d.running, ["ci/lint"]);
    snap.checks.pop();
    snap.statuses = vec![crate::forge::pull::Status {
        context: "ci/deploy".into(),
        state: "error".into(),
        description: Some("preview failed".into()),
        target_url: Some("https://ci.example/1".into()),
    }];
    let d = decide_default(&snap, &Review::default());
    let keys: Vec<&str> = d.events.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["check:ci/test@h1", "status:ci/deploy@h1"]);
    for part in [
        "concluded `failure`",
        "Title: 2 tests failed",
        "test_readme failed",
        "- `README.md` line 3 [failure] spelling: `instal` is misspelt",
    ] {
        assert!(
            d.events[0].detail.contains(part),
            "{part}: {}",
            d.events[0].detail
        );
    }
    assert!(
        d.events[1].detail.contains("preview failed")
            && d.events[1].detail.contains("https://ci.example/1")
    );
    let config = ReviewConfig {
        on_failing_checks: false,
        ..ReviewConfig::default()
    };
    assert!(decide(&snap, &Review::default(), &config, "me")
        .events
        .is_empty());
}

#[test]
fn a_conflict_merged_closed_and_held_pull_requests() {
    let mut snap = snapshot();
    snap.pull.mergeable = Some(false);
    snap.pull.labels = vec![Label { name: HOLD.into() }];
    let d = decide_default(&snap, &Review::default());
    assert!(d.on_hold);
    assert_eq!(d.events.len(), 1);
    assert!(d.events[0].conflict);
    assert_eq!(d.events[0].key, "conflict:h1..b1");
    snap.pull.mergeable = None;
    assert!(decide_default(&snap, &Review::default()).mergeability_unknown);
    snap.pull.merged = true;
    snap.pull.state = "closed".into();
    snap.pull.merge_commit_sha = Some("m1".into());
    snap.pull.merged_by = user("octo");
    assert_eq!(
        decide_default(&snap, &Review::default()).settled,
        Some(Settled::Merged {
            commit: Some("m1".into()),
            by: Some("octo".into())
        })
    );
    snap.pull.merged = false;
    assert_eq!(
        decide_default(&snap, &Review::default()).settled,
        Some(Settled::Closed)
    );
}

#[test]
fn each_trigger_can_be_turned_off_and_the_mention_word_changed() {
    let mut snap = snapshot();
    snap.pull.mergeable = Some(false);
    snap.reviews = vec![ReviewItem {
        id: 7,
        user: user("octo"),
        author_association: "OWNER".into(),
        state: "CHANGES_REQUESTED".into(),
        body: Some("Not like this.".into()),
        ..ReviewItem::default()
    }];
    snap.comments = vec![
        comment(1, "alice", "MEMBER", "@agentos fix the title"),
        comment(2, "bob", "MEMBER", "@fixbot fix the body"),
    ];
    let keys = |config: &ReviewConfig| -> Vec<String> {
        decide(&snap, &Review::default(), config, "me")
            .events
            .into_iter()
            .map(|e| e.key)
            .collect()
    };
    assert_eq!(
        keys(&ReviewConfig::default()),
        ["review:7", "comment:1", "conflict:h1..b1"]
    );
    let off = |f: fn(&mut ReviewConfig)| {
        let mut config = ReviewConfig::default();
        f(&mut config);
        keys(&config)
    };
    assert_eq!(
        off(|c| c.on_changes_requested = false),
        ["comment:1", "conflict:h1..b1"]
    );
    assert_eq!(
        off(|c| c.on_mention = false),
        ["review:7", "conflict:h1..b1"]
    );
    assert_eq!(off(|c| c.on_conflict = false), ["review:7", "comment:1"]);
    assert_eq!(
        off(|c| c.mention = "@fixbot".into()),
        ["review:7", "comment:2", "conflict:h1..b1"]
    );
}
