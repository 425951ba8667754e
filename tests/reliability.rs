//! Reliability: `kill -9` at every step of a task's life, a seeded soak of random
//! kills, racing dispatchers. Nothing lost, nothing done twice, no hang, no leak.
use crate::publish::{env, files_with_token, remote_ref, with_remote, TOKEN};
use crate::support::github::GitHubApi;
use crate::support::{run_while_the_agent_waits, wait_until, FakeAgent, TestRepo};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Every named fault point, in a task's order.
const POINTS: [&str; 10] = [
    "after-claim",
    "after-worktree",
    "agent-started",
    "after-agent",
    "mid-commit",
    "after-commit",
    "after-verify",
    "after-push",
    "after-pr",
    "before-finish",
];

fn state_files(repo: &TestRepo, state: &str) -> Vec<String> {
    repo.files_in(&format!(".agentos/{state}"))
        .into_iter()
        .filter(|f| f.ends_with(".md"))
        .collect()
}

#[test]
fn killed_at_every_step_each_task_finishes_exactly_once() {
    for point in POINTS {
        let repo = with_remote();
        let api = GitHubApi::start("octo", "widgets");
        let id = format!("t-{point}");
        repo.agentos(&[
            "add",
            "Fix the install command",
            "-t",
            "README.md",
            "--id",
            &id,
        ])
        .ok();
        let mut crash = env(&repo, &api);
        crash.push(("AGENTOS_FAULT".into(), point.into()));
        let killed = repo.agentos_with(&["run"], &crash);
        assert_ne!(killed.code, 0, "{point}: the dispatcher was killed");
        assert!(
            killed.stderr.contains(&format!("killed at `{point}`")),
            "{point}: {}",
            killed.stderr
        );
        let resumed = repo.agentos_with(&["run"], &env(&repo, &api)).ok();
        // Exactly once: in review/ (its pull request is open) once, nowhere else.
        assert_eq!(
            state_files(&repo, "review"),
            vec![format!("{id}.md")],
            "{point}"
        );
        for state in ["todo", "doing", "done", "failed"] {
            assert!(state_files(&repo, state).is_empty(), "{point}: {state}/");
        }
        let branch = format!("agentos/{id}");
        let count = repo.git(&["rev-list", "--count", &format!("main..{branch}")]);
        assert_eq!(
            count.trim(),
            "1",
            "{point}: the branch holds the change once"
        );
        let local = repo.git(&["rev-parse", &branch]).trim().to_string();
        assert_eq!(remote_ref(&repo, &branch), Some(local), "{point}: pushed");
        assert_eq!(api.pulls().len(), 1, "{point}: exactly one pull request");
        let record = repo.read(&format!(".agentos/review/{id}.record.json"));
        assert!(record.contains("\"attempt\": 2"), "{point}: {record}");
        // No orphaned worktree after `clean`.
        let clean = repo.agentos(&["clean"]).ok();
        let listed = repo.git(&["worktree", "list", "--porcelain"]);
        assert_eq!(
            listed.matches("worktree ").count(),
            1,
            "{point}: only the main worktree is left: {listed}"
        );
        assert!(repo.files_in(".agentos/worktrees").is_empty(), "{point}");
        // And the token is nowhere.
        for text in [
            &killed.stdout,
            &killed.stderr,
            &resumed.stdout,
            &resumed.stderr,
            &clean.stdout,
        ] {
            assert!(!text.contains(TOKEN), "{point}: the token was printed");
        }
        assert_eq!(
            files_with_token(repo.dir.path()),
            Vec::<String>::new(),
            "{point}"
        );
    }
}

/// A small seeded generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Writes `<id>.txt` holding the task's id.
fn quick_agent(repo: &TestRepo) -> String {
    FakeAgent::new(repo)
        .runs("echo \"$AGENTOS_TASK_ID\" > \"$AGENTOS_TASK_ID.txt\"")
        .build()
}

fn queue_tasks(repo: &TestRepo, n: usize, prefix: &str) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}{i:03}")).collect();
    for id in &ids {
        repo.write(
            &format!(".agentos/todo/{id}.md"),
            &format!("+++\ntitle = \"Task {id}\"\ntargets = [\"{id}.txt\"]\nbase_branch = \"main\"\n+++\nWrite {id}.txt.\n"),
        );
    }
    ids
}

/// Each task done once, with its own change once, nothing anywhere else.
fn assert_each_done_once(repo: &TestRepo, ids: &[String]) {
    let done = state_files(repo, "done");
    let reasons: Vec<String> = repo
        .files_in(".agentos/failed")
        .iter()
        .filter(|f| f.ends_with(".reason"))
        .map(|f| format!("{f}: {}", repo.read(&format!(".agentos/failed/{f}"))))
        .collect();
    assert_eq!(
        done.len(),
        ids.len(),
        "done: {done:?}\nfailed: {reasons:?}\ndoing: {:?}\ntodo: {:?}",
        repo.files_in(".agentos/doing"),
        repo.files_in(".agentos/todo")
    );
    for state in ["todo", "doing", "failed"] {
        assert!(state_files(repo, state).is_empty(), "{state}/ is not empty");
    }
    for id in ids {
        let branch = format!("agentos/{id}");
        let count = repo.git(&["rev-list", "--count", &format!("main..{branch}")]);
        assert_eq!(count.trim(), "1", "{id}: the change once");
        let file = repo.git(&["show", &format!("{branch}:{id}.txt")]);
        assert_eq!(file.trim(), id.as_str());
    }
}

#[test]
fn soak_fifty_tasks_through_seeded_random_kill_9s_none_lost_none_doubled() {
    let repo = TestRepo::initialised();
    let agent = quick_agent(&repo);
    let ids = queue_tasks(&repo, 50, "s");
    let mut rng = Lcg(0x5eed_2026_1124);
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while kills < 15 && Instant::now() < deadline {
        let mut child = repo
            .cmd(&["run", "--no-pr"])
            .env("AGENTOS_AGENT_CMD", &agent)
            .env("GITHUB_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn run");
        // Kill only after this run finished a task (so the one the last kill
        // interrupted, which a restart resumes first, is through: a task is never
        // killed twice in a row), then at a seeded random moment.
        let before = state_files(&repo, "done").len();
        wait_until(
            deadline.saturating_duration_since(Instant::now()),
            "the run finished a task or exited (progress)",
            || {
                state_files(&repo, "done").len() != before
                    || child.try_wait().expect("wait").is_some()
            },
        );
        // The point of a soak: a kill at a random moment of a task's life, so
        // this waits for time itself (0-149 ms, seeded).
        std::thread::sleep(Duration::from_millis(rng.next() % 150));
        if child.try_wait().expect("wait").is_some() {
            break; // the queue ran dry before this kill
        }
        child.kill().expect("kill -9");
        child.wait().expect("reap");
        kills += 1;
    }
    assert!(kills >= 5, "the soak killed the dispatcher {kills} times");
    let last = repo
        .agentos_env(
            &["run", "--no-pr"],
            &[("AGENTOS_AGENT_CMD", &agent), ("GITHUB_TOKEN", TOKEN)],
        )
        .ok();
    assert!(!last.stdout.contains(TOKEN) && !last.stderr.contains(TOKEN));
    assert_each_done_once(&repo, &ids);
    assert_eq!(files_with_token(repo.dir.path()), Vec::<String>::new());
    let resumes = repo
        .read(".agentos/friction.jsonl")
        .matches("\"kind\":\"resume\"")
        .count();
    assert!(resumes >= 1, "kills that hit a task show as resumes");
    eprintln!(
        "soak: {} tasks, {kills} kill -9s, {resumes} resumed tasks, {} done, 0 lost, 0 duplicated",
        ids.len(),
        ids.len()
    );
}

#[test]
fn four_runs_and_a_watch_started_at_once_finish_every_task_exactly_once() {
    let repo = TestRepo::initialised();
    let agent = quick_agent(&repo);
    let ids = queue_tasks(&repo, 200, "r");
    let spawn = |args: &[&str]| {
        repo.cmd(args)
            .env("AGENTOS_AGENT_CMD", &agent)
            .env("GITHUB_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let watch = spawn(&["watch", "--no-pr"]);
    let runs: Vec<_> = (0..4).map(|_| spawn(&["run", "--no-pr"])).collect();
    let mut refused = 0;
    for run in runs {
        let out = run.wait_with_output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains(TOKEN));
        if stderr.contains("another dispatcher holds the queue") {
            assert_eq!(out.status.code(), Some(3), "{stderr}");
            refused += 1;
        } else {
            assert!(out.status.success(), "{stderr}");
        }
    }
    wait_until(Duration::from_secs(180), "the queue drained", || {
        state_files(&repo, "done").len() == ids.len()
    });
    nix_term(watch.id());
    let out = watch.wait_with_output().expect("watch");
    let watch_refused = String::from_utf8_lossy(&out.stderr).contains("another dispatcher holds");
    assert_eq!(
        refused + usize::from(watch_refused),
        4,
        "one dispatcher at a time"
    );
    assert_each_done_once(&repo, &ids);
    for id in &ids {
        let record = repo.read(&format!(".agentos/done/{id}.record.json"));
        assert!(
            record.contains("\"attempt\": 1"),
            "{id} claimed once: {record}"
        );
    }
    assert_eq!(files_with_token(repo.dir.path()), Vec::<String>::new());
}

fn nix_term(pid: u32) {
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
}

/// Run one task against a faulty GitHub; return everything printed.
fn publish_through(
    repo: &TestRepo,
    api: &GitHubApi,
    id: &str,
    fault: impl FnOnce(&mut crate::support::github::State),
) -> crate::support::Run {
    fault(&mut api.state.lock().expect("lock"));
    repo.agentos(&["add", "Fix it", "-t", "README.md", "--id", id])
        .ok();
    repo.agentos_with(&["run"], &env(repo, api))
}

fn friction_of(repo: &TestRepo, id: &str, kind: &str) -> usize {
    std::fs::read_to_string(repo.path(".agentos/friction.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            l.contains(&format!("\"task\":\"{id}\"")) && l.contains(&format!("\"kind\":\"{kind}\""))
        })
        .count()
}

#[test]
fn github_faults_are_retried_waited_out_or_explained_and_never_leak_the_token() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    let mut printed = String::new();

    // A rate limit with retry-after: waited out, then one pull request.
    let started = Instant::now();
    let run = publish_through(&repo, &api, "limited", |s| s.rate_limit_once = Some(1));
    printed.push_str(&run.stdout);
    printed.push_str(&run.stderr);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after was honoured"
    );
    assert_eq!(api.pulls().len(), 1);
    assert_eq!(friction_of(&repo, "limited", "github-retry"), 1);

    // A body that is not JSON (a proxy's error page): retried, one pull request.
    let run = publish_through(&repo, &api, "garbled", |s| s.malformed = 1);
    printed.push_str(&run.stderr);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(api.pulls().len(), 2);
    assert!(
        std::fs::read_to_string(repo.path(".agentos/friction.jsonl"))
            .unwrap_or_default()
            .contains("not JSON")
    );

    // 500 on every request: four attempts, then the task fails saying so.
    let run = publish_through(&repo, &api, "down", |s| s.fail_all = Some(500));
    printed.push_str(&run.stderr);
    assert_eq!(run.code, 1);
    let reason = repo.read(".agentos/failed/down.reason");
    assert!(
        reason.contains("GitHub answered 500") && reason.contains("octo/widgets"),
        "{reason}"
    );
    assert_eq!(friction_of(&repo, "down", "github-retry"), 3);
    assert_eq!(friction_of(&repo, "down", "publish-failed"), 1);

    // A rate limit longer than a minute: not waited out, explained.
    let run = publish_through(&repo, &api, "later", |s| {
        s.fail_all = None;
        s.rate_limit_once = Some(3600);
    });
    printed.push_str(&run.stderr);
    assert_eq!(run.code, 1);
    let reason = repo.read(".agentos/failed/later.reason");
    assert!(
        reason.contains("rate-limited") && reason.contains("git agentos retry"),
        "{reason}"
    );

    // 401: explained at once, not retried.
    let before = api.state.lock().expect("lock").requests.len();
    let run = publish_through(&repo, &api, "refused", |s| s.fail_all = Some(401));
    printed.push_str(&run.stderr);
    assert_eq!(run.code, 1);
    assert_eq!(api.state.lock().expect("lock").requests.len(), before + 1);
    assert!(repo
        .read(".agentos/failed/refused.reason")
        .contains("refused by GitHub"));

    // Under every fault above: the token is in no output, file or request body.
    assert!(!printed.contains(TOKEN), "the token was printed");
    assert_eq!(files_with_token(repo.dir.path()), Vec::<String>::new());
    for (_, _, body) in &api.state.lock().expect("lock").requests {
        assert!(!body.contains(TOKEN));
    }
}

/// A folder nobody may write into until the guard drops: `chmod 555`, and for
/// root (whom modes do not stop) the immutable attribute.
struct ReadOnly(std::path::PathBuf);

impl ReadOnly {
    /// None when this machine cannot stop root from writing (no `chattr`, or no
    /// CAP_LINUX_IMMUTABLE, as in a default container).
    fn new(dir: &std::path::Path) -> Option<ReadOnly> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        let guard = ReadOnly(dir.to_path_buf());
        let probe = dir.join(".probe");
        if std::fs::write(&probe, "x").is_ok() {
            std::fs::remove_file(&probe).expect("rm probe");
            let ok = std::process::Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok || std::fs::write(&probe, "x").is_ok() {
                let _ = std::fs::remove_file(&probe);
                return None;
            }
        }
        Some(guard)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
    }
}

/// Does `work`, then fixes the README.
fn agent_doing(repo: &TestRepo, work: &str) -> String {
    FakeAgent::new(repo)
        .runs(work)
        .writes("README.md", "Install with `cargo install`.\n")
        .build()
}

#[test]
fn filesystem_and_git_faults_end_with_a_reason_and_lose_no_file() {
    let repo = TestRepo::initialised();
    let good = agent_doing(&repo, "");

    // A read-only done/: the run stops saying where; the task waits in doing/,
    // unchanged; once done/ is writable again it finishes.
    repo.agentos(&["add", "Fix it", "-t", "README.md", "--id", "ro"])
        .ok();
    let queued = repo.read(".agentos/todo/ro.md");
    if let Some(_guard) = ReadOnly::new(&repo.path(".agentos/done")) {
        let run = repo.agentos_env(
            &["run", "--no-pr"],
            &[("AGENTOS_AGENT_CMD", &good), ("GITHUB_TOKEN", TOKEN)],
        );
        assert_ne!(run.code, 0);
        assert!(run.stderr.contains(".agentos/done"), "{}", run.stderr);
        assert_eq!(
            repo.read(".agentos/doing/ro.md"),
            queued,
            "the task file is intact"
        );
    } else {
        eprintln!("read-only done/: skipped, this machine cannot stop root from writing a folder");
    }
    repo.agentos_env(
        &["run", "--no-pr"],
        &[("AGENTOS_AGENT_CMD", &good), ("GITHUB_TOKEN", TOKEN)],
    )
    .ok();
    assert!(repo.exists(".agentos/done/ro.md"));

    // The worktree deleted under the running task (by someone else: the
    // sandbox keeps the agent itself from its worktree's folder).
    let gone = repo.path(".agentos/worktrees/gone");
    run_while_the_agent_waits(&repo, "gone", &[("GITHUB_TOKEN", TOKEN)], || {
        std::fs::remove_dir_all(&gone).expect("rm the worktree")
    })
    .code(1);
    let reason = repo.read(".agentos/failed/gone.reason");
    assert!(reason.contains("disappeared"), "{reason}");

    // The task branch deleted by someone while the agent works.
    run_while_the_agent_waits(&repo, "nobranch", &[("GITHUB_TOKEN", TOKEN)], || {
        repo.git(&["update-ref", "-d", "refs/heads/agentos/nobranch"]);
    })
    .code(1);
    let reason = repo.read(".agentos/failed/nobranch.reason");
    assert!(reason.contains("branch is gone"), "{reason}");

    // The base branch moves while the agent works: the task stays on its base.
    let base = repo.git(&["rev-parse", "main"]).trim().to_string();
    run_while_the_agent_waits(&repo, "moved", &[("GITHUB_TOKEN", TOKEN)], || {
        repo.git(&["commit", "-q", "--allow-empty", "-m", "moved"]);
    })
    .ok();
    assert_ne!(repo.git(&["rev-parse", "main"]).trim(), base, "main moved");
    assert_eq!(repo.git(&["rev-parse", "agentos/moved^"]).trim(), base);

    // A full disk, as a file-size limit: the agent's stream cannot be saved.
    let chatty = FakeAgent::new(&repo)
        .runs(r#"printf '{"type":"assistant","pad":"%0200000d"}\n' 0"#)
        .writes("README.md", "x\n")
        .build();
    repo.agentos(&["add", "Fix it", "-t", "README.md", "--id", "full"])
        .ok();
    let mut cmd = std::process::Command::new("sh");
    crate::support::seal(&mut cmd, &repo.home);
    let out = cmd
        .arg("-c")
        .arg("ulimit -f 64 && exec \"$0\" run --no-pr")
        .arg(crate::support::BIN)
        .env("AGENTOS_AGENT_CMD", &chatty)
        .env("GITHUB_TOKEN", TOKEN)
        .current_dir(repo.root())
        .output()
        .expect("run under a file-size limit");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reason = repo.read(".agentos/failed/full.reason");
    assert!(
        reason.contains("cannot write the agent's stream") && reason.contains("too large"),
        "{reason}"
    );

    assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
    assert_eq!(files_with_token(repo.dir.path()), Vec::<String>::new());

    // Through all of it, the person's files are as they were.
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
    assert!(repo.read("README.md").contains("cargo instal`"));
}
