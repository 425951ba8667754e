//! How a followed pull request ends: merged (done/, with the merge commit and
//! who merged) or closed without merging (failed/, saying by whom).
use super::{readme_rounds, Scenario, ID};

#[test]
fn merged_moves_the_task_to_done_with_the_merge_commit_and_who_merged() {
    let mut s = Scenario::published(readme_rounds(), &[]);
    let merge = s.github.merge(1, "octo");
    let sync = s.agentos(&["sync"]).ok();
    assert!(
        sync.stdout.contains(&format!("done    {ID}")),
        "{}",
        sync.stdout
    );
    assert!(s.repo.exists(".agentos/done/fix.md"));
    assert!(!s.repo.exists(".agentos/review/fix.md"));
    let record = s.record();
    assert_eq!(record["review"]["merged"]["commit"], merge.as_str());
    assert_eq!(record["review"]["merged"]["by"], "octo");
    assert_eq!(record["review"]["phase"]["phase"], "merged");
    let done = s.repo.read(".agentos/done/fix.md");
    assert!(
        done.contains(&format!("- merged by @octo as `{merge}`")),
        "{done}"
    );
    let list = s.agentos(&["list", "--state", "done"]).ok();
    assert!(
        list.stdout.contains("#1 merged by @octo as"),
        "{}",
        list.stdout
    );
    // Nothing left to follow: a pass asks GitHub nothing.
    let before = s.github.state.lock().expect("lock").requests.len();
    let sync = s.agentos(&["sync"]).ok();
    assert!(sync.stdout.contains("review/ is empty"), "{}", sync.stdout);
    assert_eq!(s.github.state.lock().expect("lock").requests.len(), before);
    s.assert_no_token();
}

#[test]
fn closed_without_merging_moves_the_task_to_failed_saying_by_whom() {
    let mut s = Scenario::published(readme_rounds(), &[]);
    let queued = s.repo.read(".agentos/review/fix.md");
    s.github.close(1, "octo");
    let sync = s.agentos(&["sync"]).code(1);
    assert!(
        sync.stdout
            .contains("failed  fix: closed without merging by @octo"),
        "{}",
        sync.stdout
    );
    assert_eq!(
        s.repo.read(".agentos/failed/fix.md"),
        queued,
        "the file untouched"
    );
    let reason = s.repo.read(".agentos/failed/fix.reason");
    assert!(
        reason.starts_with("closed without merging by @octo (pull request https://github.invalid/octo/widgets/pull/1)"),
        "{reason}"
    );
    let friction = s.repo.read(".agentos/friction.jsonl");
    assert!(friction.contains("\"kind\":\"pr-closed\""), "{friction}");
    s.assert_no_token();
}
