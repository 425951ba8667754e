//! The run loop: worktrees, the real Claude Code agent, confirmed handoffs, faults,
//! crash-proof resume, the dispatcher lock and `watch`.
use crate::support::messages_api::MessagesApi;
use crate::support::{alive, wait_until, wait_until_watching, FakeAgent, TestRepo};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A fake agent that behaves: confirms, fixes the README, reports success.
fn good_agent(repo: &TestRepo) -> String {
    FakeAgent::new(repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .reports(1, 0.01, "Fixed it.")
        .build()
}

fn record(repo: &TestRepo, state: &str, id: &str) -> serde_json::Value {
    let text = repo.read(&format!(".agentos/{state}/{id}.record.json"));
    serde_json::from_str(&text).expect("record is JSON")
}

#[test]
fn real_claude_code_writes_the_target_and_the_task_is_done() {
    let repo = TestRepo::initialised();
    let api = MessagesApi::writes(vec![(
        "README.md".into(),
        "# Example\n\nInstall with `cargo install`.\n".into(),
    )]);
    let id = repo
        .agentos(&["add", "Fix the install command", "-t", "README.md"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let readme_before = repo.read("README.md");
    let run = repo.agentos_with(&["run"], &repo.claude_env(&api)).ok();
    run.stdout_has(&format!("done    {id}"));
    // The change is committed on the task branch, once, on top of the base.
    let branch = format!("agentos/{id}");
    assert_eq!(
        repo.git(&["show", &format!("{branch}:README.md")]),
        "# Example\n\nInstall with `cargo install`.\n"
    );
    assert_eq!(
        repo.git(&["rev-list", "--count", &format!("main..{branch}")])
            .trim(),
        "1"
    );
    let message = repo.git(&["log", "-1", "--format=%B", &branch]);
    assert!(
        message.contains("Fix the install command")
            && message.contains(&format!("Agentos-Task: {id}")),
        "{message}"
    );
    // The main checkout is untouched.
    assert_eq!(repo.read("README.md"), readme_before);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
    // Claude Code really ran in the task's worktree.
    let worktree = repo.root().join(".agentos/worktrees").join(&id);
    let cwds = api.cwds();
    assert!(
        !cwds.is_empty() && cwds.iter().all(|c| c == &worktree.display().to_string()),
        "{cwds:?}"
    );
    // The result is recorded and shown; the stream is saved; the worktree is gone.
    let rec = record(&repo, "done", &id);
    assert_eq!(rec["agent_result"]["is_error"], false);
    assert!(
        rec["agent_result"]["num_turns"].as_u64().unwrap_or(0) >= 2,
        "{rec}"
    );
    assert!(rec["agent_result"]["session_id"].is_string());
    let stream = repo.read(&format!(".agentos/runs/{id}/attempt-1/agent.jsonl"));
    // (With `--settings`, Claude Code may print a `ui_invalidate` event first.)
    assert!(
        stream
            .lines()
            .take(2)
            .any(|l| l.contains(r#""subtype":"init""#)),
        "{stream}"
    );
    assert!(!worktree.exists(), "the worktree is removed after the task");
    repo.agentos(&["show", &id])
        .ok()
        .stdout_has("state     done")
        .stdout_has("agent run success, ")
        .stdout_has(" turns, $")
        .stdout_has(&format!("branch    agentos/{id} at "))
        .stdout_has("Result (git agentos)");
}

#[test]
fn the_agent_gets_the_task_and_its_environment() {
    let repo = TestRepo::initialised();
    let agent = FakeAgent::new(&repo)
        .runs("env | grep '^AGENTOS_' | sort > \"$AGENTOS_WORKTREE/README.md\"")
        .runs("cat \"$AGENTOS_PROMPT_FILE\" >> README.md")
        .reports(1, 0.01, "Fixed it.")
        .build();
    repo.write(".agentos/agents/default/AGENT.md", "Always be brief.\n");
    repo.agentos(&[
        "add",
        "Show the env",
        "-t",
        "README.md",
        "--body",
        "Details of the task.",
    ])
    .ok();
    repo.agentos_env(&["run", "--keep"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    let written = repo.git(&["show", "agentos/show-the-env:README.md"]);
    let worktree = repo.root().join(".agentos/worktrees/show-the-env");
    assert!(
        written.contains("AGENTOS_TASK_ID=show-the-env"),
        "{written}"
    );
    assert!(
        written.contains(&format!("AGENTOS_WORKTREE={}", worktree.display())),
        "{written}"
    );
    assert!(
        written.contains("AGENTOS_TASK_FILE=") && written.contains("doing/show-the-env.md"),
        "{written}"
    );
    for part in [
        "Always be brief.",
        "# Your task: Show the env",
        "Details of the task.",
        "- `README.md`",
    ] {
        assert!(written.contains(part), "prompt lacks {part:?}:\n{written}");
    }
    assert!(worktree.is_dir(), "--keep keeps the worktree");
}

/// Each fault ends in failed/ at once, with a reason that says which fault.
#[test]
fn agent_faults_fail_the_task_with_the_reason() {
    let repo = TestRepo::initialised();
    let cases: Vec<(&str, FakeAgent, &str)> = vec![
        (
            "silent",
            FakeAgent::plain(&repo).exits(0),
            "before it started",
        ),
        (
            "garbage",
            FakeAgent::plain(&repo)
                .stream_json("hello, I am not JSON")
                .sleeps(30.0),
            "not Claude Code stream-json",
        ),
        (
            "crash",
            FakeAgent::new(&repo).runs("kill -9 $$").no_result(),
            "before its result",
        ),
        (
            "no-change",
            FakeAgent::new(&repo).reports(1, 0.01, "Fixed it."),
            "made no change",
        ),
        (
            "error-result",
            FakeAgent::new(&repo).reports_error("error_max_turns", "ran out of turns"),
            "reported an error (error_max_turns)",
        ),
    ];
    for (name, agent, expected) in cases {
        let agent = agent.build();
        repo.agentos(&["add", name, "-t", "README.md", "--id", name])
            .ok();
        let started = Instant::now();
        let run = repo
            .agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
            .code(1);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{name}: took {:?}",
            started.elapsed()
        );
        let reason = repo.read(&format!(".agentos/failed/{name}.reason"));
        assert!(
            reason.contains(expected),
            "{name}: reason {reason:?} lacks {expected:?}\n{}",
            run.stderr
        );
        assert!(!repo.exists(&format!(".agentos/doing/{name}.md")));
    }
    assert_eq!(
        repo.read("README.md"),
        "# Example\n\nInstall with `cargo instal`.\n"
    );
}

#[test]
fn a_hanging_agent_times_out_and_its_children_die_too() {
    let repo = TestRepo::initialised();
    let pids = repo.scratch().join("pids");
    let agent = FakeAgent::new(&repo)
        .runs("sleep 300 &")
        .runs(&format!("echo $! > {}", pids.display()))
        .runs(&format!("echo $$ >> {}", pids.display()))
        .runs("wait")
        .no_result()
        .build();
    repo.agentos(&["add", "Hang", "-t", "README.md", "--timeout", "2s"])
        .ok();
    let started = Instant::now();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "took {:?}",
        started.elapsed()
    );
    assert!(repo
        .read(".agentos/failed/hang.reason")
        .contains("timed out after 2s"));
    for pid in std::fs::read_to_string(&pids).expect("pids").lines() {
        let pid: i32 = pid.trim().parse().expect("pid");
        assert!(
            !alive(pid),
            "process {pid} of the agent survived the timeout"
        );
    }
}

#[test]
fn an_agent_that_never_confirms_fails_after_the_start_timeout() {
    let repo = TestRepo::initialised();
    repo.write(
        ".agentos/agents/default/agent.toml",
        "start_timeout = \"1s\"\n",
    );
    let agent = FakeAgent::plain(&repo).sleeps(60.0).build();
    repo.agentos(&["add", "Mute", "-t", "README.md"]).ok();
    let started = Instant::now();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(repo
        .read(".agentos/failed/mute.reason")
        .contains("agent never started"));
}

/// The dispatcher dies (abort, as `kill -9`) while the agent runs and again during
/// the commit step; the next `run` finishes the task exactly once.
#[test]
fn resume_after_a_crash_finishes_each_task_exactly_once() {
    let repo = TestRepo::initialised();
    let pids = repo.scratch().join("agent-pids");
    let agent = FakeAgent::new(&repo)
        .runs(&format!("echo $$ >> {}", pids.display()))
        .writes("README.md", "Install with `cargo install`.\n")
        .reports(1, 0.01, "Fixed it.")
        .build();
    repo.agentos(&["add", "First", "-t", "README.md"]).ok();
    repo.agentos(&["add", "Second", "-t", "README.md"]).ok();
    let env = |fault: &str| {
        vec![
            ("AGENTOS_AGENT_CMD".to_string(), agent.clone()),
            ("AGENTOS_FAULT".to_string(), fault.to_string()),
        ]
    };
    // Crash 1: during the agent step (right after it confirmed its start).
    let crashed = repo.agentos_with(&["run"], &env("agent-started"));
    assert_ne!(crashed.code, 0);
    assert!(
        repo.exists(".agentos/doing/first.md"),
        "the claim survives the crash"
    );
    // Crash 2: during the commit step (commit made, not journalled).
    let crashed = repo.agentos_with(&["run"], &env("mid-commit"));
    assert_ne!(crashed.code, 0);
    let rec = record(&repo, "doing", "first");
    assert_eq!(rec["attempt"], 2, "{rec}\n{}", crashed.stderr);
    // A clean run finishes both.
    repo.agentos_with(&["run"], &env("none")).ok();
    for id in ["first", "second"] {
        assert!(
            repo.exists(&format!(".agentos/done/{id}.md")),
            "{id} is done"
        );
        let count = repo.git(&["rev-list", "--count", &format!("main..agentos/{id}")]);
        assert_eq!(count.trim(), "1", "{id}: the branch holds the change once");
    }
    let rec = record(&repo, "done", "first");
    assert_eq!(
        rec["attempt"], 3,
        "two crashes, then the attempt that finished: {rec}"
    );
    assert!(
        rec["history"][0]
            .as_str()
            .unwrap_or("")
            .contains("died after step worktree"),
        "{rec}"
    );
    assert!(
        rec["history"][1]
            .as_str()
            .unwrap_or("")
            .contains("died after step agent"),
        "{rec}"
    );
    assert_eq!(repo.files_in(".agentos/doing"), Vec::<String>::new());
    // No agent of a crashed dispatcher is left running.
    for pid in std::fs::read_to_string(&pids).expect("pids").lines() {
        let pid: i32 = pid.trim().parse().expect("pid");
        assert!(!alive(pid), "agent {pid} outlived its dispatcher");
    }
}

#[test]
fn a_task_that_keeps_crashing_fails_after_three_attempts() {
    let repo = TestRepo::initialised();
    let agent = good_agent(&repo);
    repo.agentos(&["add", "Doomed", "-t", "README.md"]).ok();
    let env = [
        ("AGENTOS_AGENT_CMD", agent.as_str()),
        ("AGENTOS_FAULT", "before-finish"),
    ];
    for _ in 0..3 {
        assert_ne!(repo.agentos_env(&["run"], &env).code, 0);
    }
    repo.agentos_env(&["run"], &env).code(1);
    let reason = repo.read(".agentos/failed/doomed.reason");
    assert!(reason.contains("gave up after 3 attempts"), "{reason}");
}

#[test]
fn bad_files_in_todo_move_to_failed_unchanged_and_the_rest_runs() {
    let repo = TestRepo::initialised();
    let agent = good_agent(&repo);
    let bad: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bad-toml.md",
            b"+++\ntitle = x\n+++\n".to_vec(),
            "not valid TOML",
        ),
        (
            "no-title.md",
            b"+++\ntargets = [\"README.md\"]\n+++\n".to_vec(),
            "`title`",
        ),
        (
            "no-targets.md",
            b"+++\ntitle = \"x\"\n+++\n".to_vec(),
            "`targets`",
        ),
        (
            "abs.md",
            b"+++\ntitle = \"x\"\ntargets = [\"/etc/passwd\"]\n+++\n".to_vec(),
            "absolute",
        ),
        (
            "dotdot.md",
            b"+++\ntitle = \"x\"\ntargets = [\"../x\"]\n+++\n".to_vec(),
            "leaves the repository",
        ),
        (
            "Not A Slug.md",
            b"+++\ntitle = \"x\"\ntargets = [\"README.md\"]\n+++\n".to_vec(),
            "not a slug",
        ),
        (
            "latin1.md",
            b"+++\ntitle = \"caf\xe9\"\ntargets = [\"a\"]\n+++\n".to_vec(),
            "not UTF-8",
        ),
    ];
    for (name, bytes, _) in &bad {
        std::fs::write(repo.path(&format!(".agentos/todo/{name}")), bytes).expect("write");
    }
    let mut big = b"+++\ntitle = \"x\"\ntargets = [\"a\"]\n+++\n".to_vec();
    big.resize(1024 * 1024 + 10, b'x');
    std::fs::write(repo.path(".agentos/todo/big.md"), &big).expect("write");
    std::os::unix::fs::symlink("/etc/hostname", repo.path(".agentos/todo/link.md"))
        .expect("symlink");
    repo.agentos(&["add", "Good one", "-t", "README.md", "--id", "good"])
        .ok();
    std::fs::copy(
        repo.path(".agentos/todo/good.md"),
        repo.path(".agentos/todo/ops-dup.md"),
    )
    .expect("copy");
    std::fs::create_dir_all(repo.path(".agentos/todo/ops")).expect("mkdir");
    std::fs::rename(
        repo.path(".agentos/todo/ops-dup.md"),
        repo.path(".agentos/todo/ops/good.md"),
    )
    .expect("mv");
    // An invalid file younger than a second may still be being written; a clock
    // far ahead of the files' mtimes makes them all old enough to judge.
    let run = repo
        .agentos_env(
            &["run"],
            &[
                ("AGENTOS_AGENT_CMD", &agent),
                ("AGENTOS_NOW", "2099-01-01T00:00:00Z"),
            ],
        )
        .code(1);
    assert!(
        repo.exists(".agentos/done/good.md"),
        "the valid task still ran:\n{}",
        run.stderr
    );
    for (name, bytes, why) in &bad {
        let stem = name.trim_end_matches(".md");
        assert_eq!(
            &std::fs::read(repo.path(&format!(".agentos/failed/{name}"))).expect("moved"),
            bytes,
            "{name} changed"
        );
        let reason = repo.read(&format!(".agentos/failed/{stem}.reason"));
        assert!(
            reason.contains(why) && reason.contains(name),
            "{name}: {reason}"
        );
    }
    assert_eq!(
        std::fs::read(repo.path(".agentos/failed/big.md")).expect("big"),
        big
    );
    assert!(repo.read(".agentos/failed/big.reason").contains("1 MiB"));
    let link = repo.path(".agentos/failed/link.md");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink(),
        "moved as a link"
    );
    assert!(repo
        .read(".agentos/failed/link.reason")
        .contains("symbolic link"));
    let dup = repo
        .files_in(".agentos/failed")
        .into_iter()
        .find(|n| n.starts_with("good~"))
        .expect("duplicate kept");
    assert!(repo
        .read(&format!(
            ".agentos/failed/{}",
            dup.replace(".md", ".reason")
        ))
        .contains("already used"));
    assert_eq!(repo.files_in(".agentos/todo"), ["ops"]);
}

#[test]
fn one_dispatcher_at_a_time_and_a_killed_holder_frees_the_lock() {
    let repo = TestRepo::initialised();
    for round in 0..3 {
        // Two dispatchers start at once: exactly one holds the queue.
        let mut a = repo
            .cmd(&["watch"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut b = repo
            .cmd(&["watch"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // The one that finds the lock taken gives up at once.
        let (mut a_exit, mut b_exit) = (None, None);
        wait_until(Duration::from_secs(10), "one dispatcher gave up", || {
            a_exit = a.try_wait().expect("wait");
            b_exit = b.try_wait().expect("wait");
            a_exit.is_some() || b_exit.is_some()
        });
        let (winner, loser_code) = match (a_exit, b_exit) {
            (None, Some(code)) => (&mut a, code.code()),
            (Some(code), None) => (&mut b, code.code()),
            other => panic!("round {round}: expected exactly one dispatcher, got {other:?}"),
        };
        assert_eq!(loser_code, Some(3), "round {round}");
        // While it runs, `run` is refused with the holder named.
        let refused = repo.agentos(&["run"]).code(3);
        assert!(
            refused.stderr.contains(&format!("pid {}", winner.id()))
                && refused.stderr.contains("watch"),
            "{}",
            refused.stderr
        );
        repo.agentos(&["status"])
            .ok()
            .stdout_has("dispatcher  running");
        // kill -9 the holder: the lock is free again at once.
        winner.kill().expect("kill -9");
        winner.wait().expect("reap");
        repo.agentos(&["run"])
            .ok()
            .stdout_has("The queue is empty.");
        let _ = a.wait();
        let _ = b.wait();
    }
}

#[test]
fn watch_picks_up_new_tasks_at_once_and_stops_cleanly() {
    let repo = TestRepo::initialised();
    let agent = good_agent(&repo);
    let mut watch = repo
        .cmd(&["watch"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let _stderr = wait_until_watching(&mut watch);
    let written = Instant::now();
    repo.agentos(&["add", "Picked up", "-t", "README.md"]).ok();
    wait_until(Duration::from_secs(10), "watch ran the new task", || {
        repo.exists(".agentos/done/picked-up.md")
    });
    // Far below any polling interval a safety rescan would use.
    assert!(
        written.elapsed() < Duration::from_secs(5),
        "took {:?}",
        written.elapsed()
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(watch.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = watch.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "watch stops cleanly on SIGTERM");
}

#[test]
fn a_missing_agent_cli_exits_3_and_keeps_the_task_queued() {
    let repo = TestRepo::initialised();
    repo.agentos(&["add", "Waits", "-t", "README.md"]).ok();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", "/nonexistent/claude")])
        .code(3)
        .stderr_has("`/nonexistent/claude`")
        .stderr_has("stays queued");
    assert!(repo.exists(".agentos/todo/waits.md"));
}

/// A real `kill -9` of the dispatcher while its agent runs: the agent's whole
/// process group dies with it, and the next run finishes the task once.
#[test]
fn kill_9_of_the_dispatcher_takes_its_agent_down_and_run_resumes() {
    let repo = TestRepo::initialised();
    let marker = repo.scratch().join("agent-running");
    let release = repo.scratch().join("release");
    let agent = FakeAgent::new(&repo)
        .runs("sleep 300 &")
        .runs(&format!("echo $! > {}", marker.display()))
        .runs(&format!("echo $$ >> {}", marker.display()))
        .runs(&format!(
            "while [ ! -e {} ]; do sleep 0.05; done",
            release.display()
        ))
        .writes("README.md", "Install with `cargo install`.\n")
        .reports(1, 0.01, "Fixed it.")
        .build();
    repo.agentos(&["add", "Survives", "-t", "README.md"]).ok();
    let mut dispatcher = repo
        .cmd(&["run"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn run");
    wait_until(
        Duration::from_secs(10),
        "the agent started and wrote its pids",
        || {
            std::fs::read_to_string(&marker)
                .map(|s| s.lines().count() >= 2)
                .unwrap_or(false)
        },
    );
    dispatcher.kill().expect("kill -9");
    dispatcher.wait().expect("reap");
    let pids: Vec<i32> = std::fs::read_to_string(&marker)
        .expect("pids")
        .lines()
        .map(|l| l.trim().parse().expect("pid"))
        .collect();
    wait_until(
        Duration::from_secs(8),
        &format!("the agent's processes {pids:?} died with the dispatcher"),
        || !pids.iter().any(|p| alive(*p)),
    );
    std::fs::write(&release, "").expect("release");
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok()
        .stdout_has("done    survives");
    assert_eq!(
        repo.git(&["rev-list", "--count", "main..agentos/survives"])
            .trim(),
        "1"
    );
    assert_eq!(record(&repo, "done", "survives")["attempt"], 2);
}

#[test]
fn retry_cancel_clean_and_logs() {
    let repo = TestRepo::initialised();
    let good = good_agent(&repo);
    let silent = FakeAgent::plain(&repo).exits(0).build();
    // A failed task is retried and then succeeds.
    repo.agentos(&["add", "Flaky", "-t", "README.md"]).ok();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &silent)])
        .code(1);
    repo.agentos(&["retry", "flaky"])
        .ok()
        .stdout_has("queued again: flaky");
    assert!(repo.exists(".agentos/todo/flaky.md") && !repo.exists(".agentos/failed/flaky.reason"));
    repo.agentos_env(&["run", "--keep"], &[("AGENTOS_AGENT_CMD", &good)])
        .ok();
    repo.agentos(&["retry", "flaky"])
        .code(2)
        .stderr_has("is done");
    // logs: what the agent did, readable.
    repo.agentos(&["logs", "flaky"])
        .ok()
        .stdout_has("started (session fake")
        .stdout_has("result: success");
    assert!(repo
        .agentos(&["logs", "flaky", "--raw"])
        .ok()
        .stdout
        .starts_with("{\"type\":\"system\""));
    // A queued task is cancelled into failed/, unchanged.
    repo.agentos(&["add", "Unwanted", "-t", "README.md"]).ok();
    let before = repo.read(".agentos/todo/unwanted.md");
    repo.agentos(&["cancel", "unwanted"]).ok();
    assert_eq!(repo.read(".agentos/failed/unwanted.md"), before);
    assert!(repo
        .read(".agentos/failed/unwanted.reason")
        .contains("cancelled"));
    // clean: the kept worktree goes; the done branch stays (its work is nowhere else).
    assert!(repo.path(".agentos/worktrees/flaky").is_dir());
    let clean = repo.agentos(&["clean"]).ok();
    clean
        .stdout_has("removed worktree .agentos/worktrees/flaky")
        .stdout_has("kept branch agentos/flaky");
    assert!(!repo.path(".agentos/worktrees/flaky").exists());
    assert!(repo
        .git(&["branch", "--list", "agentos/flaky"])
        .contains("agentos/flaky"));
    assert!(!repo.git(&["worktree", "list"]).contains("flaky"));
    // Once merged, the branch's work is safe and clean deletes it.
    repo.git(&["merge", "-q", "--ff-only", "agentos/flaky"]);
    repo.agentos(&["clean"])
        .ok()
        .stdout_has("removed branch agentos/flaky");
}

#[test]
fn cancel_stops_a_running_agent() {
    let repo = TestRepo::initialised();
    let marker = repo.scratch().join("running");
    let agent = FakeAgent::new(&repo)
        .runs(&format!("touch {}", marker.display()))
        .sleeps(300.0)
        .no_result()
        .build();
    repo.agentos(&["add", "Forever", "-t", "README.md"]).ok();
    let mut dispatcher = repo
        .cmd(&["run"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn run");
    let started = Instant::now();
    wait_until(Duration::from_secs(10), "the agent started", || {
        marker.exists()
    });
    repo.agentos(&["cancel", "forever"])
        .ok()
        .stdout_has("cancelled: forever");
    let status = dispatcher.wait().expect("wait");
    assert_eq!(status.code(), Some(1));
    assert!(repo
        .read(".agentos/failed/forever.reason")
        .contains("cancelled"));
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn demo_runs_end_to_end_with_the_scripted_agent() {
    let repo = TestRepo::new();
    let dir = repo.dir.path().join("demo");
    let run = repo
        .agentos(&["demo", "--scripted", "--dir", dir.to_str().expect("utf8")])
        .ok();
    let refused = format!(
        "refused by the sandbox: {}/README.md",
        dir.canonicalize().expect("demo dir").display()
    );
    run.stdout_has("agentos/fix-install")
        .stdout_has("+    cargo install --path .")
        .stdout_has("document-usage: failed: verification rejected the change: `doc/README.md` is outside the targets; did you mean `docs/README.md`?")
        .stdout_has(&refused)
        .stdout_has("Where everything lives");
    assert!(dir.join(".agentos/done/fix-install.md").exists());
    assert!(!std::fs::read_to_string(dir.join("README.md"))
        .expect("readme")
        .contains("an agent was here"));

    // Without Landlock the tour leaves the escape out rather than show one.
    let bare = repo.dir.path().join("demo-without-landlock");
    repo.agentos_env(
        &["demo", "--scripted", "--dir", bare.to_str().expect("utf8")],
        &[("AGENTOS_SANDBOX_UNAVAILABLE", "1")],
    )
    .ok()
    .stdout_has("the third is left out: this machine has no Landlock")
    .stdout_has("did you mean `docs/README.md`?");
}

/// An idle `watch` sleeps: its own scans must not wake it again (a loop through
/// notify's access events once burned ~30 ms of CPU a second).
#[test]
fn an_idle_watch_uses_no_cpu() {
    let repo = TestRepo::initialised();
    let mut watch = repo
        .cmd(&["watch"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let cpu = crate::support::cpu_ns;
    // Its start is not idle time: measure from the moment it is ready.
    let _stderr = wait_until_watching(&mut watch);
    // Nor is the worktree it prepares for the first task (a thread that ends
    // when the pool holds one, started before the "watching" line).
    let pid = watch.id();
    crate::support::wait_until(
        Duration::from_secs(60),
        "the pool's preparation thread ends",
        || {
            repo.files_in(".agentos/worktrees/.pool")
                .iter()
                .any(|f| f.starts_with("slot-"))
                && !std::fs::read_dir(format!("/proc/{pid}/task"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|t| {
                        std::fs::read_to_string(t.path().join("comm"))
                            .is_ok_and(|c| c.trim() == "pool-prepare")
                    })
        },
    );
    let before = cpu(pid);
    // Measures CPU over a window of time: this sleep is the test itself.
    std::thread::sleep(Duration::from_secs(2));
    let used_ms = cpu(pid).saturating_sub(before) as f64 / 1e6;
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(
        used_ms < 20.0,
        "an idle watch used {used_ms:.1} ms of CPU in 2 s"
    );
}
