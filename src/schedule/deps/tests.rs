use super::*;
use crate::clock::Timestamp;
use crate::queue::Entry;
use crate::task::Task;
use std::path::PathBuf;

fn ready(id: &str, after: &[&str]) -> Ready {
    Ready {
        entry: Entry {
            id: id.into(),
            state: State::Todo,
            path: PathBuf::from(format!("todo/{id}.md")),
            folder_agent: None,
        },
        task: Box::new(Task {
            title: id.into(),
            targets: vec!["a".into()],
            after: after.iter().map(|s| s.to_string()).collect(),
            ..Task::default()
        }),
        agent: "default".into(),
        enqueued: Timestamp::EPOCH,
    }
}

fn states(pairs: &[(&str, State)], queued: &[Ready]) -> HashMap<String, State> {
    let mut out: HashMap<String, State> =
        pairs.iter().map(|(id, s)| (id.to_string(), *s)).collect();
    for r in queued {
        out.insert(r.entry.id.clone(), State::Todo);
    }
    out
}

#[test]
fn waits_on_queued_and_running_tasks_and_runs_after_done_ones() {
    let queue = vec![
        ready("schema", &[]),
        ready("api", &["schema"]),
        ready("docs", &["api", "old"]),
        ready("ui", &["running", "old"]),
    ];
    let s = states(&[("old", State::Done), ("running", State::Doing)], &queue);
    let v = verdicts_with(&s, &queue);
    assert_eq!(v[0], Verdict::Runnable);
    assert_eq!(
        v[1],
        Verdict::Held(Hold::Waiting {
            on: vec!["schema".into()]
        })
    );
    assert_eq!(
        v[2],
        Verdict::Held(Hold::Waiting {
            on: vec!["api".into()]
        })
    );
    assert_eq!(
        v[3],
        Verdict::Held(Hold::Waiting {
            on: vec!["running".into()]
        })
    );
}

#[test]
fn a_failed_dependency_blocks_its_dependants_down_the_chain() {
    let queue = vec![ready("api", &["schema"]), ready("docs", &["api"])];
    let s = states(&[("schema", State::Failed)], &queue);
    let v = verdicts_with(&s, &queue);
    let blocked = |through: Option<&str>| {
        Verdict::Held(Hold::Blocked {
            failed: "schema".into(),
            through: through.map(str::to_string),
        })
    };
    assert_eq!(v, vec![blocked(None), blocked(Some("api"))]);
    let Verdict::Held(hold) = &v[1] else {
        unreachable!()
    };
    assert_eq!(hold.describe(), "blocked: schema failed (through api)");
}

#[test]
fn cycles_and_unknown_ids_never_run() {
    let queue = vec![
        ready("a", &["b"]),
        ready("b", &["c"]),
        ready("c", &["a"]),
        ready("self", &["self"]),
        ready("lost", &["nowhere"]),
        ready("tail", &["a"]),
    ];
    let s = states(&[], &queue);
    let v = verdicts_with(&s, &queue);
    let what = |i: usize| match &v[i] {
        Verdict::Never(p) => p.what.clone(),
        other => panic!("{i}: {other:?}"),
    };
    assert!(what(0).ends_with("a → b → c → a"), "{}", what(0));
    assert!(what(2).ends_with("c → a → b → c"), "{}", what(2));
    assert!(what(3).ends_with("self → self"), "{}", what(3));
    assert!(what(4).contains("`nowhere` is no task"), "{}", what(4));
    // Waiting on a task in a cycle is waiting (the cycle is quarantined first).
    assert!(matches!(v[5], Verdict::Held(Hold::Waiting { .. })));
}

#[test]
fn a_long_chain_is_judged_without_deep_recursion() {
    let mut queue = vec![ready("t0", &[])];
    for i in 1..2000 {
        queue.push(ready(&format!("t{i}"), &[&format!("t{}", i - 1)]));
    }
    let s = states(&[], &queue);
    let v = verdicts_with(&s, &queue);
    assert_eq!(v[0], Verdict::Runnable);
    assert!(v[1..].iter().all(|x| matches!(x, Verdict::Held(_))));
}

#[test]
fn a_stacked_task_runs_once_its_dependency_is_in_review_others_wait_for_the_merge() {
    let mut unstacked = ready("docs", &["schema"]);
    unstacked.task.stack = Some(false);
    let queue = vec![
        ready("api", &["schema"]),
        unstacked,
        ready("both", &["schema", "old"]),
        ready("ui", &["running"]),
    ];
    let s = states(
        &[
            ("schema", State::Review),
            ("old", State::Done),
            ("running", State::Doing),
        ],
        &queue,
    );
    let v = verdicts_with(&s, &queue);
    assert_eq!(v[0], Verdict::Runnable, "stacked: its pull request is open");
    let waiting = |on: &str| {
        Verdict::Held(Hold::Waiting {
            on: vec![on.to_string()],
        })
    };
    assert_eq!(v[1], waiting("schema"), "stack = false waits for the merge");
    assert_eq!(v[2], waiting("schema"), "after two tasks: not stacked");
    assert_eq!(
        v[3],
        waiting("running"),
        "a stacked task waits on a running one"
    );
}
