//! `git commit` with the git agentos post-commit hook (and a trigger) next to the
//! same commit without a hook; a do-nothing `#!/bin/sh` hook is shown for scale.
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
    let (mut t_plain, mut t_noop, mut t_hooked) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs().max(20) {
        for (repo, times) in [
            (&plain, &mut t_plain),
            (&noop, &mut t_noop),
            (&hooked, &mut t_hooked),
        ] {
            std::fs::write(repo.join(format!("f{i}.txt")), format!("{i}\n")).expect("write");
            timed(&mut git_cmd(repo, &["add", "-A"]));
            times.push(timed(&mut git_cmd(
                repo,
                &["commit", "-q", "-m", &format!("commit {i}")],
            )));
        }
    }
    let (p, n, h) = (
        ms(median(t_plain)),
        ms(median(t_noop)),
        ms(median(t_hooked)),
    );
    vec![
        Row::ratio(
            "`git commit` with the git agentos hook",
            h,
            "without a hook",
            p,
            1.25,
        ),
        Row {
            what: "`git commit` with a do-nothing `#!/bin/sh` hook (for scale)".into(),
            measured: format!("{n:.1} ms"),
            baseline: format!("without a hook: {p:.1} ms"),
            ratio: Some(n / p),
            goal: "— (information)".into(),
            met: true,
        },
    ]
}
