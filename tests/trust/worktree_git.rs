//! Cases 2, 7, 8 and 13 (c): the dispatcher never takes a worktree's git
//! metadata on faith. An agent that points its `.git` file at the main
//! repository, or at a git folder it crafted, moves nothing outside its task
//! branch and runs nothing; a branch reset below its base, a sparse checkout and
//! a switched branch each get the true verdict.
use crate::support::{FakeAgent, TestRepo};

/// Queue `fix` (README.md), run it with `agent`: it fails; its reason.
fn fix_fails(repo: &TestRepo, agent: &str) -> String {
    repo.agentos(&["add", "Fix the README", "-t", "README.md", "--id", "fix"])
        .ok();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", agent)])
        .code(1);
    repo.read(".agentos/failed/fix.reason")
}

/// A script that leaves a marker when anything runs it: (the script, the marker).
fn evil_script(repo: &TestRepo) -> (std::path::PathBuf, std::path::PathBuf) {
    let marker = repo.dir.path().join("pwned");
    let evil = repo.dir.path().join("evil.sh");
    std::fs::write(&evil, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).expect("write");
    std::fs::set_permissions(&evil, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    (evil, marker)
}

fn friction(repo: &TestRepo) -> String {
    std::fs::read_to_string(repo.path(".agentos/friction.jsonl")).unwrap_or_default()
}

/// The issue's scenario: the person has a file staged; the agent, writing only
/// inside its worktree, makes the worktree's `.git` name the main repository.
#[test]
fn an_agent_that_points_its_worktree_at_the_main_repository_moves_nothing() {
    let repo = TestRepo::initialised();
    repo.write("staged.txt", "the person's own work\n");
    repo.git(&["add", "staged.txt"]);
    repo.agentos(&["add", "Fix the README", "-t", "README.md", "--id", "fix"])
        .ok();
    let main_before = repo.git(&["rev-parse", "main"]);
    let index_before = std::fs::read(repo.path(".git/index")).expect("index");
    let readme_before = repo.read("README.md");
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .runs(r#"printf 'gitdir: %s/.git\n' "$(cd ../../.. && pwd)" > .git"#)
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    let reason = repo.read(".agentos/failed/fix.reason");
    assert!(
        reason.contains("the agent replaced the worktree's `.git` file"),
        "{reason}"
    );
    assert!(
        friction(&repo).contains(r#""kind":"escape""#),
        "{}",
        friction(&repo)
    );
    assert_eq!(repo.git(&["rev-parse", "main"]), main_before, "main moved");
    assert_eq!(
        std::fs::read(repo.path(".git/index")).expect("index"),
        index_before,
        "the person's index changed"
    );
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]),
        "staged.txt\n",
        "the staged file is still staged"
    );
    assert_eq!(repo.git(&["symbolic-ref", "HEAD"]), "refs/heads/main\n");
    assert_eq!(repo.read("README.md"), readme_before);
}

/// A `.git` file pointing at a git folder the agent made, whose settings would
/// run a command (an fsmonitor, hooks) the moment any git command read them.
#[test]
fn a_crafted_git_folder_in_the_worktree_runs_nothing() {
    let repo = TestRepo::initialised();
    let (evil, marker) = evil_script(&repo);
    let hooks = repo.dir.path().join("evil-hooks");
    std::fs::create_dir_all(&hooks).expect("mkdir");
    for hook in [
        "post-checkout",
        "pre-commit",
        "post-commit",
        "reference-transaction",
    ] {
        std::os::unix::fs::symlink(&evil, hooks.join(hook)).expect("hook");
    }
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .runs("git init -q fake && git -C fake commit -q --allow-empty -m fake")
        .runs(&format!(
            "git -C fake config core.fsmonitor '{}' && git -C fake config core.hooksPath '{}'",
            evil.display(),
            hooks.display()
        ))
        .runs("printf 'gitdir: fake/.git\\n' > .git")
        .build();
    let reason = fix_fails(&repo, &agent);
    assert!(
        !marker.exists(),
        "a command from the agent's git folder ran"
    );
    assert!(
        reason.contains("the agent replaced the worktree's `.git` file"),
        "{reason}"
    );
    assert!(friction(&repo).contains(r#""kind":"escape""#));
}

/// A repository the agent made inside its worktree (committed as a submodule)
/// whose settings would run a command (a clean filter on a file it changed, the
/// moment `git status` looked into it): neither verifying the task nor
/// recycling its worktree for the next one looks into it.
#[test]
fn a_nested_repository_the_agent_made_runs_nothing() {
    let repo = TestRepo::initialised();
    let (evil, marker) = evil_script(&repo);
    repo.agentos(&[
        "add",
        "Nest",
        "-t",
        "README.md",
        "-t",
        "sub",
        "--id",
        "nest",
    ])
    .ok();
    repo.agentos(&["add", "Next", "-t", "next.txt", "--id", "next"])
        .ok();
    let agent = FakeAgent::new(&repo)
        .runs(&format!(
            r#"if [ "$AGENTOS_TASK_ID" = nest ]; then unset GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_INDEX_FILE; printf 'new\n' > README.md; git init -q sub && echo s > sub/s.txt && git -C sub add s.txt && git -C sub commit -q -m sub && git -C sub config filter.x.clean '{0}' && echo 's.txt filter=x' > sub/.gitattributes && echo t > sub/s.txt && git -C sub config core.fsmonitor '{0}'; else echo next > next.txt; fi"#,
            evil.display()
        ))
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert!(
        !marker.exists(),
        "a command from the agent's repository ran"
    );
    assert_eq!(
        repo.git(&["ls-tree", "agentos/nest", "sub"])
            .split_whitespace()
            .next(),
        Some("160000"),
        "the nested repository is committed as what it is"
    );
}

/// Case 7: `git reset --hard HEAD~1` leaves a branch that no longer descends
/// from its base; its pull request would revert work. (Inside the sandbox the
/// agent cannot move its branch at all: this is the unsandboxed case.)
#[test]
fn a_branch_reset_below_its_base_fails_verification() {
    let repo = TestRepo::initialised();
    super::unsandboxed(&repo);
    repo.write("README.md", "# Example\n\nSecond version.\n");
    repo.git(&["commit", "-q", "-am", "second"]);
    let agent = FakeAgent::new(&repo)
        .runs("git reset -q --hard HEAD~1")
        .writes("README.md", "# Example\n\nThird version.\n")
        .build();
    let reason = fix_fails(&repo, &agent);
    assert!(
        reason.contains("does not descend from its base"),
        "{reason}"
    );
}

/// Case 8: in a sparse checkout, only what the agent changed is committed; the
/// files outside the cone are never recorded as deleted.
#[test]
fn a_sparse_checkout_commits_only_what_the_agent_changed() {
    let repo = TestRepo::new();
    repo.write("a/x.txt", "x\n");
    repo.write("b/y.txt", "y\n");
    repo.git(&["add", "a", "b"]);
    repo.git(&["commit", "-q", "-m", "two folders"]);
    repo.git(&["sparse-checkout", "set", "a"]);
    assert!(!repo.exists("b/y.txt"), "b/ is outside the cone");
    repo.agentos(&["init"]).ok();
    let agent = FakeAgent::new(&repo)
        .runs(r#"[ "$AGENTOS_TASK_ID" = inside ] && printf 'x2\n' > a/x.txt; true"#)
        .build();
    repo.agentos(&["add", "Change x", "-t", "a/x.txt", "--id", "inside"])
        .ok();
    repo.agentos(&["add", "Change y", "-t", "b/y.txt", "--id", "outside"])
        .ok();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    assert!(repo.exists(".agentos/done/inside.md"));
    assert_eq!(
        repo.git(&["diff", "--name-status", "main", "agentos/inside"]),
        "M\ta/x.txt\n",
        "only the agent's change"
    );
    let reason = repo.read(".agentos/failed/outside.reason");
    assert!(reason.contains("made no change"), "{reason}");
    assert_eq!(
        repo.git(&["ls-tree", "--name-only", "agentos/outside", "b/"]),
        "b/y.txt\n",
        "a file outside the cone is never recorded as deleted"
    );
}

/// Case 13 (c): an agent that switches its worktree to another branch is told
/// so (unsandboxed: inside the sandbox its HEAD is not writable).
#[test]
fn an_agent_that_switches_branch_gets_a_true_reason() {
    let repo = TestRepo::initialised();
    super::unsandboxed(&repo);
    let agent = FakeAgent::new(&repo)
        // (A new branch would be caught first, by the refs guard.)
        .runs("git symbolic-ref HEAD refs/heads/elsewhere")
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    let reason = fix_fails(&repo, &agent);
    assert!(
        reason.contains("switched its worktree to `elsewhere`") && !reason.contains("no change"),
        "{reason}"
    );
}
