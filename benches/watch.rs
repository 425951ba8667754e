//! Benchmark: `watch` at rest and at work.
//!
//! Run with `cargo bench --bench watch`. Reports, for a `watch` dispatcher on an
//! empty queue: CPU time used over 60 s of idle (goal: under 10 ms; from the
//! kernel's per-thread schedstat, in nanoseconds) and resident memory; then the
//! time from a task file written into todo/ to the agent process started (median
//! of 15 tasks), next to `git worktree add` alone on the same repository as a
//! baseline. `BENCH_IDLE_SECS` shortens the idle window.
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod common;
use common::{git, BIN};

fn cpu_ns(pid: u32) -> u64 {
    let mut total = 0;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            total += stat
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn make_repo(root: &Path, files: usize) {
    std::fs::create_dir_all(root).expect("mkdir");
    git(root, &["init", "-q", "-b", "main"]);
    for i in 0..files {
        let dir = root.join(format!("src/m{}", i % 50));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(format!("f{i}.txt")), format!("file {i}\n")).expect("write");
    }
    std::fs::write(root.join("README.md"), "# bench\n").expect("write");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "fixture"]);
    assert!(Command::new(BIN)
        .arg("init")
        .current_dir(root)
        .stdout(Stdio::null())
        .status()
        .expect("init")
        .success());
}

fn spawn_watch(repo: &Path, agent: &str) -> Child {
    Command::new(BIN)
        .arg("watch")
        .env("AGENTOS_AGENT_CMD", agent)
        .current_dir(repo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watch")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    if common::listing() {
        return;
    }
    let idle_secs: u64 = std::env::var("BENCH_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    make_repo(&repo, 1000);
    let stamps = dir.path().join("agent-started");
    std::fs::create_dir_all(&stamps).expect("mkdir");
    let agent = dir.path().join("agent.sh");
    std::fs::write(
        &agent,
        format!(
            "#!/bin/sh\ndate +%s%N > {}/$AGENTOS_TASK_ID\necho '{{\"type\":\"system\",\"subtype\":\"init\"}}'\necho x >> README.md\necho '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false}}'\n",
            stamps.display()
        ),
    )
    .expect("agent");
    Command::new("chmod")
        .arg("+x")
        .arg(&agent)
        .status()
        .expect("chmod");

    // Idle: CPU and memory of a watch with nothing to do.
    let mut watch = spawn_watch(&repo, agent.to_str().expect("utf8"));
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, t0) = (cpu_ns(watch.id()), Instant::now());
    std::thread::sleep(Duration::from_secs(idle_secs));
    let idle_cpu_ms = (cpu_ns(watch.id()) - cpu0) as f64 / 1e6;
    let idle_wall = t0.elapsed().as_secs_f64();
    let rss = rss_kb(watch.id());

    // At work: task file written → agent process started.
    let mut latencies = Vec::new();
    for i in 0..15 {
        let id = format!("bench-{i}");
        let text = format!("+++\ntitle = \"Bench {i}\"\ntargets = [\"README.md\"]\n+++\n");
        let tmp = repo.join(format!(".agentos/todo/.{id}.tmp"));
        std::fs::write(&tmp, text).expect("write task");
        let written = now_ns();
        std::fs::rename(&tmp, repo.join(format!(".agentos/todo/{id}.md"))).expect("rename");
        let stamp = stamps.join(&id);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !repo.join(format!(".agentos/done/{id}.md")).exists() {
            assert!(Instant::now() < deadline, "task {id} was not picked up");
            std::thread::sleep(Duration::from_millis(5));
        }
        let started: u128 = std::fs::read_to_string(&stamp)
            .expect("stamp")
            .trim()
            .parse()
            .expect("ns");
        latencies.push((started.saturating_sub(written)) as f64 / 1e6);
        // Let the dispatcher finish cleaning up, so the next task meets an idle one.
        while repo.join(format!(".agentos/worktrees/{id}")).exists() {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").arg(watch.id().to_string()).status();
    let _ = watch.wait();

    // Baseline: `git worktree add` alone, same repository.
    let mut worktree_ms = Vec::new();
    for i in 0..15 {
        let path = dir.path().join(format!("wt-{i}"));
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
        worktree_ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }

    println!("| what | measured | goal |");
    println!("| --- | --- | --- |");
    println!("| `watch` CPU over {idle_wall:.0} s idle | {idle_cpu_ms:.2} ms | under 10 ms |");
    println!(
        "| `watch` resident memory, idle | {:.1} MB | under 30 MB |",
        rss as f64 / 1024.0
    );
    let lat = median(latencies);
    let wt = median(worktree_ms);
    println!(
        "| task file written → agent started (1,000-file repo, median of 15) | {lat:.1} ms | — |"
    );
    println!(
        "| baseline: `git worktree add` alone (median of 15) | {wt:.1} ms | ratio {:.2}x |",
        lat / wt
    );
}
