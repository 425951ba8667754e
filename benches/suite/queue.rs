//! `list` and `status` over 10,000 queued tasks (the real binary, warm), with
//! `ls -l` of the same folder for scale.
use crate::common::{git, median, ms, timed, BIN};
use crate::{fixtures, runs, Row};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const TASKS: usize = 10_000;

pub fn rows(scratch: &Path) -> Vec<Row> {
    let repo = scratch.join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "init"]);
    fixtures::agentos(&repo, &["init"]);
    let todo = repo.join(".agentos/todo");
    for i in 0..TASKS {
        let task = git_agentos::task::Task {
            title: format!("Task number {i}"),
            targets: vec![format!("src/file{i}.rs")],
            base: Some("0123456789abcdef0123456789abcdef01234567".into()),
            base_branch: Some("main".into()),
            enqueued: Some(git_agentos::clock::Timestamp::now()),
            body: format!("Change file {i} as described.\n"),
            ..Default::default()
        };
        std::fs::write(
            todo.join(format!("task-{i}.md")),
            git_agentos::task::write(&task),
        )
        .expect("write task");
    }
    // Past the index's mtime granularity, then one cold run builds the index.
    std::thread::sleep(Duration::from_millis(2100));
    timed(Command::new(BIN).arg("status").current_dir(&repo));
    let ls = ms(median(
        (0..runs())
            .map(|_| timed(Command::new("ls").arg("-l").arg(&todo)))
            .collect(),
    ));
    let mut rows = Vec::new();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["list"],
        &["list", "--json"],
    ] {
        let d = ms(median(
            (0..runs())
                .map(|_| timed(Command::new(BIN).args(args).current_dir(&repo)))
                .collect(),
        ));
        rows.push(Row::ratio(
            &format!("`{}` over {TASKS} tasks", args.join(" ")),
            d,
            "`ls -l todo/`",
            ls,
            1.3,
        ));
    }
    rows
}
