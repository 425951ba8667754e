//! A submodule (or a nested repository) under `.agentos/` is someone else's
//! files, though the superproject lists none of them: what widens the sandbox
//! or runs a program is refused from it, as from a committed file (red team
//! against #19/#20: a clone with `--recurse-submodules` ran its own notifier
//! and its agent's command outside the sandbox).
use crate::support::{FakeAgent, TestRepo};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A repository beside `repo` holding `files`, committed.
fn other_repo(repo: &TestRepo, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = repo.scratch().join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("git");
        assert!(out.status.success(), "{args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write");
        if !file.ends_with(".toml") && !file.ends_with(".md") {
            std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
    }
    git(&["add", "-A"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "-m",
        "shared",
    ]);
    dir
}

fn add_submodule(repo: &TestRepo, from: &Path, at: &str) {
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        "-f",
        &from.display().to_string(),
        at,
    ]);
    repo.git(&["commit", "-q", "-m", "a shared part"]);
}

#[test]
fn an_agent_folder_that_is_a_submodule_cannot_set_its_own_command() {
    let repo = TestRepo::initialised();
    let ran = repo.scratch().join("submodule-command-ran");
    let agent = other_repo(
        &repo,
        "shared-agent",
        &[
            ("AGENT.md", "You are an agent.\n"),
            (
                "agent.toml",
                &format!(
                    "command = \"sh -c 'touch {}'\"\noutput = \"plain\"\n",
                    ran.display()
                ),
            ),
        ],
    );
    repo.git(&[
        "rm",
        "-rq",
        "--cached",
        "--ignore-unmatch",
        ".agentos/agents/default",
    ]);
    std::fs::remove_dir_all(repo.path(".agentos/agents/default")).ok();
    add_submodule(&repo, &agent, ".agentos/agents/default");
    repo.agentos(&["add", "Touch a", "--id", "touch-a", "--target", "a.txt"])
        .ok();
    repo.agentos(&["run", "--once", "--no-pr"]);
    assert!(!ran.exists(), "the submodule's command ran");
    let why = repo.read(".agentos/failed/touch-a.reason");
    assert!(
        why.contains("`command` is not taken from a file git tracks"),
        "{why}"
    );
}

#[test]
fn a_notifier_folder_that_is_a_submodule_runs_nothing() {
    let repo = TestRepo::initialised();
    let ran = repo.scratch().join("submodule-notifier-ran");
    let hooks = other_repo(
        &repo,
        "shared-hooks",
        &[(
            "task-done",
            &format!("#!/bin/sh\ntouch {}\n", ran.display()),
        )],
    );
    add_submodule(&repo, &hooks, ".agentos/hooks");
    // A nested repository (no gitlink at all) is refused the same way.
    let nested = other_repo(
        &repo,
        "nested",
        &[(
            "task-done",
            &format!("#!/bin/sh\ntouch {}-nested\n", ran.display()),
        )],
    );
    let agents_hooks = repo.path(".agentos/agents/default/hooks");
    std::fs::rename(&nested, &agents_hooks).expect("move the nested repository in");
    assert!(git_agentos::git::is_tracked(
        &repo.root(),
        Path::new(".agentos/agents/default/hooks/task-done")
    ));
    assert!(git_agentos::git::is_tracked(
        &repo.root(),
        Path::new(".agentos/hooks/task-done")
    ));
    assert!(!git_agentos::git::is_tracked(
        &repo.root(),
        Path::new(".agentos/config.local.toml")
    ));
    repo.agentos(&["add", "Write a", "--id", "write-a", "--target", "a.txt"])
        .ok();
    let agent = FakeAgent::new(&repo).writes("a.txt", "a\n").build();
    repo.agentos_env(
        &["run", "--once", "--no-pr"],
        &[("AGENTOS_AGENT_CMD", &agent)],
    )
    .ok();
    assert!(repo.exists(".agentos/done/write-a.md"));
    crate::support::wait_until(
        std::time::Duration::from_secs(30),
        "the refusal is friction",
        || {
            std::fs::read_to_string(repo.path(".agentos/friction.jsonl"))
                .is_ok_and(|f| f.contains("notifier-refused"))
        },
    );
    assert!(!ran.exists(), "the submodule's notifier ran");
}
