//! `git commit` with the git agentos post-commit hook (and a trigger), and with
//! the hook but no trigger and no `Agentos-` trailer (the shim then skips in sh,
//! no git agentos process): a commit, and a rebase of 100 commits, against the
//! same with a do-nothing `#!/bin/sh` hook, which is what any hook costs (git
//! starts a process for it: a rebase runs post-commit once per replayed commit,
//! and even `/bin/true` as the hook measured 1.8x a rebase without one). The
//! same without any hook is shown for scale; the bursts of 20 commits are
//! measured against it.
use crate::common::{git_cmd, median, ms, timed};
use crate::{fixtures, runs, Row};
use std::path::Path;

fn setup(root: &Path) {
    std::fs::create_dir_all(root).expect("mkdir");
    timed(&mut git_cmd(root, &["init", "-q", "-b", "main"]));
    std::fs::write(root.join("README.md"), "# bench\n").expect("write");
    timed(&mut git_cmd(root, &["add", "-A"]));
    timed(&mut git_cmd(root, &["commit", "-q", "-m", "init"]));
}

pub fn rows(scratch: &Path) -> Vec<Row> {
    let (plain, noop, hooked) = (
        scratch.join("plain"),
        scratch.join("noop"),
        scratch.join("hooked"),
    );
    for repo in [&plain, &noop, &hooked] {
        setup(repo);
    }
    fixtures::script(&noop.join(".git/hooks/post-commit"), "");
    fixtures::agentos(&hooked, &["init"]);
    fixtures::agentos(&hooked, &["hooks", "install"]);
    std::fs::create_dir_all(hooked.join(".agentos/triggers")).expect("mkdir");
    std::fs::write(
        hooked.join(".agentos/triggers/api.toml"),
        "paths = [\"src/api/**\"]\ntemplate = \"tests\"\ntargets = [\"tests/**\"]\n",
    )
    .expect("trigger");
    let quiet = scratch.join("quiet");
    setup(&quiet);
    fixtures::agentos(&quiet, &["init"]);
    fixtures::agentos(&quiet, &["hooks", "install"]);
    let (mut t_plain, mut t_noop, mut t_hooked) = (Vec::new(), Vec::new(), Vec::new());
    let mut t_quiet = Vec::new();
    for i in 0..runs().max(20) {
        for (repo, times) in [
            (&plain, &mut t_plain),
            (&noop, &mut t_noop),
            (&hooked, &mut t_hooked),
            (&quiet, &mut t_quiet),
        ] {
            std::fs::write(repo.join(format!("f{i}.txt")), format!("{i}\n")).expect("write");
            timed(&mut git_cmd(repo, &["add", "-A"]));
            times.push(timed(&mut git_cmd(
                repo,
                &["commit", "-q", "-m", &format!("commit {i}")],
            )));
        }
    }
    let (p, n, h, q) = (
        ms(median(t_plain)),
        ms(median(t_noop)),
        ms(median(t_hooked)),
        ms(median(t_quiet)),
    );
    let (burst_plain, burst_noop, burst_hooked, burst_quiet) =
        bursts(&plain, &noop, &hooked, &quiet);
    let (rebase_plain, rebase_noop, rebase_quiet) = rebases(&plain, &noop, &quiet);
    vec![
        Row::ratio(
            "20 commits back to back with the git agentos hook (a trigger: its job runs after each)",
            burst_hooked,
            "without a hook",
            burst_plain,
            1.3,
        ),
        Row::ratio(
            "20 commits back to back with the git agentos hook, no trigger and no trailer",
            burst_quiet,
            "without a hook",
            burst_plain,
            1.3,
        ),
        Row::ratio(
            "`git commit` with the git agentos hook, no trigger and no trailer",
            q,
            "with a do-nothing `#!/bin/sh` hook",
            n,
            1.1,
        ),
        Row::ratio(
            "`git rebase` of 100 commits with the git agentos hook, no trigger and no trailer",
            rebase_quiet,
            "with a do-nothing `#!/bin/sh` hook",
            rebase_noop,
            1.1,
        ),
        Row::ratio(
            "`git commit` with the git agentos hook (a trigger: its job runs after each)",
            h,
            "with a do-nothing `#!/bin/sh` hook",
            n,
            1.1,
        ),
        information(
            "`git commit` with the git agentos hook, no trigger and no trailer",
            q,
            p,
        ),
        information("`git commit` with a do-nothing `#!/bin/sh` hook", n, p),
        information(
            "20 commits back to back with a do-nothing `#!/bin/sh` hook",
            burst_noop,
            burst_plain,
        ),
        information(
            "`git rebase` of 100 commits with the git agentos hook, no trigger and no trailer",
            rebase_quiet,
            rebase_plain,
        ),
        information(
            "`git rebase` of 100 commits with a do-nothing `#!/bin/sh` hook",
            rebase_noop,
            rebase_plain,
        ),
    ]
}

/// A row against the same without any hook, for scale: git's own cost of
/// starting a hook process is in it (for a rebase, once per replayed commit),
/// whatever the hook does.
fn information(what: &str, measured: f64, plain: f64) -> Row {
    Row {
        what: format!("{what} (for scale)"),
        measured: format!("{measured:.1} ms"),
        baseline: format!("without a hook: {plain:.1} ms"),
        ratio: Some(measured / plain),
        goal: "— (information)".into(),
        met: true,
    }
}

/// The median time of 20 commits made back to back (each `git add` and `git
/// commit`, no wait between them), without a hook, with a do-nothing one (so
/// its repository holds the same files as the others for the rebases), with
/// ours and a trigger (a background job after each commit) and with ours and
/// nothing to do; five
/// bursts each, in turn. Between bursts (not inside one) the hooked
/// repository's jobs are waited for, one line each in `runs/hooks.log`, so
/// one burst's jobs never land on the next burst's baseline.
fn bursts(plain: &Path, noop: &Path, hooked: &Path, quiet: &Path) -> (f64, f64, f64, f64) {
    let log = hooked.join(".agentos/runs/hooks.log");
    let lines = || {
        std::fs::read_to_string(&log)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let (mut t_plain, mut t_hooked, mut t_quiet) = (Vec::new(), Vec::new(), Vec::new());
    let mut t_noop = Vec::new();
    for round in 0..5 {
        for (repo, times) in [
            (plain, &mut t_plain),
            (noop, &mut t_noop),
            (hooked, &mut t_hooked),
            (quiet, &mut t_quiet),
        ] {
            let logged = lines();
            let start = std::time::Instant::now();
            for i in 0..20 {
                let name = format!("b{round}-{i}.txt");
                std::fs::write(repo.join(&name), "b\n").expect("write");
                timed(&mut git_cmd(repo, &["add", &name]));
                timed(&mut git_cmd(repo, &["commit", "-q", "-m", &name]));
            }
            times.push(start.elapsed());
            if repo == hooked {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
                while lines() < logged + 20 {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the hook's 20 jobs did not all log a line in `{}` within 120 s",
                        log.display()
                    );
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    }
    (
        ms(median(t_plain)),
        ms(median(t_noop)),
        ms(median(t_hooked)),
        ms(median(t_quiet)),
    )
}

/// The median time of rebasing a branch of 100 commits onto a new commit of
/// main, without a hook (`plain`), with one that does nothing (`noop`) and with
/// ours but nothing for it to do (`quiet`), five rounds each, in turn.
fn rebases(plain: &Path, noop: &Path, quiet: &Path) -> (f64, f64, f64) {
    for repo in [plain, noop, quiet] {
        timed(&mut git_cmd(repo, &["checkout", "-q", "-b", "feature"]));
        for i in 0..100 {
            std::fs::write(repo.join(format!("r{i}.txt")), format!("{i}\n")).expect("write");
            timed(&mut git_cmd(repo, &["add", "-A"]));
            timed(&mut git_cmd(
                repo,
                &["commit", "-q", "-m", &format!("r{i}")],
            ));
        }
    }
    let (mut t_plain, mut t_noop, mut t_quiet) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..5 {
        for (repo, times) in [
            (plain, &mut t_plain),
            (noop, &mut t_noop),
            (quiet, &mut t_quiet),
        ] {
            timed(&mut git_cmd(repo, &["checkout", "-q", "main"]));
            std::fs::write(repo.join(format!("m{round}.txt")), "m\n").expect("write");
            timed(&mut git_cmd(repo, &["add", "-A"]));
            timed(&mut git_cmd(repo, &["commit", "-q", "-m", "main"]));
            timed(&mut git_cmd(repo, &["checkout", "-q", "feature"]));
            times.push(timed(&mut git_cmd(repo, &["rebase", "-q", "main"])));
        }
    }
    (ms(median(t_plain)), ms(median(t_noop)), ms(median(t_quiet)))
}
