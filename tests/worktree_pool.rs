//! Recycled worktrees: a task's finished worktree is reused for the next task, and
//! must then be indistinguishable from a fresh checkout of the new base.
use crate::support::{FakeAgent, TestRepo};
use std::time::Duration;

/// Every path under the working tree but `.git`: type, mode, symlink target and
/// content hash, untracked and ignored files included; then what git sees.
const MANIFEST: &str = r#"{ find . -path ./.git -prune -o -mindepth 1 -printf '%P %y %m %l\n' | sort
  find . -path ./.git -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum
  echo "head $(git rev-parse HEAD) $(git symbolic-ref -q HEAD)"
  git status --porcelain --ignored --untracked-files=all; }"#;

#[test]
fn a_recycled_worktree_equals_a_fresh_checkout_byte_for_byte() {
    let repo = TestRepo::initialised();
    repo.write(".gitignore", "build/\n*.log\n");
    repo.write("src/lib.rs", "pub fn one() {}\n");
    repo.write("src/gone.rs", "// removed by the next base\n");
    repo.write("tools/run.sh", "#!/bin/sh\necho run\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        repo.path("tools/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "fixture"]);
    let snapshots = repo.scratch().join("snapshots");
    std::fs::create_dir_all(&snapshots).expect("mkdir");
    // The first task's agent leaves everything a worktree can hold: changed,
    // deleted, new, ignored and untracked files, a new folder, a mode change.
    let messy = FakeAgent::new(&repo)
        .runs("echo changed >> README.md\nrm src/lib.rs\nchmod -x tools/run.sh")
        .runs("mkdir -p build/deep new/empty && echo bin > build/deep/out.bin && echo x > app.log")
        .runs("echo untracked > notes.txt && ln -s README.md link")
        .build();
    repo.agentos(&["add", "Mess", "-t", "README.md", "--id", "first"])
        .ok();
    // Verification fails (the agent touched more than its target): the worktree
    // still goes to the pool.
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &messy)]);
    assert_eq!(
        repo.files_in(".agentos/worktrees/.pool").len(),
        1,
        "retired to the pool"
    );

    // A new base: files changed, added and removed.
    repo.write("src/lib.rs", "pub fn one() {}\npub fn two() {}\n");
    repo.write("src/new.rs", "// new\n");
    repo.git(&["rm", "-q", "src/gone.rs"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "second base"]);
    let look = FakeAgent::new(&repo)
        .runs_before_init(&format!("{MANIFEST} > {}/second.txt", snapshots.display()))
        .runs("echo fixed >> README.md")
        .build();
    repo.agentos(&["add", "Look", "-t", "README.md", "--id", "second"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &look)])
        .ok();
    assert!(repo.exists(".agentos/done/second.md"));
    // The worktree came from the pool (and went back to it).
    assert_eq!(repo.files_in(".agentos/worktrees/.pool").len(), 1);
    let recycled = std::fs::read_to_string(snapshots.join("second.txt")).expect("snapshot");

    // The same commit checked out fresh, on the branch the task had.
    let fresh = repo.dir.path().join("fresh");
    let base = repo.git(&["rev-parse", "main"]).trim().to_string();
    repo.git(&["branch", "-q", "-f", "agentos/second-fresh", &base]);
    repo.git(&[
        "worktree",
        "add",
        "-q",
        fresh.to_str().expect("utf8"),
        "agentos/second-fresh",
    ]);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(MANIFEST)
        .current_dir(&fresh)
        .output()
        .expect("manifest");
    let expected =
        String::from_utf8_lossy(&out.stdout).replace("agentos/second-fresh", "agentos/second");
    assert!(
        recycled.contains(&format!("head {base} refs/heads/agentos/second")),
        "{recycled}"
    );
    assert_eq!(
        recycled, expected,
        "the recycled worktree differs from a fresh one"
    );
    assert!(recycled.contains("tools/run.sh f 755"), "{recycled}");
    for leftover in [
        "notes.txt",
        "app.log",
        "build",
        "new",
        "link",
        "src/gone.rs",
    ] {
        assert!(
            !recycled.contains(&format!("\n{leftover} ")),
            "{leftover} left over: {recycled}"
        );
    }

    // git knows the pooled worktree where it now is.
    let listed = repo.git(&["worktree", "list", "--porcelain"]);
    assert!(
        listed.contains(".agentos/worktrees/.pool/slot-"),
        "{listed}"
    );
    repo.git(&["worktree", "prune"]);
    assert!(repo
        .git(&["worktree", "list", "--porcelain"])
        .contains(".pool/slot-"));

    // `clean` drops the pool and git's records of it.
    repo.agentos(&["clean"]).ok();
    assert!(!repo.exists(".agentos/worktrees/.pool"));
    let listed = repo.git(&["worktree", "list", "--porcelain"]);
    assert!(!listed.contains(".pool"), "{listed}");
}

/// Red team 15 (note): a pooled worktree whose index marks files skip-worktree
/// or assume-unchanged (set here with plain git) still comes back as the base
/// has them: the marks are cleared before the checkout.
#[test]
fn skip_worktree_and_assume_unchanged_marks_do_not_survive_recycling() {
    let repo = TestRepo::initialised();
    repo.write("docs/a.md", "base a\n");
    repo.write("docs/b.md", "base b\n");
    repo.git(&["add", "docs"]);
    repo.git(&["commit", "-q", "-m", "docs"]);
    let messy = FakeAgent::new(&repo)
        .runs("echo changed >> README.md && echo other > other.txt")
        .build();
    repo.agentos(&["add", "Mess", "-t", "README.md", "--id", "first"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &messy)]);
    let slots = repo.files_in(".agentos/worktrees/.pool");
    assert_eq!(slots.len(), 1, "retired to the pool");
    let slot = repo.path(".agentos/worktrees/.pool").join(&slots[0]);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&slot)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Files the first task never touched (its commit leaves them as the base).
    git(&["update-index", "--skip-worktree", "docs/a.md"]);
    git(&["update-index", "--assume-unchanged", "docs/b.md"]);
    std::fs::write(slot.join("docs/a.md"), "poisoned a\n").expect("write");
    std::fs::write(slot.join("docs/b.md"), "poisoned b\n").expect("write");

    let seen = repo.scratch().join("seen.txt");
    let look = FakeAgent::new(&repo)
        .runs_before_init(&format!(
            "cat docs/a.md docs/b.md > '{}'; git ls-files -v docs >> '{}'",
            seen.display(),
            seen.display()
        ))
        .runs("echo fixed >> README.md")
        .build();
    repo.agentos(&["add", "Look", "-t", "README.md", "--id", "second"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &look)])
        .ok();
    let seen = std::fs::read_to_string(seen).expect("the agent looked");
    assert_eq!(seen, "base a\nbase b\nH docs/a.md\nH docs/b.md\n");
}

/// The worktrees git lists for `repo` besides its main checkout: (record name, path).
fn listed_worktrees(repo: &TestRepo) -> Vec<(String, String)> {
    let list = repo.git(&["worktree", "list", "--porcelain"]);
    let common = repo.path(".git/worktrees");
    list.lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .skip(1)
        .map(|path| {
            let record = std::fs::read_dir(&common)
                .expect("records")
                .flatten()
                .find(|r| {
                    std::fs::read_to_string(r.path().join("gitdir"))
                        .is_ok_and(|g| g.trim() == format!("{path}/.git"))
                })
                .map(|r| r.file_name().to_string_lossy().into_owned())
                .unwrap_or_default();
            (record, path.to_string())
        })
        .collect()
}

#[test]
fn a_task_arriving_while_watch_prepares_a_worktree_waits_for_it_and_takes_it() {
    let repo = TestRepo::initialised();
    repo.write("src/lib.rs", "pub fn one() {}\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "base"]);
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let go = repo.scratch().join("go");
    let seen = repo.scratch().join("seen.txt");
    let agent = FakeAgent::new(&repo)
        .runs_before_init(&format!(
            "{{ git rev-parse HEAD; git status --porcelain --untracked-files=all; cat src/lib.rs; }} > '{}'",
            seen.display()
        ))
        .runs("echo fixed >> README.md")
        .build();
    // The preparation stops (the worktree lock held, its checkout made, not yet
    // in the pool) until `go` exists.
    let mut watch = repo
        .cmd(&["watch", "--no-pr"])
        .env("AGENTOS_AGENT_CMD", &agent)
        .env(
            "AGENTOS_HOLD",
            format!("pool-slot-checked-out:{}", go.display()),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let _stderr = crate::support::wait_until_watching(&mut watch);
    let held = repo.scratch().join("go.held");
    crate::support::wait_until(
        Duration::from_secs(30),
        "the preparation is under way",
        || held.exists(),
    );
    repo.agentos(&["add", "Arrives", "-t", "README.md", "--id", "arrives"])
        .ok();
    crate::support::wait_until(Duration::from_secs(30), "the task is claimed", || {
        repo.exists(".agentos/doing/arrives.md")
    });
    std::fs::write(&go, "").expect("go");
    crate::support::wait_until(Duration::from_secs(60), "the task is done", || {
        repo.exists(".agentos/done/arrives.md")
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(watch.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    assert!(watch.wait().expect("wait").success());
    // The agent found the base, clean, with its files.
    let seen = std::fs::read_to_string(seen).expect("the agent looked");
    assert_eq!(seen, format!("{base}\npub fn one() {{}}\n"));
    // One checkout in all: the prepared one (a worktree keeps the name of its
    // first record), back in the pool after the task.
    let listed = listed_worktrees(&repo);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].0.starts_with("making-"), "{listed:?}");
    assert!(listed[0].1.contains("/.pool/slot-"), "{listed:?}");
}

#[test]
fn a_watch_killed_while_preparing_a_worktree_leaves_nothing_the_next_run_trips_on() {
    let repo = TestRepo::initialised();
    let mut watch = repo
        .cmd(&["watch", "--no-pr"])
        .env("AGENTOS_FAULT", "pool-slot-checked-out")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("watch");
    let mut status = None;
    crate::support::wait_until(Duration::from_secs(60), "watch killed at the fault", || {
        status = watch.try_wait().expect("try_wait");
        status.is_some()
    });
    assert_eq!(status.and_then(|s| s.code()), None, "killed: {status:?}");
    let pool = repo.path(".agentos/worktrees/.pool");
    let left = repo.files_in(".agentos/worktrees/.pool");
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with("making-"), "{left:?}");
    // As a `git worktree add` killed midway leaves it: locked, files missing.
    let record = listed_worktrees(&repo)[0].0.clone();
    std::fs::write(
        repo.path(&format!(".git/worktrees/{record}/locked")),
        "initializing\n",
    )
    .expect("lock");
    std::fs::remove_file(pool.join(&left[0]).join("README.md")).expect("rm");

    let seen = repo.scratch().join("seen.txt");
    let agent = FakeAgent::new(&repo)
        .runs_before_init(&format!(
            "{{ git status --porcelain --untracked-files=all; cat README.md; }} > '{}'",
            seen.display()
        ))
        .runs("echo fixed >> README.md")
        .build();
    repo.agentos(&["add", "Next", "-t", "README.md", "--id", "next"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert!(repo.exists(".agentos/done/next.md"));
    let readme = repo.read("README.md");
    assert_eq!(std::fs::read_to_string(seen).expect("looked"), readme);
    // The unfinished one is gone, record and folder; only the task's, retired.
    let left = repo.files_in(".agentos/worktrees/.pool");
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with("slot-"), "{left:?}");
    let listed = listed_worktrees(&repo);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(!repo.path(&format!(".git/worktrees/{record}")).exists());
    repo.agentos(&["clean"]).ok();
}
