use super::*;

fn repo() -> (tempfile::TempDir, Tree) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join(".agentos/hooks")).expect("mkdir");
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(&root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    (dir, Tree::new(&root))
}

#[test]
fn a_repository_notifier_runs_only_untracked_and_never_through_a_link() {
    let (_dir, tree) = repo();
    let hooks = tree.dir.join("hooks");
    std::fs::write(hooks.join("task-done"), "#!/bin/sh\n").expect("write");
    assert_eq!(notifiers(&tree, "task-done"), [Ok(hooks.join("task-done"))]);
    assert!(notifiers(&tree, "task-failed").is_empty());
    let status = std::process::Command::new("git")
        .args(["add", "-f", ".agentos/hooks/task-done"])
        .current_dir(&tree.repo_root)
        .status()
        .expect("git add");
    assert!(status.success());
    let refused = notifiers(&tree, "task-done");
    assert!(
        matches!(&refused[..], [Err(why)] if why.contains("git tracks it")),
        "{refused:?}"
    );
    std::os::unix::fs::symlink("/bin/true", hooks.join("paused")).expect("link");
    let refused = notifiers(&tree, "paused");
    assert!(
        matches!(&refused[..], [Err(why)] if why.contains("not a link")),
        "{refused:?}"
    );
}

#[test]
fn an_event_names_the_repository_and_carries_no_token() {
    let (_dir, tree) = repo();
    let event = Event::about_queue(&tree, Some("web"), Kind::Paused, Some("usage limit"));
    let json = serde_json::to_value(&event).expect("json");
    assert_eq!(json["event"], "paused");
    assert_eq!(json["repository_name"], "web");
    assert_eq!(json["reason"], "usage limit");
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        [
            "task-done",
            "task-failed",
            "needs-human",
            "paused",
            "resumed"
        ]
    );
}

#[test]
fn escapes_and_crash_loops_need_a_person_other_failures_do_not() {
    assert!(needs_human(
        "gave up after 3 attempts: attempt 1 (pid 7) died after step agent"
    ));
    assert!(needs_human(
        "the agent moved `refs/heads/main` (a ref outside its task branch)"
    ));
    assert!(!needs_human("verify: `cargo test` failed"));
    assert!(!needs_human("cancelled"));
}
