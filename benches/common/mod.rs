//! Helpers shared by the benchmarks: run git, time a command, take medians.
#![allow(dead_code)]
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_git-agentos");

/// `git` with a fixed identity, in `repo`; panics when it fails. Returns stdout.
pub fn git(repo: &Path, args: &[&str]) -> String {
    let out = git_cmd(repo, args)
        .stderr(Stdio::null())
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `git` command `git()` runs, to time it.
pub fn git_cmd(repo: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.args([
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@example.com",
    ])
    .args(args)
    .current_dir(repo);
    cmd
}

/// Wall time of a command that must succeed (its output is discarded).
pub fn timed(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    let elapsed = start.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    elapsed
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// True when cargo asks the bench to list itself (`cargo test --benches`).
pub fn listing() -> bool {
    std::env::args().any(|a| a == "--list")
}
