//! Exactly one owner per queue: a repository whose lock another dispatcher
//! holds is skipped, shown as such, and served once that one ends.
use super::{queue, wait_done, Fleet};
use crate::support::{wait_until, waiting_agent, Run};
use std::process::Stdio;
use std::time::Duration;

#[test]
fn a_repository_held_by_another_run_is_skipped_then_served_when_it_frees() {
    let fleet = Fleet::new(&["one", "two"]);
    let (one, two) = (&fleet.repos[0], &fleet.repos[1]);
    let waiting = fleet.scratch.join("waiting");
    let go = fleet.scratch.join("go");
    let waiter = waiting_agent(one, &waiting, &go);
    queue(two, "t1");
    let run = two
        .cmd(&["run", "--once", "--no-pr"])
        .env("AGENTOS_AGENT_CMD", &waiter)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn run");
    wait_until(Duration::from_secs(30), "run's agent waits", || {
        waiting.exists()
    });
    queue(two, "t2");
    queue(one, "o1");
    let agent = fleet.logging_agent();
    let watch = fleet.watch(&[], &[("AGENTOS_AGENT_CMD", &agent)]);
    watch.wait_for("[two] skipped: another dispatcher holds its queue, pid");
    wait_done(one, &["o1"]);
    assert!(
        two.exists(".agentos/todo/t2.md"),
        "two is not served while run holds it"
    );
    // The fleet holds one's lock: a run there is refused, naming it.
    one.agentos(&["run", "--no-pr"])
        .code(3)
        .stderr_has("another dispatcher holds the queue of")
        .stderr_has("`git agentos watch --fleet`");
    std::fs::write(&go, "").expect("release run's agent");
    Run::from(run.wait_with_output().expect("wait for run")).ok();
    wait_done(two, &["t1", "t2"]);
    watch.wait_for("[two] serving");
    assert_eq!(fleet.log().iter().filter(|l| *l == "start t2").count(), 1);
    assert_eq!(watch.stop(), Some(0));
}
