//! Worktree ready for a task on a 10,000-file repository, through the same code
//! the dispatcher runs (a recycled worktree from the pool, reset to a base that
//! alternates between two commits 10 files apart), next to `git worktree add`;
//! and for the first task, once `watch` has prepared one while idle.
use crate::common::git;
use crate::{fixtures, runs, Row};
use git_agentos::git::{Branch, Repo};
use std::path::Path;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn rows(scratch: &Path) -> Vec<Row> {
    let root = fixtures::repo(&scratch.join("repo"), 10_000);
    let first = git(&root, &["rev-parse", "HEAD"]).trim().to_string();
    for i in 0..10 {
        let f = root.join(format!("src/m{i}/f{i}.txt"));
        std::fs::write(&f, format!("changed {i}\n")).expect("write");
    }
    git(&root, &["commit", "-q", "-am", "ten files"]);
    let second = git(&root, &["rev-parse", "HEAD"]).trim().to_string();
    let repo = Repo::discover(&root).expect("repo");
    let worktrees = root.join(".agentos/worktrees");
    // Ours and the baseline take turns, so both meet the same disk and cache;
    // neither deletes files in the loop (that slows the next checkout, for both).
    let (mut cold, mut ours, mut base) = (0.0, Vec::new(), Vec::new());
    for i in 0..=runs() {
        let id = format!("wt-{i}");
        let path = worktrees.join(&id);
        let rev = if i % 2 == 0 { &first } else { &second };
        let start = Instant::now();
        repo.fresh_worktree(&id, rev, &path, Branch::Create)
            .expect("worktree");
        let took = start.elapsed().as_secs_f64() * 1000.0;
        repo.retire_worktree(&path).expect("retire");
        if i == 0 {
            cold = took;
            continue;
        }
        ours.push(took);
        let cli = scratch.join(format!("cli-{i}"));
        let start = Instant::now();
        git(
            &root,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("cli-{i}"),
                cli.to_str().expect("utf8"),
                rev,
            ],
        );
        base.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let b = median(base);
    let (idle, idle_base) = first_task(&repo, &root, scratch, &second);
    vec![
        Row::ratio(
            "worktree ready for a task (10,000-file repo, recycled)",
            median(ours),
            "`git worktree add` CLI",
            b,
            1.0,
        ),
        Row {
            what: "worktree ready, first task (empty pool: `git worktree add`), one run".into(),
            measured: format!("{cold:.1} ms"),
            baseline: format!("`git worktree add` CLI: {b:.1} ms"),
            ratio: Some(cold / b),
            goal: "— (information)".into(),
            met: true,
        },
        Row::ratio(
            "worktree ready for the first task (10,000-file repo, pool prepared while idle)",
            idle,
            "`git worktree add` CLI",
            idle_base,
            1.0,
        ),
    ]
}

/// The first task's worktree when `watch` prepared one while idle (not timed:
/// nobody waits for it), taking turns with `git worktree add`; each run in a
/// worktrees folder of its own, so its pool holds only the prepared one.
fn first_task(repo: &Repo, root: &Path, scratch: &Path, head: &str) -> (f64, f64) {
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for i in 0..runs() {
        let path = root.join(format!(".agentos/idle-{i}/first"));
        assert!(repo.prepare_pool_slot(&path, head).expect("prepare"));
        let start = Instant::now();
        repo.fresh_worktree(&format!("first-{i}"), head, &path, Branch::Create)
            .expect("worktree");
        ours.push(start.elapsed().as_secs_f64() * 1000.0);
        let cli = scratch.join(format!("first-cli-{i}"));
        let start = Instant::now();
        git(
            root,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("first-cli-{i}"),
                cli.to_str().expect("utf8"),
                head,
            ],
        );
        base.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    (median(ours), median(base))
}
