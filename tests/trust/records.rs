//! The worktree's git records (`.git/worktrees/<id>`: HEAD, commondir, gitdir,
//! the index) are the dispatcher's (red-team findings 01-06 against #14): the
//! sandbox keeps the agent and its verify commands out of them; an agent without
//! the sandbox that rewrites them fails its task, and nothing the dispatcher does
//! afterwards (commit, verify, recycle, remove, `clean`) follows them or runs
//! what they name.
use crate::support::{FakeAgent, TestRepo};

fn friction(repo: &TestRepo) -> String {
    std::fs::read_to_string(repo.path(".agentos/friction.jsonl")).unwrap_or_default()
}

/// A script that leaves a marker when anything runs it: (the script, the marker).
fn evil_script(repo: &TestRepo) -> (std::path::PathBuf, std::path::PathBuf) {
    let marker = repo.dir.path().join("pwned");
    let evil = repo.dir.path().join("evil.sh");
    std::fs::write(
        &evil,
        format!("#!/bin/sh\ntouch '{}'\ncat\n", marker.display()),
    )
    .expect("write");
    std::fs::set_permissions(&evil, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    (evil, marker)
}

/// 01, 02, 06: inside the sandbox neither the agent nor a verify command can
/// write the worktree's HEAD or commondir, while `git status`, `git diff` and
/// `git add` work (the index is a copy in the private folder).
#[test]
fn the_sandbox_keeps_agent_and_verify_out_of_the_worktree_records() {
    let repo = TestRepo::initialised();
    let main_before = repo.git(&["rev-parse", "main"]);
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .runs(
            r#"gd=$(git rev-parse --git-dir); { echo "ref: refs/heads/main" > "$gd/HEAD"; } 2>/dev/null; echo "head=$?" > probe.txt; { echo /tmp > "$gd/commondir"; } 2>/dev/null; echo "commondir=$?" >> probe.txt"#,
        )
        .runs(r#"git add README.md && git status --porcelain >> probe.txt && git diff --cached --name-only >> probe.txt"#)
        .build();
    // Passes only when the write is refused.
    let verify = r#"! ( echo x > "$(git rev-parse --git-dir)/commondir" ) 2>/dev/null"#;
    repo.agentos(&[
        "add",
        "Fix",
        "-t",
        "README.md",
        "-t",
        "probe.txt",
        "--id",
        "fix",
        "--verify",
        verify,
    ])
    .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    let probe = repo.git(&["show", "agentos/fix:probe.txt"]);
    let refused = |name: &str| {
        probe
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .is_some_and(|rc| rc != "0")
    };
    assert!(refused("head") && refused("commondir"), "{probe}");
    assert!(
        probe.contains("M  README.md") && probe.ends_with("README.md\n"),
        "{probe}"
    );
    assert_eq!(repo.git(&["rev-parse", "main"]), main_before, "main moved");
    assert_eq!(
        repo.git(&["show", "agentos/fix:README.md"]),
        "Install with `cargo install`.\n"
    );
    repo.git(&["fsck", "--no-progress"]);
}

/// 01 without the sandbox: the agent points its record's `commondir` at a git
/// folder of its making, whose configuration names hooks and an fsmonitor. The
/// task fails as an escape; nothing it named ran; its worktree and record go.
#[test]
fn a_rewritten_commondir_fails_the_task_and_runs_nothing() {
    let repo = TestRepo::initialised();
    super::unsandboxed(&repo);
    let (evil, marker) = evil_script(&repo);
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .runs(&format!(
            r#"gd=$(cd "$(git rev-parse --git-dir)" && pwd); real=$(cd "$(git rev-parse --git-common-dir)" && pwd); mkdir -p "$gd/c/hooks"; for x in objects refs info logs; do ln -s "$real/$x" "$gd/c/$x"; done; cp "$real/config" "$gd/c/config"; for h in post-checkout reference-transaction; do ln -s '{0}' "$gd/c/hooks/$h"; done; git config -f "$gd/c/config" core.fsmonitor '{0}'; git config -f "$gd/c/config" core.hooksPath "$gd/c/hooks"; echo "$gd/c" > "$gd/commondir""#,
            evil.display()
        ))
        .build();
    let reason = repo.failed_fix(&agent);
    assert!(
        reason.contains("rewrote its worktree's record") && reason.contains("commondir"),
        "{reason}"
    );
    assert!(friction(&repo).contains(r#""kind":"escape""#));
    repo.agentos(&["clean"]).ok();
    assert!(!marker.exists(), "a command the agent named ran");
    assert!(!repo.exists(".git/worktrees/fix"), "its record is gone");
}

/// 05: the record's `gitdir` names nothing and its `commondir` a folder whose
/// `worktrees` is a link to a folder of the person's. Removing the worktree,
/// and `clean` pruning the records, delete only `.git/worktrees/<name>`,
/// computed by the dispatcher, never through the link.
#[test]
fn pruning_a_rewritten_record_deletes_nothing_outside() {
    let repo = TestRepo::initialised();
    super::unsandboxed(&repo);
    let projects = repo.dir.path().join("projects");
    std::fs::create_dir_all(projects.join("precious/src")).expect("mkdir");
    std::fs::write(projects.join("precious/src/main.c"), "years of work\n").expect("write");
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .runs(&format!(
            r#"gd=$(cd "$(git rev-parse --git-dir)" && pwd); mkdir -p "$gd/evil" && ln -s '{}' "$gd/evil/worktrees"; echo /nonexistent/wt/.git > "$gd/gitdir"; echo "$gd/evil" > "$gd/commondir""#,
            projects.display()
        ))
        .build();
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "precious"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    repo.agentos(&["clean"]).ok();
    assert_eq!(
        std::fs::read_to_string(projects.join("precious/src/main.c")).expect("the victim"),
        "years of work\n"
    );
    assert!(
        !repo.exists(".git/worktrees/precious"),
        "the record was pruned"
    );
}

/// An agent that names filter `x` for every file (`.gitattributes`) and writes
/// its task's file.
fn filtering_agent(repo: &TestRepo) -> String {
    FakeAgent::new(repo)
        .writes(".gitattributes", "* filter=x\n")
        .runs(r#"printf 'Install with `cargo install`.\n' > "$AGENTOS_TASK_ID.md""#)
        .build()
}

/// Queue task `id`, which may change `<id>.md` and `.gitattributes`.
fn add_with_attributes(repo: &TestRepo, id: &str) {
    repo.agentos(&[
        "add",
        id,
        "-t",
        &format!("{id}.md"),
        "-t",
        ".gitattributes",
        "--id",
        id,
    ])
    .ok();
}

/// A filter driver the person configured runs on none of the agent's files
/// when the dispatcher reads the worktree, whatever `.gitattributes` the agent
/// wrote; and such a repository's worktrees are never recycled (a checkout
/// without its filters would differ from a fresh one).
#[test]
fn no_filter_runs_on_the_agents_files() {
    let repo = TestRepo::initialised();
    let (evil, marker) = evil_script(&repo);
    repo.git(&["config", "filter.x.clean", &evil.display().to_string()]);
    repo.git(&["config", "filter.x.smudge", &evil.display().to_string()]);
    let agent = filtering_agent(&repo);
    for id in ["one", "two"] {
        add_with_attributes(&repo, id);
    }
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    repo.agentos(&["verify", "two"]).ok();
    assert!(!marker.exists(), "a filter ran on the agent's files");
    assert!(
        !repo.exists(".agentos/worktrees/.pool"),
        "nothing was recycled"
    );
}

/// A worktree pooled before the person configured a filter driver is not
/// recycled after it: the next task gets a fresh checkout, the slot is
/// removed, and the filter runs on none of the agent's files.
#[test]
fn a_worktree_pooled_before_a_filter_driver_is_not_recycled() {
    let repo = TestRepo::initialised();
    let agent = filtering_agent(&repo);
    add_with_attributes(&repo, "one");
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert_eq!(repo.files_in(".agentos/worktrees/.pool").len(), 1, "pooled");
    let (evil, marker) = evil_script(&repo);
    repo.git(&["config", "filter.x.clean", &evil.display().to_string()]);
    repo.git(&["config", "filter.x.smudge", &evil.display().to_string()]);
    add_with_attributes(&repo, "two");
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert!(!marker.exists(), "a filter ran on the agent's files");
    assert!(
        repo.files_in(".agentos/worktrees/.pool").is_empty(),
        "the slot was taken away, not recycled"
    );
    assert!(repo.exists(".agentos/done/two.md"));
}

/// The refs guard brackets the verify step too: a verify command of an agent
/// without the sandbox that makes a branch fails the task.
#[test]
fn a_ref_a_verify_command_made_fails_the_task() {
    let repo = TestRepo::initialised();
    super::unsandboxed(&repo);
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    repo.agentos(&[
        "add",
        "Fix",
        "-t",
        "README.md",
        "--id",
        "fix",
        "--verify",
        "git branch planted",
    ])
    .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    let reason = repo.read(".agentos/failed/fix.reason");
    assert!(
        reason.contains("a verify command created `refs/heads/planted`"),
        "{reason}"
    );
    assert!(friction(&repo).contains(r#""kind":"escape""#));
}
