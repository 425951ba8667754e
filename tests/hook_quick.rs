//! The hook's background job decides before any heavy work whether a commit
//! has anything for it: without a trigger and without an `Agentos-` line in the
//! message it returns at once and logs nothing. Run here as the shim runs it
//! (`git-agentos hook post-commit --commit SHA`), from a linked worktree, where
//! the shim hands every commit over (its `.git` is a file).
use crate::support::{seal, TestRepo, BIN};
use std::path::Path;
use std::process::Command;

/// Commit a new file in `dir` with `message`; the commit's id.
fn commit_in(repo: &TestRepo, dir: &Path, file: &str, message: &str) -> String {
    std::fs::write(dir.join(file), "x\n").expect("write");
    for args in [&["add", file][..], &["commit", "-q", "-m", message]] {
        let mut cmd = Command::new("git");
        seal(&mut cmd, &repo.home);
        let out = cmd.args(args).current_dir(dir).output().expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut cmd = Command::new("git");
    seal(&mut cmd, &repo.home);
    let out = cmd
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The background job, in the foreground: what the shim starts for `sha`.
fn job(repo: &TestRepo, dir: &Path, sha: &str) {
    let mut cmd = Command::new(BIN);
    seal(&mut cmd, &repo.home);
    let out = cmd
        .args(["hook", "post-commit", "--commit", sha])
        .current_dir(dir)
        .output()
        .expect("git-agentos");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn logged(repo: &TestRepo, sha: &str) -> bool {
    std::fs::read_to_string(repo.path(".agentos/runs/hooks.log"))
        .unwrap_or_default()
        .contains(sha)
}

#[test]
fn with_nothing_to_do_the_job_returns_at_once_and_with_a_trailer_or_trigger_it_works() {
    let repo = TestRepo::initialised();
    let linked = repo.dir.path().join("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        linked.to_str().expect("utf8"),
    ]);
    let plain = commit_in(
        &repo,
        &linked,
        "a.txt",
        "Just a change\n\nSigned-off-by: A <a@b>",
    );
    job(&repo, &linked, &plain);
    assert!(!logged(&repo, &plain), "nothing to do, nothing logged");
    assert!(repo.files_in(".agentos/todo").is_empty());

    let asks = commit_in(
        &repo,
        &linked,
        "b.txt",
        "Add b\n\nAgentos-Task: Document b\nAgentos-Targets: docs/b.md",
    );
    job(&repo, &linked, &asks);
    assert!(logged(&repo, &asks), "a trailer is work");
    assert!(repo.exists(".agentos/todo/document-b.md"));

    repo.write(
        ".agentos/triggers/docs.toml",
        "paths = [\"src/**\"]\ntemplate = \"tests\"\ntargets = [\"tests/**\"]\n",
    );
    let unmatched = commit_in(&repo, &linked, "c.txt", "Add c");
    job(&repo, &linked, &unmatched);
    assert!(
        logged(&repo, &unmatched),
        "with a trigger the intake reads the change"
    );
}
