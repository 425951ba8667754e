//! Unit tests of the queue: ordering, invalid files, claim, finish and reject.
use super::*;
use std::fs;

fn tree() -> (tempfile::TempDir, Tree) {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = Tree::new(dir.path());
    tree.ensure_runtime().expect("runtime");
    (dir, tree)
}

fn put(tree: &Tree, rel: &str, text: &str) {
    let path = tree.state_dir(State::Todo).join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

#[test]
fn orders_by_priority_then_enqueue_time() {
    let (_d, tree) = tree();
    put(
        &tree,
        "b.md",
        "+++\ntitle = \"b\"\ntargets = [\"x\"]\nenqueued = 2026-01-01T00:00:02Z\n+++\n",
    );
    put(
        &tree,
        "a.md",
        "+++\ntitle = \"a\"\ntargets = [\"x\"]\nenqueued = 2026-01-01T00:00:03Z\n+++\n",
    );
    put(&tree, "ops/c.md", "+++\ntitle = \"c\"\ntargets = [\"x\"]\npriority = 5\nenqueued = 2026-01-01T00:00:09Z\n+++\n");
    let ins = inspect_todo(&tree).expect("inspect");
    let ids: Vec<&str> = ins.ready.iter().map(|r| r.entry.id.as_str()).collect();
    assert_eq!(ids, ["c", "b", "a"]);
    assert_eq!(ins.ready[0].agent, "ops");
    assert_eq!(ins.ready[1].agent, "default");
}

#[test]
fn duplicates_and_mismatched_agents_are_invalid() {
    let (_d, tree) = tree();
    put(
        &tree,
        "a.md",
        "+++\ntitle = \"a\"\ntargets = [\"x\"]\n+++\n",
    );
    put(
        &tree,
        "ops/a.md",
        "+++\ntitle = \"a again\"\ntargets = [\"x\"]\n+++\n",
    );
    put(
        &tree,
        "ops/b.md",
        "+++\ntitle = \"b\"\ntargets = [\"x\"]\nagent = \"docs\"\n+++\n",
    );
    let ins = inspect_todo(&tree).expect("inspect");
    assert_eq!(ins.ready.len(), 1);
    let reasons: Vec<String> = ins.invalid.iter().map(|(_, e)| e.to_string()).collect();
    assert!(reasons[0].contains("already used"), "{reasons:?}");
    assert!(
        reasons[1].contains("todo/ops/") && reasons[1].contains("agent"),
        "{reasons:?}"
    );
}

#[test]
fn claim_then_finish_moves_the_file_and_its_record() {
    let (_d, tree) = tree();
    put(
        &tree,
        "a.md",
        "+++\ntitle = \"a\"\ntargets = [\"x\"]\n+++\nbody\n",
    );
    let ready = inspect_todo(&tree).expect("inspect").ready.remove(0);
    let (entry, mut record) = claim(&tree, &ready).expect("claim").expect("claimed");
    assert!(
        claim(&tree, &ready).expect("second claim").is_none(),
        "a task is claimed once"
    );
    assert_eq!(
        read_record(&entry.record_path()).expect("read"),
        Some(record.clone())
    );
    record.reason = Some("agent never started".into());
    let failed = finish(&tree, &entry, &record, State::Failed, None).expect("finish");
    assert_eq!(
        fs::read_to_string(&failed.path).expect("read"),
        "+++\ntitle = \"a\"\ntargets = [\"x\"]\n+++\nbody\n"
    );
    assert!(fs::read_to_string(failed.reason_path())
        .expect("reason")
        .contains("never started"));
    assert!(!entry.path.exists() && !entry.record_path().exists());
}

#[test]
fn a_finish_cut_short_by_a_crash_is_redone_in_place_not_duplicated() {
    let (_d, tree) = tree();
    put(
        &tree,
        "a.md",
        "+++\ntitle = \"a\"\ntargets = [\"x\"]\n+++\n",
    );
    let ready = inspect_todo(&tree).expect("inspect").ready.remove(0);
    let (entry, record) = claim(&tree, &ready).expect("claim").expect("claimed");
    let claimed_text = fs::read_to_string(&entry.path).expect("read");
    let done = finish(&tree, &entry, &record, State::Done, Some("first output")).expect("finish");
    // The crash: the output is in done/, the claimed file still in doing/.
    fs::write(&entry.path, &claimed_text).expect("restore");
    write_record(&entry.record_path(), &record).expect("record");
    let again = finish(&tree, &entry, &record, State::Done, Some("second output")).expect("finish");
    assert_eq!(again.path, done.path);
    assert_eq!(
        fs::read_to_string(&done.path).expect("read"),
        "second output"
    );
    assert_eq!(entries(&tree, State::Done).expect("entries").len(), 1);
    assert!(entries(&tree, State::Doing).expect("entries").is_empty());
    // A file of the same name from a different claim is never replaced.
    let mut stranger = record.clone();
    stranger.claimed_at = Some(crate::clock::Timestamp::from_nanos(1));
    fs::write(&entry.path, &claimed_text).expect("restore");
    write_record(&entry.record_path(), &stranger).expect("record");
    let other = finish(&tree, &entry, &stranger, State::Done, Some("other")).expect("finish");
    assert_ne!(other.path, done.path);
    assert_eq!(
        fs::read_to_string(&done.path).expect("read"),
        "second output"
    );
}

#[test]
fn reject_keeps_bytes_and_never_overwrites() {
    let (_d, tree) = tree();
    put(&tree, "x.md", "garbage");
    let first = entries(&tree, State::Todo).expect("entries").remove(0);
    let moved = reject(&tree, &first, "bad").expect("reject");
    put(&tree, "x.md", "garbage 2");
    let second = entries(&tree, State::Todo).expect("entries").remove(0);
    let moved2 = reject(&tree, &second, "bad again").expect("reject");
    assert_ne!(moved.path, moved2.path);
    assert_eq!(fs::read_to_string(&moved.path).expect("read"), "garbage");
    assert_eq!(fs::read_to_string(&moved2.path).expect("read"), "garbage 2");
}

/// Enough files for the scan's threads, in two folders, queued in the reverse of
/// their names' order: the first scan parses each, the second (once the files are
/// old enough to be cached) takes each from the index, and both give the same
/// tasks in the same order. A task with every field set comes back whole.
#[test]
fn the_todo_index_gives_what_parsing_gives() {
    let (_d, tree) = tree();
    let n = 400;
    for i in 0..n {
        let folder = if i % 3 == 0 { "ops/" } else { "" };
        put(
            &tree,
            &format!("{folder}t{i:03}.md"),
            &format!(
                "+++\ntitle = \"Task {i}\"\ntargets = [\"src/f{i}.rs\"]\nenqueued = 2026-01-01T00:{:02}:{:02}Z\n+++\nBody {i}\n",
                (n - i) / 60,
                (n - i) % 60
            ),
        );
    }
    put(
        &tree,
        "full.md",
        "+++\ntitle = \"Everything\"\ntargets = [\"a\", \"b/**\"]\nagent = \"default\"\nbase = \"0123456789abcdef0123456789abcdef01234567\"\nbase_branch = \"main\"\nverify = [\"true\"]\npriority = -2\ntimeout = \"5m\"\nenqueued = 2025-06-01T00:00:00Z\nrequire_all = false\ndraft = true\nlabels = [\"x\"]\ntriggered_by = [\"docs\"]\nsource_change = \"abc\"\nafter = [\"t001\"]\nstack = false\nmax_turns = 7\nmax_cost_usd = 1.5\n+++\n",
    );
    // The body is not part of a scan's result (a fresh parse may keep it).
    let summary = |ins: &Inspection| -> Vec<(String, String, crate::task::Task)> {
        ins.ready
            .iter()
            .map(|r| {
                let task = crate::task::Task {
                    body: String::new(),
                    ..(*r.task).clone()
                };
                (r.entry.id.clone(), r.agent.clone(), task)
            })
            .collect()
    };
    let fresh = inspect_todo(&tree).expect("inspect");
    assert!(fresh.invalid.is_empty(), "{:?}", fresh.invalid);
    assert_eq!(fresh.ready.len(), n + 1);
    assert_eq!(fresh.ready[0].entry.id, "t399", "the earliest queued first");
    assert_eq!(fresh.ready[n].entry.id, "full", "lowest priority last");
    assert_eq!(fresh.ready[n].task.max_turns, Some(7));
    // Files changed in the last two seconds are never taken from the index.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let parsed = inspect_todo(&tree).expect("inspect");
    let index = fs::read_to_string(tree.todo_index_path()).expect("index");
    assert_eq!(index.lines().count(), n + 2, "every file cached");
    assert!(
        !index.contains("null"),
        "defaults are left out: {index:.400}"
    );
    let cached = inspect_todo(&tree).expect("inspect");
    assert!(
        summary(&cached) == summary(&fresh),
        "the index changed a task"
    );
    assert!(
        summary(&parsed) == summary(&fresh),
        "a second parse changed a task"
    );
}
