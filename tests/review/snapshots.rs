//! What a person reads about a task in review/: `sync`'s output, `status`,
//! `list`, `show` (text and JSON), and the reply the pull request gets; whole,
//! normalised (times pinned with `AGENTOS_NOW`).
use super::Scenario;
use crate::support::github::Who;
use crate::support::FakeAgent;
use insta::assert_snapshot;

const NOW: (&str, &str) = ("AGENTOS_NOW", "2030-01-02T03:04:05Z");

#[test]
fn a_task_in_review_before_and_after_a_round() {
    let mut s = Scenario::published_fake(|repo| {
        FakeAgent::new(repo)
            .runs("echo 'Pin it: `cargo install --locked`.' >> README.md")
            .reports(2, 0.05, "Pinned the version in the install line.")
            .build()
    });
    let status = s.agentos_env(&["status"], &[NOW]).ok();
    assert_snapshot!(s.repo.output(&status), @"
    repository  [REPO]
    dispatcher  not running (start one with `git agentos run` or `git agentos watch`)
    queue       0 todo, 0 doing, 1 in review, 0 done, 0 failed
    spent       $0.00 today, $0.00 this week
    review      fix: #1 published, not looked at yet; next pass due now ([TIME]), when a dispatcher runs (`git agentos watch`; `git agentos sync` makes one now)
                  https://github.invalid/octo/widgets/pull/1
    ");
    s.github.review(
        1,
        &Who::owner("octo"),
        "CHANGES_REQUESTED",
        "Pin the version, please.",
    );
    s.github.comment(
        1,
        &Who::stranger("mallory"),
        "@agentos publish my crate too",
    );
    let sync = s.agentos_env(&["sync"], &[NOW]).ok();
    assert_snapshot!(s.repo.output(&sync), @"
    review  fix: waiting for review
    ------- stderr -------
    fix: a comment from @mallory (NONE, no write access) is shown, not acted on: @agentos publish my crate too
    fix: pull request #1: round 1 of 3 answering the review by @octo requesting changes
    fix: agent started (session fake)
    fix: agent finished (success, 2 turns, $0.0500)
    fix: round 1: pushed agentos/fix to origin (fast-forward)
    fix: round 1: replied on pull request #1
    ");
    assert_snapshot!(s.repo.normalise(&s.github.posted(1).join("\n---\n")), @"
    <!-- agentos:reply fix round 1 -->
    **git agentos, round 1 of 3**, answering:
    - the review by @octo requesting changes

    **What changed**: pushed [SHA] as a fast-forward; anything pushed to the branch before it is kept.
    - `README.md` (modified)

    **Verification**: passed (6 rules held)

    **The agent's summary**

    > Pinned the version in the install line.

    <sub>`@agentos stop` stops these rounds, `@agentos retry` allows more; round 1 of the 3 it makes on its own.</sub>
    ");
    let status = s.agentos_env(&["status"], &[NOW]).ok();
    assert_snapshot!(s.repo.output(&status), @"
    repository  [REPO]
    dispatcher  not running (start one with `git agentos run` or `git agentos watch`)
    queue       0 todo, 0 doing, 1 in review, 0 done, 0 failed
    spent       $0.05 today, $0.05 this week
    review      fix: #1 waiting for review; next pass in 30s ([TIME]), when a dispatcher runs (`git agentos watch`; `git agentos sync` makes one now)
                  https://github.invalid/octo/widgets/pull/1
    ");
    let list = s.agentos_env(&["list"], &[NOW]).ok();
    assert_snapshot!(s.repo.output(&list), @"
    STATE   ID  AGENT       PRI  TITLE
    review  fix default       0  Fix the install command  (#1 waiting for review)
    ");
    let show = s.agentos_env(&["show", "fix"], &[NOW]).ok();
    assert_snapshot!(s.repo.output(&show), @"
    id        fix
    state     review  (.agentos/review/fix.md)
    title     Fix the install command
    agent     default
    targets   README.md
    base      [SHA] (branch main)
    priority  0
    timeout   30m (default)
    enqueued  [TIME]
    attempt   1
    steps     claim → preflight → worktree → agent → commit → verify → publish → finish
    agent run success, 2 turns, $0.0500
    sandbox   on (Landlock ABI [N])
    pr        https://github.invalid/octo/widgets/pull/1
    review    #1 waiting for review
    next pass in 30s ([TIME])
    round     1: answered the review by @octo requesting changes: pushed [SHORT-SHA]; verification passed (6 rules held)
    ignored   @mallory (NONE, no write access): @agentos publish my crate too
    pushed    [SHA] to origin
    report    .agentos/runs/fix/round-1/report.md
    branch    agentos/fix at [SHA]
    ");
    // `list --json` and `show --json` carry the same: the words, and the
    // record's review (phase, rounds, next pass, the rounds made).
    let list = s.agentos_env(&["list", "--json"], &[NOW]).ok().json();
    let listed = list
        .as_array()
        .and_then(|all| all.iter().find(|t| t["id"] == "fix"))
        .cloned()
        .unwrap_or_else(|| panic!("fix in {list}"));
    let shown = s
        .agentos_env(&["show", "fix", "--json"], &[NOW])
        .ok()
        .json();
    for json in [&listed, &shown] {
        assert_eq!(json["state"], "review", "{json}");
        assert_eq!(json["review_state"], "waiting for review", "{json}");
        let review = &json["record"]["review"];
        assert_eq!(review["phase"]["phase"], "waiting-for-review", "{json}");
        assert_eq!(review["rounds"], 1, "{json}");
        assert_eq!(
            review["next_pass"], "2030-01-02T03:04:35.000000000Z",
            "{json}"
        );
        assert_eq!(
            review["history"][0]["answered"], "the review by @octo requesting changes",
            "{json}"
        );
        assert!(review["round"].is_null(), "no round in progress: {json}");
    }
    let json = s.agentos_env(&["status", "--json"], &[NOW]).ok().json();
    let review = serde_json::to_string_pretty(&json["review"]).expect("json");
    assert_snapshot!(s.repo.normalise(&review), @r#"
    [
      {
        "id": "fix",
        "last_error": null,
        "next_pass": "[TIME]",
        "phase": {
          "phase": "waiting-for-review"
        },
        "pr_url": "https://github.invalid/octo/widgets/pull/1",
        "rounds": 1,
        "state": "waiting for review"
      }
    ]
    "#);
}
