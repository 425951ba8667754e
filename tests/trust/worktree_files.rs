//! Red team 15-03 and 15-08: what the agent leaves in its worktree is walked
//! with lstat before git opens anything. A FIFO (even as `.gitignore`, which
//! git itself opens) fails the task naming it instead of blocking the
//! dispatcher for ever (`verify ID` walks the same way first: scan.rs); a file over 100 MiB fails it
//! without being read, unless git ignores it.
use super::unsandboxed;
use crate::support::{wait_until, FakeAgent, Run, TestRepo};
use std::process::Stdio;
use std::time::Duration;

/// Run the command to its end, failing clearly (and ending it) if it hangs.
fn bounded(repo: &TestRepo, args: &[&str], agent: &str) -> Run {
    let mut child = repo
        .cmd(args)
        .env("AGENTOS_AGENT_CMD", agent)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id() as i32;
    let mut ended = false;
    let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until(Duration::from_secs(90), "the command ended", || {
            ended = child.try_wait().expect("wait").is_some();
            ended
        })
    }));
    if waited.is_err() {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
        panic!("`git agentos {}` hung", args.join(" "));
    }
    Run::from(child.wait_with_output().expect("output"))
}

#[test]
fn a_fifo_as_gitignore_fails_the_task_by_name_and_does_not_hang_the_run() {
    let repo = TestRepo::initialised();
    repo.write("docs/a.md", "doc\n");
    repo.git(&["add", "docs"]);
    repo.git(&["commit", "-qm", "docs"]);
    unsandboxed(&repo);
    let agent = FakeAgent::new(&repo)
        .writes("docs/a.md", "changed\n")
        .runs("mkfifo docs/.gitignore")
        .build();
    repo.agentos(&["add", "Docs", "-t", "docs/**", "--id", "fifo"])
        .ok();
    let run = bounded(&repo, &["run", "--no-pr"], &agent);
    assert_eq!(run.code, 1, "{run:?}");
    let reason = repo.read(".agentos/failed/fifo.reason");
    assert!(reason.contains("FIFO"), "{reason}");
    assert!(reason.contains("`docs/.gitignore`"), "{reason}");
}

/// Red team of 2026-11-26: the failed task's worktree went back to the pool
/// with its FIFOs, and the next task's `checkout`/`clean` there blocked for
/// ever. A nested repository's `.git` holding one blocked the commit step.
#[test]
fn a_worktree_left_with_a_fifo_is_never_reused_and_nested_and_admin_git_folders_are_walked() {
    let repo = TestRepo::initialised();
    unsandboxed(&repo);
    let poison = FakeAgent::new(&repo)
        .writes("README.md", "changed\n")
        .runs("mkfifo .gitattributes .gitignore")
        .build();
    repo.agentos(&["add", "Poison", "-t", "README.md", "--id", "poison"])
        .ok();
    let run = bounded(&repo, &["run", "--no-pr"], &poison);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(repo.read(".agentos/failed/poison.reason").contains("FIFO"));

    let nested = FakeAgent::new(&repo)
        .writes("README.md", "nested\n")
        .runs("mkdir -p sub/.git/objects sub/.git/refs/heads && echo 'ref: refs/heads/main' > sub/.git/HEAD && mkfifo sub/.git/config")
        .build();
    repo.agentos(&["add", "Nested", "-t", "README.md", "--id", "nested"])
        .ok();
    let run = bounded(&repo, &["run", "--no-pr"], &nested);
    assert_eq!(run.code, 1, "{run:?}");
    let reason = repo.read(".agentos/failed/nested.reason");
    assert!(reason.contains("`sub/.git/config`"), "{reason}");

    // Unsandboxed, an agent can reach its worktree's git folder too: a FIFO
    // left as the index git reads next is named, never opened.
    let admin = FakeAgent::new(&repo)
        .writes("README.md", "admin\n")
        .runs(
            "adm=$(sed -n 's/^gitdir: //p' .git) && rm -f \"$adm/index\" && mkfifo \"$adm/index\"",
        )
        .build();
    repo.agentos(&["add", "Admin", "-t", "README.md", "--id", "admin"])
        .ok();
    let run = bounded(&repo, &["run", "--no-pr"], &admin);
    assert_eq!(run.code, 1, "{run:?}");
    let reason = repo.read(".agentos/failed/admin.reason");
    assert!(reason.contains("FIFO"), "{reason}");
    assert!(reason.contains(".git/worktrees/"), "{reason}");
    assert!(reason.contains("/index`"), "{reason}");

    let fine = FakeAgent::new(&repo).writes("README.md", "fine\n").build();
    repo.agentos(&["add", "Fine", "-t", "README.md", "--id", "fine"])
        .ok();
    let run = bounded(&repo, &["run", "--no-pr"], &fine);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(repo.exists(".agentos/done/fine.md"));
}

#[test]
fn a_file_over_the_limit_fails_the_task_unread_and_an_ignored_one_is_left_alone() {
    let repo = TestRepo::initialised();
    repo.write(".gitignore", "build/\n");
    repo.git(&["add", ".gitignore"]);
    repo.git(&["commit", "-qm", "ignore build"]);
    // Sparse: 3 GiB that take no disk; read whole, they would take the memory.
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "fixed\n")
        .runs("mkdir -p build && truncate -s 3G build/huge.bin")
        .build();
    repo.agentos(&["add", "Ignored", "-t", "README.md", "--id", "ignored"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert!(repo.exists(".agentos/done/ignored.md"));

    let agent = FakeAgent::new(&repo)
        .runs("truncate -s 3G huge.bin")
        .build();
    repo.agentos(&["add", "Huge", "-t", "huge.bin", "--id", "huge"])
        .ok();
    let run = repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)]);
    assert_eq!(run.code, 1, "{run:?}");
    let reason = repo.read(".agentos/failed/huge.reason");
    assert!(
        reason.contains("`huge.bin` in the worktree is 3221225472 bytes, over the limit"),
        "{reason}"
    );
}

/// Red team 15-04: an agent that writes one endless line (here 64 MiB without
/// a newline) fails its task saying so; the dispatcher keeps at most 4 MiB of it.
#[test]
fn an_endless_output_line_fails_the_task_and_is_not_held_whole() {
    let repo = TestRepo::initialised();
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "fixed\n")
        .runs("head -c 67108864 /dev/zero | tr '\\0' x; echo")
        .build();
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "endless"])
        .ok();
    let run = repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)]);
    assert_eq!(run.code, 1, "{run:?}");
    let reason = repo.read(".agentos/failed/endless.reason");
    assert!(
        reason.contains("the agent wrote an output line over 4194304 bytes"),
        "{reason}"
    );
}
