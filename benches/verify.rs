//! Benchmark: verifying a 100-file change in a 10,000-file repository.
//!
//! Run with `cargo bench --bench verify`. Builds the repository, runs a task whose
//! (instant, scripted) agent modifies 100 files, keeps its worktree, then times
//! `git agentos verify ID --no-commands` (the intent checks and the report, diff
//! included) against the floor a user would otherwise run on the same worktree:
//! `git status --porcelain` plus `git diff --name-only BASE`. Median of 15 each,
//! alternating. Goal: at most 1.5x.
use std::process::Command;
use std::time::Instant;

mod common;
use common::{git, median, ms, timed, BIN};

fn main() {
    if common::listing() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    for i in 0..10_000 {
        let d = repo.join(format!("src/m{}", i % 100));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(
            d.join(format!("f{i}.txt")),
            format!("line one of {i}\nline two\nline three\n"),
        )
        .expect("write");
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "fixture"]);
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(&repo);
        for (k, v) in env {
            cmd.env(k, v);
        }
        timed(&mut cmd)
    };
    run(&["init"], &[]);
    run(
        &[
            "add",
            "Touch a hundred files",
            "--id",
            "hundred",
            "-t",
            "src/m1/**",
        ],
        &[],
    );
    let agent = dir.path().join("agent.sh");
    std::fs::write(
        &agent,
        "#!/bin/sh\necho '{\"type\":\"system\",\"subtype\":\"init\"}'\nfor f in src/m1/*.txt; do echo changed >> \"$f\"; done\necho '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false}'\n",
    )
    .expect("agent");
    Command::new("chmod")
        .arg("+x")
        .arg(&agent)
        .status()
        .expect("chmod");
    run(
        &["run", "--keep"],
        &[("AGENTOS_AGENT_CMD", agent.to_str().expect("utf8"))],
    );
    let worktree = repo.join(".agentos/worktrees/hundred");
    let base = git(&repo, &["rev-parse", "main"]).trim().to_string();
    let changed = git(&worktree, &["diff", "--name-only", &base])
        .lines()
        .count();
    assert_eq!(changed, 100, "the fixture changes 100 files");
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        ours.push(run(&["verify", "hundred", "--no-commands"], &[]));
        let start = Instant::now();
        git(&worktree, &["status", "--porcelain"]);
        git(&worktree, &["diff", "--name-only", &base]);
        floor.push(start.elapsed());
    }
    let (o, f) = (median(ours), median(floor));
    println!("100 changed files in a 10,000-file repository, median of 15\n");
    println!("| what | median | ratio |");
    println!("| --- | --- | --- |");
    println!(
        "| `git status --porcelain` + `git diff --name-only` (floor) | {:.1} ms | 1.00x |",
        ms(f)
    );
    println!("| `git agentos verify` (checks, report, unified diff) | {:.1} ms | {:.2}x (goal: at most 1.5x) |", ms(o), ms(o) / ms(f));
}
