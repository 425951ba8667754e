//! `watch --fleet` over 10 repositories: CPU while idle, and a task file
//! written into any one of them → its agent started, next to the same with
//! `watch` on one repository, measured in the same run.
use crate::common::BIN;
use crate::idle::{cpu_ns_since, thread_cpu};
use crate::pickup::{median, pick_up};
use crate::{fixtures, runs, Row};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REPOS: usize = 10;

/// Start `watch` with `args` in `dir` (AGENTOS_HOME `home`); ready when it says so.
fn watch(dir: &Path, home: &Path, args: &[&str], agent: &str) -> Child {
    let mut child = Command::new(BIN)
        .args(args)
        .env("AGENTOS_HOME", home)
        .env("AGENTOS_AGENT_CMD", agent)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    fixtures::wait_watching(&mut child);
    child
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}

/// Milliseconds from each task file written (into `repos` in turn) to its
/// agent started; one task in each repository first, not counted (it fills
/// that repository's worktree pool, as any task after the first finds it).
fn pickups(repos: &[PathBuf], stamps: &Path, prefix: &str) -> Vec<f64> {
    (0..repos.len() + runs())
        .map(|i| pick_up(&repos[i % repos.len()], &format!("{prefix}-{i}"), stamps))
        .skip(repos.len())
        .collect()
}

pub fn rows(scratch: &Path) -> Vec<Row> {
    let home = scratch.join("home");
    let stamps = scratch.join("started");
    std::fs::create_dir_all(home.join("fleet")).expect("mkdir");
    std::fs::create_dir_all(&stamps).expect("mkdir");
    let repos: Vec<PathBuf> = (0..REPOS)
        .map(|i| {
            let repo = fixtures::repo(&scratch.join(format!("repo-{i}")), 1000);
            // The agent leaves its start time outside its worktree: allowed on purpose.
            std::fs::write(
                repo.join(".agentos/agents/default/local.toml"),
                format!(
                    "[sandbox]\nwritable = [{:?}]\n",
                    stamps.display().to_string()
                ),
            )
            .expect("local.toml");
            std::os::unix::fs::symlink(&repo, home.join(format!("fleet/r{i}"))).expect("link");
            repo
        })
        .collect();
    let agent = fixtures::instant_agent(
        &scratch.join("agent.sh"),
        &format!(
            "date +%s%N > {}/$AGENTOS_TASK_ID\necho x >> README.md",
            stamps.display()
        ),
    );
    let secs = std::env::var("BENCH_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60u64);
    let fleet = watch(scratch, &home, &["watch", "--fleet", "--no-pr"], &agent);
    // As for one repository: its start (the resumes after the ready line) is not idle time.
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, t0) = (thread_cpu(fleet.id()), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let idle_ms = cpu_ns_since(fleet.id(), &cpu0) as f64 / 1e6;
    let per_minute = idle_ms * 60.0 / t0.elapsed().as_secs_f64();
    let in_fleet = pickups(&repos, &stamps, "fleet");
    stop(fleet);
    let single = watch(&repos[0], &home, &["watch", "--no-pr"], &agent);
    let alone = pickups(&repos[..1], &stamps, "single");
    stop(single);
    vec![
        Row::limit(
            "`watch --fleet` CPU per minute idle, 10 repositories",
            per_minute,
            "ms",
            10.0,
        ),
        Row::ratio(
            "task file written in any of 10 fleet repos → agent started (`watch --fleet`)",
            median(in_fleet),
            "`watch` on one repository",
            median(alone),
            1.2,
        ),
    ]
}
