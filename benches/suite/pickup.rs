//! A task file written into todo/ → its agent process started, with `watch`
//! running on a 1,000-file repository; baseline: `git worktree add` alone.
use crate::common::{git, BIN};
use crate::{fixtures, runs, Row};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Write task `id` into `repo`'s todo/ and wait until it is done: the
/// milliseconds from the file written to its agent started (the agent writes
/// the time into `stamps`/ID). Returns once the dispatcher is idle again.
pub fn pick_up(repo: &Path, id: &str, stamps: &Path) -> f64 {
    let written = now_ns();
    fixtures::drop_task(repo, id, "README.md");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !repo.join(format!(".agentos/done/{id}.md")).exists() {
        assert!(Instant::now() < deadline, "task {id} was not done");
        std::thread::sleep(Duration::from_millis(5));
    }
    let started: u128 = std::fs::read_to_string(stamps.join(id))
        .expect("stamp")
        .trim()
        .parse()
        .expect("ns");
    // Let the dispatcher finish retiring the worktree: the next task meets an
    // idle dispatcher.
    while repo.join(format!(".agentos/worktrees/{id}")).exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    started.saturating_sub(written) as f64 / 1e6
}

pub fn rows(scratch: &Path) -> Vec<Row> {
    let repo = fixtures::repo(&scratch.join("repo"), 1000);
    let stamps = scratch.join("started");
    std::fs::create_dir_all(&stamps).expect("mkdir");
    // The agent leaves its start time outside its worktree: allowed on purpose.
    std::fs::write(
        repo.join(".agentos/agents/default/agent.toml"),
        format!(
            "[sandbox]\nwritable = [{:?}]\n",
            stamps.display().to_string()
        ),
    )
    .expect("agent.toml");
    let agent = fixtures::script(
        &scratch.join("agent.sh"),
        &format!(
            "date +%s%N > {}/$AGENTOS_TASK_ID\necho '{{\"type\":\"system\",\"subtype\":\"init\"}}'\necho x >> README.md\necho '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false}}'\n",
            stamps.display()
        ),
    );
    let mut watch = Command::new(BIN)
        .args(["watch", "--no-pr"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .current_dir(&repo)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    // Ready when it says so.
    fixtures::wait_watching(&mut watch);
    let (mut latencies, mut base) = (Vec::new(), Vec::new());
    // One task first to fill the worktree pool, as in any run after the first task.
    for i in 0..=runs() {
        let id = format!("bench-{i}");
        let latency = pick_up(&repo, &id, &stamps);
        if i > 0 {
            latencies.push(latency);
        }
        // The baseline takes its turn on the same repository, the same disk (its
        // worktrees stay: deleting files slows the next checkout here, for both).
        let path = scratch.join(format!("wt-{i}"));
        let start = Instant::now();
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("bench-wt-{i}"),
                path.to_str().expect("utf8"),
                "HEAD",
            ],
        );
        base.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let _ = Command::new("kill").arg(watch.id().to_string()).status();
    let _ = watch.wait();
    vec![Row::ratio(
        "task file written → agent started (1,000-file repo, `watch`)",
        median(latencies),
        "`git worktree add` alone",
        median(base),
        1.2,
    )]
}
