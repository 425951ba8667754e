//! `watch` at rest: CPU over an idle window (the kernel's per-thread schedstat, in
//! nanoseconds) and resident memory.
use crate::common::BIN;
use crate::{fixtures, Row};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn cpu_ns(pid: u32) -> u64 {
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

pub fn rows(scratch: &Path) -> Vec<Row> {
    let secs: u64 = std::env::var("BENCH_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let repo = fixtures::repo(&scratch.join("repo"), 1000);
    let mut watch = Command::new(BIN)
        .arg("watch")
        .current_dir(&repo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watch");
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, t0) = (cpu_ns(watch.id()), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let cpu_ms = (cpu_ns(watch.id()) - cpu0) as f64 / 1e6;
    let wall = t0.elapsed().as_secs_f64();
    let rss_mb = rss_kb(watch.id()) as f64 / 1024.0;
    let _ = Command::new("kill").arg(watch.id().to_string()).status();
    let _ = watch.wait();
    vec![
        Row::limit(
            &format!("`watch` CPU over {wall:.0} s idle"),
            cpu_ms,
            "ms",
            10.0,
        ),
        Row::limit("`watch` resident memory, idle", rss_mb, "MB", 30.0),
    ]
}
