//! A whole task with an instant agent and no pull request, pushed to a local bare
//! remote (1,000-file repository), next to the git CLI floor: worktree add, the
//! same edit, commit, diff, push to the bare remote, worktree remove.
use crate::common::{git, median, ms, timed, BIN};
use crate::{fixtures, runs, Row};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub fn rows(scratch: &Path) -> Vec<Row> {
    let repo = fixtures::repo(&scratch.join("repo"), 1000);
    let bare = scratch.join("remote.git");
    git(
        scratch,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            bare.to_str().expect("utf8"),
        ],
    );
    git(
        &repo,
        &["remote", "add", "origin", bare.to_str().expect("utf8")],
    );
    git(&repo, &["push", "-q", "origin", "main"]);
    let agent = fixtures::instant_agent(&scratch.join("agent.sh"), "echo x >> README.md");
    // Ours and the floor take turns, so both meet the same disk and cache. The
    // first task of ours fills the worktree pool, as after any first task.
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    for i in 0..=runs() {
        let id = format!("task-{i}");
        fixtures::drop_task(&repo, &id, "README.md");
        let took = timed(
            Command::new(BIN)
                .arg("run")
                .env("AGENTOS_AGENT_CMD", &agent)
                .current_dir(&repo),
        );
        assert!(
            repo.join(format!(".agentos/done/{id}.md")).exists(),
            "{id} done"
        );
        if i == 0 {
            continue;
        }
        ours.push(took);
        let path = scratch.join(format!("cli-{i}"));
        let p = path.to_str().expect("utf8");
        let branch = format!("cli/{i}");
        let start = Instant::now();
        git(&repo, &["worktree", "add", "-q", "-b", &branch, p, "main"]);
        std::fs::write(path.join("README.md"), "# bench\nx\n").expect("edit");
        git(&path, &["commit", "-q", "-am", "edit"]);
        git(&path, &["diff", "--name-only", "main"]);
        git(&path, &["push", "-q", "origin", &branch]);
        git(&repo, &["worktree", "remove", "--force", p]);
        floor.push(start.elapsed());
    }
    vec![Row::ratio(
        "whole task, instant agent, no PR, pushed to a bare remote (1,000-file repo)",
        ms(median(ours)),
        "git CLI floor",
        ms(median(floor)),
        1.0,
    )]
}
