//! Benchmark: `list` and `status` over 10,000 queued tasks (goal: under 100 ms).
//!
//! Run with `cargo bench --bench queue`. Builds its own fixture: a git repository
//! with 10,000 task files in todo/. Reports the median of repeated runs of the real
//! binary, cold (no todo index yet) and warm, next to `ls -l` of the same folder
//! as a floor: one `stat` per file is the least any exact listing can do.
use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;
use common::{median, ms, timed, BIN};

const TASKS: usize = 10_000;
const RUNS: usize = 15;

fn agentos(repo: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(repo);
    cmd
}

fn main() {
    if common::listing() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    common::git(repo, &["init", "-q", "-b", "main"]);
    common::git(repo, &["commit", "-q", "--allow-empty", "-m", "init"]);
    timed(&mut agentos(repo, &["init"]));
    let todo = repo.join(".agentos/todo");
    for i in 0..TASKS {
        let task = git_agentos::task::Task {
            title: format!("Task number {i}"),
            targets: vec![format!("src/file{i}.rs")],
            base: Some("0123456789abcdef0123456789abcdef01234567".into()),
            base_branch: Some("main".into()),
            enqueued: Some(git_agentos::timestamp::Timestamp::now()),
            body: format!("Change file {i} as described.\n"),
            ..Default::default()
        };
        std::fs::write(
            todo.join(format!("task-{i}.md")),
            git_agentos::task::write(&task),
        )
        .expect("write task");
    }
    // Files changed in the last two seconds are never cached; let them settle.
    std::thread::sleep(Duration::from_millis(2100));

    println!("{TASKS} queued tasks, median of {RUNS} runs\n");
    println!("| what | time | ratio to `ls -l todo/` |");
    println!("| --- | --- | --- |");
    let floor = median(
        (0..RUNS)
            .map(|_| timed(Command::new("ls").arg("-l").arg(&todo)))
            .collect(),
    );
    let row = |what: &str, d: Duration| {
        println!(
            "| {what} | {:.1} ms | {:.2}x |",
            ms(d),
            d.as_secs_f64() / floor.as_secs_f64()
        );
    };
    row("`ls -l .agentos/todo` (floor)", floor);
    let cold = timed(&mut agentos(repo, &["status"]));
    row("`status`, cold (builds the todo index)", cold);
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["list"],
        &["list", "--json"],
    ] {
        let d = median((0..RUNS).map(|_| timed(&mut agentos(repo, args))).collect());
        row(&format!("`{}`", args.join(" ")), d);
    }
}
