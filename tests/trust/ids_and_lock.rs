//! Case 3: an id is an id, never a path. Case 5: the dispatcher lock survives a
//! person deleting `.agentos/dispatcher.lock`, a dispatcher whose lock file is
//! gone stops claiming and says so, and no dispatcher resumes a task whose
//! dispatcher is alive.
use crate::support::{wait_until, FakeAgent, TestRepo};
use std::process::{Child, Stdio};
use std::time::Duration;

#[test]
fn ids_that_are_paths_are_refused_before_anything_is_touched() {
    let repo = TestRepo::initialised();
    let notes = repo.dir.path().join("notes.md");
    std::fs::write(&notes, "my notes\n").expect("write");
    let outside = repo.dir.path().join("notes");
    let readme = repo.read("README.md");
    let ids = [
        outside.to_str().expect("utf8"),
        "../../README",
        "../todo/x",
        "a/b",
    ];
    for command in ["show", "cancel", "retry", "logs", "verify"] {
        for id in ids {
            repo.agentos(&[command, id])
                .code(2)
                .stderr_has("is not a task id");
        }
    }
    let home = repo.dir.path().join("agentos-home");
    repo.agentos_env(
        &["mcp", "--task", "../../README"],
        &[("AGENTOS_HOME", home.to_str().expect("utf8"))],
    )
    .code(2)
    .stderr_has("is not a task id");
    assert_eq!(
        std::fs::read_to_string(&notes).expect("notes"),
        "my notes\n"
    );
    assert_eq!(repo.read("README.md"), readme);
    let beside: Vec<String> = std::fs::read_dir(repo.dir.path())
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("notes") || n.starts_with("README"))
        .collect();
    assert_eq!(
        beside,
        vec!["notes.md".to_string()],
        "nothing was written beside them"
    );
    assert!(repo.files_in(".agentos/failed").is_empty());
}

/// An agent that says it started, then waits for `go` (the test's word) before
/// fixing the README; other tasks' agents fix theirs at once.
fn waiting_agent(repo: &TestRepo, waits_for: &str) -> String {
    let dir = repo.scratch().display().to_string();
    FakeAgent::new(repo)
        .runs(&format!(
            r#"if [ "$AGENTOS_TASK_ID" = {waits_for} ]; then touch '{dir}/started'; while [ ! -e '{dir}/go' ]; do sleep 0.02; done; fi"#
        ))
        .runs(r#"echo "$AGENTOS_TASK_ID" > "$AGENTOS_TASK_ID.txt""#)
        .build()
}

/// Queue `slow`, start a dispatcher on it, and wait until its agent started
/// (it then waits for `go`). Returns the dispatcher and the agent script.
fn first_dispatcher(repo: &TestRepo) -> (Child, String) {
    add(repo, "slow");
    let agent = waiting_agent(repo, "slow");
    let first = repo
        .cmd(&["run"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn run");
    let started = repo.scratch().join("started");
    wait_until(Duration::from_secs(20), "the agent started", || {
        started.exists()
    });
    (first, agent)
}

fn add(repo: &TestRepo, id: &str) {
    repo.agentos(&["add", id, "-t", &format!("{id}.txt"), "--id", id])
        .ok();
}

#[test]
fn deleting_the_lock_file_never_lets_a_second_dispatcher_take_a_running_task() {
    let repo = TestRepo::initialised();
    let (first, _) = first_dispatcher(&repo);
    // What a person does to a lock file that looks stale.
    let _ = std::fs::remove_file(repo.path(".agentos/dispatcher.lock"));
    let quick = FakeAgent::new(&repo)
        .writes("slow.txt", "the second dispatcher's agent\n")
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &quick)])
        .code(3)
        .stderr_has("another dispatcher holds the queue");
    std::fs::write(repo.scratch().join("go"), "").expect("go");
    let out = first.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(repo.exists(".agentos/done/slow.md"));
    assert_eq!(repo.git(&["show", "agentos/slow:slow.txt"]), "slow\n");
}

#[test]
fn a_dispatcher_whose_lock_file_is_gone_stops_claiming_and_none_resumes_its_task() {
    let repo = TestRepo::initialised();
    let (first, agent) = first_dispatcher(&repo);
    // The lock file itself is deleted: a second dispatcher gets in, but leaves
    // the running task alone and runs only what is queued.
    let status = repo.agentos(&["status", "--json"]).ok().json();
    let lock = status["lock"]
        .as_str()
        .unwrap_or_else(|| panic!("status names the lock file: {status}"))
        .to_string();
    std::fs::remove_file(&lock).expect("remove the lock file");
    add(&repo, "queued");
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok()
        .stderr_has("slow: still run by the dispatcher");
    assert!(
        repo.exists(".agentos/doing/slow.md"),
        "the running task was left alone"
    );
    assert!(repo.exists(".agentos/done/queued.md"));
    // The first finishes its task, then finds its lock gone and claims nothing more.
    add(&repo, "later");
    std::fs::write(repo.scratch().join("go"), "").expect("go");
    let out = first.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("stopped claiming"), "{stderr}");
    assert!(repo.exists(".agentos/done/slow.md"));
    assert!(
        repo.exists(".agentos/todo/later.md"),
        "nothing more was claimed"
    );
}

/// Red team 15-06: an id git cannot use in `agentos/<id>` is refused at the
/// door (`add`) and a task file named so is invalid (never claimed), the
/// branch rule named; every id accepted makes a branch name git accepts.
#[test]
fn ids_that_cannot_name_a_branch_are_refused_at_add_and_never_claimed() {
    let repo = TestRepo::initialised();
    for id in ["x.lock", "a..b", "y."] {
        let out = repo.agentos(&["add", "T", "--id", id, "-t", "README.md"]);
        assert_eq!(out.code, 2, "{id}: {out:?}");
        assert!(
            out.stderr.contains("cannot name the git branch"),
            "{id}: {out:?}"
        );
    }
    repo.write(
        ".agentos/todo/z.lock.md",
        "+++\ntitle = \"t\"\ntargets = [\"README.md\"]\n+++\n",
    );
    let agent = FakeAgent::new(&repo).writes("README.md", "x\n").build();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)]);
    assert!(!repo.exists(".agentos/doing/z.lock.md"));
    assert!(!repo.exists(".agentos/done/z.lock.md"));
    let branches = repo.git(&["branch", "--list", "agentos/*"]);
    assert!(!branches.contains("z.lock"), "{branches}");
    for id in ["a.b", "v1.2-x", "x.locks", "a_b"] {
        repo.agentos(&["add", "T", "--id", id, "-t", "README.md"])
            .ok();
        let ok = std::process::Command::new("git")
            .args(["check-ref-format", &format!("refs/heads/agentos/{id}")])
            .status()
            .expect("git");
        assert!(ok.success(), "{id}");
    }
}
