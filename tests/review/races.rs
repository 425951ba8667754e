//! The remote moves while a round works (someone pushes to the branch): the
//! push is refused as a fast-forward, never forced; the round starts over from
//! a fresh fetch once, and the second time it stops, saying why, in its reply.
use super::{Scenario, ID};
use crate::support::github::Who;
use crate::support::{wait_until, FakeAgent, Run};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// An agent that appends a line to README.md, each of its runs numbered: run n
/// says so (`started.n`) and waits for `go.n` in the scratch folder.
fn waiting_agent(s_repo: &crate::support::TestRepo) -> (String, PathBuf) {
    let scratch = s_repo.scratch();
    let agent = FakeAgent::new(s_repo)
        .runs(&format!(
            "n=$(( $(cat {d}/runs 2>/dev/null || echo 0) + 1 )); echo $n > {d}/runs; touch {d}/started.$n; while [ ! -e {d}/go.$n ]; do sleep 0.02; done",
            d = scratch.display()
        ))
        .runs("echo \"a line from pid $$\" >> README.md")
        .build();
    (agent, scratch)
}

/// `sync` in the background, releasing each agent run after `during(n)`.
fn sync_with(
    s: &mut Scenario,
    scratch: &Path,
    runs: &[u32],
    during: impl Fn(&Scenario, u32),
) -> Run {
    let child = s
        .repo
        .cmd(&["sync"])
        .envs(s.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sync");
    for n in runs {
        wait_until(Duration::from_secs(60), "the round's agent started", || {
            scratch.join(format!("started.{n}")).exists()
        });
        during(s, *n);
        std::fs::write(scratch.join(format!("go.{n}")), "").expect("go");
    }
    let run = Run::from(child.wait_with_output().expect("sync"));
    s.printed.push_str(&run.stdout);
    s.printed.push_str(&run.stderr);
    run
}

#[test]
fn a_branch_that_moves_during_the_round_is_fetched_again_and_the_round_redone_once() {
    let mut scratch = PathBuf::new();
    let mut s = Scenario::published_fake(|repo| {
        let (agent, dir) = waiting_agent(repo);
        scratch = dir;
        std::fs::write(scratch.join("go.1"), "").expect("the publish runs freely");
        agent
    });
    s.github
        .comment(1, &Who::member("alice"), "@agentos one more line");
    let pushed = std::cell::RefCell::new(String::new());
    let run = sync_with(&mut s, &scratch, &[2, 3], |s, n| {
        if n == 2 {
            *pushed.borrow_mut() =
                s.person_pushes("README.md", "# Example\n\nMine.\n", "A person's commit");
        }
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("moved on origin while the round worked; starting the round over"),
        "{}",
        run.stderr
    );
    let log = s.branch_log();
    assert_eq!(log.len(), 3, "publish, the person's, the round's: {log:?}");
    assert_eq!(
        log[1],
        *pushed.borrow(),
        "the round was redone on top of the person's commit"
    );
    assert_eq!(s.github.posted(1).len(), 1);
    assert!(
        s.github.posted(1)[0].contains("pushed "),
        "{}",
        s.github.posted(1)[0]
    );
    s.assert_no_token();
}

#[test]
fn a_branch_that_moves_twice_stops_the_round_with_the_reason_and_pushes_nothing() {
    let mut scratch = PathBuf::new();
    let mut s = Scenario::published_fake(|repo| {
        let (agent, dir) = waiting_agent(repo);
        scratch = dir;
        std::fs::write(scratch.join("go.1"), "").expect("the publish runs freely");
        agent
    });
    s.github
        .comment(1, &Who::member("alice"), "@agentos one more line");
    let run = sync_with(&mut s, &scratch, &[2, 3], |s, n| {
        s.person_pushes(
            "README.md",
            &format!("# Example\n\nMine, {n}.\n"),
            "A person's commit",
        );
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        s.branch_log().len(),
        3,
        "publish and the person's two commits"
    );
    let replies = s.github.posted(1);
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0].contains(
            "nothing was pushed: agentos/fix moved on `origin` while the round worked, twice"
        ),
        "{}",
        replies[0]
    );
    let friction = s.repo.read(".agentos/friction.jsonl");
    assert!(
        friction.contains("\"kind\":\"review-round-failed\"")
            && friction.contains("\"step\":\"round-push\""),
        "{friction}"
    );
    let show = s.agentos(&["show", ID]).ok();
    assert!(
        show.stdout
            .contains("round     1: answered the comment by @alice: stopped:"),
        "{}",
        show.stdout
    );
    s.assert_no_token();
}
