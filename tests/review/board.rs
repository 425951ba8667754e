//! `git agentos board` shows the tasks in review/: a column of their own, each
//! card saying what its pull request waits for and when the next pass is due,
//! the task's page its rounds and a cancel button; once merged, the card in
//! Done says who merged it.
use super::{Scenario, ID};
use crate::support::board::BoardProcess;
use crate::support::github::Who;
use crate::support::FakeAgent;

const NOW: (&str, &str) = ("AGENTOS_NOW", "2030-01-02T03:04:05Z");

/// The HTML of the card of `ID` in the column of `state`.
fn card(page: &str, state: &str) -> String {
    let column = page
        .split(&format!("data-state=\"{state}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no column {state}: {page}"));
    let column = column.split("<section").next().unwrap_or_default();
    let card = column
        .split(&format!("data-id=\"{ID}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no card {ID} in {state}: {column}"));
    card.split("</article>")
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_board_shows_a_task_in_review_what_its_pull_request_waits_for_and_its_rounds() {
    let mut s = Scenario::published_fake(|repo| {
        FakeAgent::new(repo)
            .runs("echo 'Pin it: `cargo install --locked`.' >> README.md")
            .reports(1, 0.0, "Pinned the version.")
            .build()
    });
    s.github
        .review(1, &Who::owner("octo"), "CHANGES_REQUESTED", "Pin it.");
    s.agentos_env(&["sync"], &[NOW]).ok();
    let board = BoardProcess::start(&s.repo, &[], &[NOW]);
    let cookie = board.cookie();

    let page = board.request("GET", "/", &[&cookie], "").body;
    assert!(
        page.contains("In review <span class=\"count\">1</span>"),
        "{page}"
    );
    let review = card(&page, "review");
    for part in [
        "#1 waiting for review",
        "next pass in 30s (2030-01-02T03:04:35",
        "pull request",
        &format!("/r/repo/task/{ID}/cancel"),
    ] {
        assert!(review.contains(part), "the card lacks {part:?}: {review}");
    }
    let task = board
        .request("GET", &format!("/r/repo/task/{ID}"), &[&cookie], "")
        .body;
    for part in [
        "state-review",
        "<h2>Pull request</h2>",
        "round 1: answered the review by @octo requesting changes: pushed ",
        "; verification passed",
        &format!("/r/repo/task/{ID}/cancel"),
    ] {
        assert!(task.contains(part), "the task page lacks {part:?}: {task}");
    }
    assert!(
        !task.contains("at step finish"),
        "not shown as running: {task}"
    );

    s.github.merge(1, "octo");
    s.agentos_env(&["sync"], &[NOW]).ok();
    let page = board.request("GET", "/", &[&cookie], "").body;
    let done = card(&page, "done");
    assert!(done.contains("#1 merged by @octo as "), "{done}");
    assert!(!done.contains("next pass"), "{done}");
    assert!(
        page.contains("In review <span class=\"count\">0</span>"),
        "{page}"
    );
    s.assert_no_token();
}
