use super::*;

fn limit(kind: LimitKind, resets_at: Option<Timestamp>) -> Limit {
    Limit {
        kind,
        resets_at,
        message: "limit".into(),
    }
}

#[test]
fn without_a_reset_the_backoff_doubles_to_an_hour_and_a_clean_run_forgets_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = Tree::new(dir.path());
    let now = Timestamp::parse("2026-11-26T02:00:00Z").expect("time");
    let mut waits = Vec::new();
    for _ in 0..6 {
        let p =
            pause_for(&tree, &limit(LimitKind::RateLimit, None), Some("a"), now).expect("pause");
        waits.push(p.until.seconds_since(now) as u64 / 60);
        resume(&tree, now).expect("resume");
        // resume forgets the backoff; a limit straight after starts over.
        let mut state = load(&tree);
        state.backoff_secs = p.until.seconds_since(now) as u64;
        save(&tree, &state).expect("save");
    }
    assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
    forget_backoff(&tree);
    let p = pause_for(&tree, &limit(LimitKind::Overloaded, None), None, now).expect("pause");
    assert_eq!(p.until, now.after(BACKOFF_FIRST));
    assert_eq!(load(&tree).front, ["a"], "the task is listed once");
}

#[test]
fn a_reset_time_is_kept_and_a_later_pause_is_never_shortened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = Tree::new(dir.path());
    let now = Timestamp::parse("2026-11-26T02:00:00Z").expect("time");
    let reset = Timestamp::parse("2026-11-26T03:00:00Z").expect("time");
    let p = pause_for(
        &tree,
        &limit(LimitKind::UsageLimit, Some(reset)),
        Some("a"),
        now,
    )
    .expect("pause");
    assert_eq!(p.until, reset);
    assert_eq!(current(&tree, now).map(|p| p.until), Some(reset));
    assert_eq!(current(&tree, reset), None, "over at the reset time");
    let p = pause_for(&tree, &limit(LimitKind::RateLimit, None), Some("b"), now).expect("pause");
    assert_eq!(p.until, reset, "the longer pause stands");
    assert_eq!(load(&tree).front, ["a", "b"]);
    let ids = ["c", "b", "a"];
    assert_eq!(front_first(&tree, ids.to_vec(), |s| s), ["a", "b", "c"]);
    prune_front(&tree, &["b", "c"]);
    assert_eq!(load(&tree).front, ["b"]);
    assert!(resume(&tree, now).expect("resume").is_some());
    assert_eq!(current(&tree, now), None);
    assert!(
        resume(&tree, now).expect("resume").is_none(),
        "nothing to end"
    );
}
