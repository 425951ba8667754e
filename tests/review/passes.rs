//! What one pass costs and what it does when GitHub says no: six conditional
//! requests per pull request (and `GET /user` once per dispatcher), all `304`
//! and free when nothing changed; a rate limit that lasts an hour puts the next
//! pass after it; checks still running are waited for.
use super::{readme_rounds, Scenario, ID};
use crate::support::github::Check;

#[test]
fn a_pass_over_an_unchanged_pull_request_costs_no_rate_limit() {
    let mut s = Scenario::published(readme_rounds(), &[]);
    s.agentos(&["sync"]).ok(); // the first pass reads everything
    let (charged, not_modified) = (s.github.charged(), s.github.not_modified());
    s.agentos(&["sync"]).ok();
    assert_eq!(s.github.charged(), charged, "nothing charged");
    assert_eq!(
        s.github.not_modified(),
        not_modified + 7,
        "the six requests of the pass and GET /user, each answered 304"
    );
    assert_eq!(s.record()["review"]["passes"], 2);
    // A check starts on the head: the pass sees it running.
    let head = s.github.head_sha(1);
    let running = s.github.check_run(&head, &Check::running("ci/test"));
    s.agentos(&["sync"]).ok();
    let list = s.agentos(&["list"]).ok();
    assert!(
        list.stdout.contains("(#1 checks running (`ci/test`))"),
        "{}",
        list.stdout
    );
    // It fails: a round, once every check on the head has finished.
    s.github.finish_check(running, "failure");
    s.agentos(&["sync"]).ok();
    assert_eq!(s.github.posted(1).len(), 1);
    s.assert_no_token();
}

#[test]
fn an_hour_long_rate_limit_puts_the_next_pass_after_it() {
    let mut s = Scenario::published(readme_rounds(), &[]);
    s.github.state.lock().expect("lock").rate_limit_once = Some(3600);
    let now = ("AGENTOS_NOW", "2030-01-02T03:04:05Z");
    s.agentos_env(&["sync"], &[now]).ok();
    let review = s.record()["review"].clone();
    let error = review["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("rate-limited") && error.contains("3600 s"),
        "{review}"
    );
    assert_eq!(review["next_pass"], "2030-01-02T04:04:05.000000000Z");
    let status = s.agentos_env(&["status"], &[now]).ok();
    assert!(
        status
            .stdout
            .contains("(the last pass failed: GitHub rate-limited the token (403)")
            && status.stdout.contains("next pass in 1h ("),
        "{}",
        status.stdout
    );
    let friction = s.repo.read(".agentos/friction.jsonl");
    assert_eq!(
        friction.matches("\"kind\":\"review-pass-failed\"").count(),
        1
    );
    // The limit over, the next pass reads the pull request again.
    s.agentos(&["sync"]).ok();
    assert!(s.record()["review"]["last_error"].is_null());
    assert!(s.repo.exists(&format!(".agentos/review/{ID}.md")));
    s.assert_no_token();
}
