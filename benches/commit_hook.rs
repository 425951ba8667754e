//! Benchmark: what the post-commit hook adds to `git commit`.
//!
//! Run with `cargo bench --bench commit_hook`. Two repositories, one with the hook
//! installed (and a trigger that does not match) and one without; 20 commits in
//! each, alternating, each adding a file. Reports the median wall time of each and
//! the ratio (goal: at most 1.25x), next to a `#!/bin/sh` hook that does nothing.
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{git_cmd, median, ms, timed, BIN};
const COMMITS: usize = 20;

fn git(repo: &Path, args: &[&str]) -> Duration {
    timed(&mut git_cmd(repo, args))
}

fn setup(root: &Path) {
    std::fs::create_dir_all(root).expect("mkdir");
    git(root, &["init", "-q", "-b", "main"]);
    std::fs::write(root.join("README.md"), "# bench\n").expect("write");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "init"]);
}

fn main() {
    if common::listing() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (plain, noop, hooked) = (
        dir.path().join("plain"),
        dir.path().join("noop"),
        dir.path().join("hooked"),
    );
    for repo in [&plain, &noop, &hooked] {
        setup(repo);
    }
    let noop_hook = noop.join(".git/hooks/post-commit");
    std::fs::write(&noop_hook, "#!/bin/sh\n").expect("hook");
    Command::new("chmod")
        .arg("+x")
        .arg(&noop_hook)
        .status()
        .expect("chmod");
    for args in [&["init"][..], &["hooks", "install"]] {
        assert!(Command::new(BIN)
            .args(args)
            .current_dir(&hooked)
            .stdout(Stdio::null())
            .status()
            .expect("run")
            .success());
    }
    std::fs::create_dir_all(hooked.join(".agentos/triggers")).expect("mkdir");
    std::fs::write(
        hooked.join(".agentos/triggers/api.toml"),
        "paths = [\"src/api/**\"]\ntemplate = \"tests\"\ntargets = [\"tests/**\"]\n",
    )
    .expect("trigger");
    let (mut t_plain, mut t_noop, mut t_hooked) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..COMMITS {
        for (repo, times) in [
            (&plain, &mut t_plain),
            (&noop, &mut t_noop),
            (&hooked, &mut t_hooked),
        ] {
            std::fs::write(repo.join(format!("f{i}.txt")), format!("{i}\n")).expect("write");
            git(repo, &["add", "-A"]);
            times.push(git(repo, &["commit", "-q", "-m", &format!("commit {i}")]));
        }
    }
    let (p, n, h) = (median(t_plain), median(t_noop), median(t_hooked));
    println!("{COMMITS} commits each, median wall time\n");
    println!("| `git commit` | median | ratio to no hook |");
    println!("| --- | --- | --- |");
    println!("| without a hook | {:.1} ms | 1.00x |", ms(p));
    println!(
        "| with a `#!/bin/sh` hook that does nothing | {:.1} ms | {:.2}x |",
        ms(n),
        ms(n) / ms(p)
    );
    println!(
        "| with the git agentos hook | {:.1} ms | {:.2}x (goal: at most 1.25x) |",
        ms(h),
        ms(h) / ms(p)
    );
}
