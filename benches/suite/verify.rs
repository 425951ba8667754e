//! Verify a 100-file change on a 10,000-file repository, next to
//! `git status --porcelain` + `git diff --name-only` on the same worktree.
use crate::common::{git, median, ms, timed, BIN};
use crate::{fixtures, runs, Row};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub fn rows(scratch: &Path) -> Vec<Row> {
    let repo = fixtures::repo(&scratch.join("repo"), 10_000);
    fixtures::agentos(
        &repo,
        &[
            "add",
            "Touch a hundred files",
            "--id",
            "hundred",
            "-t",
            "src/m1/**",
        ],
    );
    let agent = fixtures::instant_agent(
        &scratch.join("agent.sh"),
        "for f in src/m1/*.txt; do echo changed >> \"$f\"; done",
    );
    timed(
        Command::new(BIN)
            .args(["run", "--keep", "--no-pr"])
            .env("AGENTOS_AGENT_CMD", &agent)
            .current_dir(&repo),
    );
    let worktree = repo.join(".agentos/worktrees/hundred");
    let base = git(&repo, &["rev-parse", "main"]).trim().to_string();
    let changed = git(&worktree, &["diff", "--name-only", &base])
        .lines()
        .count();
    assert_eq!(changed, 100, "the fixture changes 100 files");
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..runs() {
        ours.push(timed(
            Command::new(BIN)
                .args(["verify", "hundred", "--no-commands"])
                .current_dir(&repo),
        ));
        let start = Instant::now();
        git(&worktree, &["status", "--porcelain"]);
        git(&worktree, &["diff", "--name-only", &base]);
        floor.push(start.elapsed());
    }
    vec![Row::ratio(
        "verify a 100-file change (10,000-file repo)",
        ms(median(ours)),
        "`git status --porcelain` + `git diff --name-only`",
        ms(median(floor)),
        1.2,
    )]
}
