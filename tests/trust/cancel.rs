//! Case 9: cancel tells the truth. A cancel during verification or publishing
//! stops it and the task ends in failed/; one that comes too late says so and
//! exits 1.
use crate::publish::{agent, TOKEN};
use crate::support::git_remotes::{bare, GitHttpServer};
use crate::support::github::GitHubApi;
use crate::support::{wait_until, TestRepo};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// `run` in the background with an agent that fixes the README.
fn spawn_run(repo: &TestRepo, env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = repo.cmd(&["run"]);
    cmd.env("AGENTOS_AGENT_CMD", agent(repo))
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().expect("spawn run")
}

#[test]
fn a_cancel_during_verification_stops_it_and_the_task_fails() {
    let repo = TestRepo::initialised();
    let verifying = repo.scratch().join("verifying");
    let verify = format!("touch '{}'; sleep 10", verifying.display());
    repo.agentos(&[
        "add",
        "Fix",
        "-t",
        "README.md",
        "--id",
        "fix",
        "--verify",
        &verify,
    ])
    .ok();
    let run = spawn_run(&repo, &[]);
    wait_until(
        Duration::from_secs(20),
        "the verify command started",
        || verifying.exists(),
    );
    let asked = Instant::now();
    repo.agentos(&["cancel", "fix"])
        .ok()
        .stdout_has("cancelled: fix");
    let out = run.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        asked.elapsed() < Duration::from_secs(8),
        "the verify command was stopped, not waited for"
    );
    assert!(repo
        .read(".agentos/failed/fix.reason")
        .contains("cancelled"));
    assert!(!repo.exists(".agentos/done/fix.md"));
}

/// The push is held by the remote (its pre-receive hook waits for the test's
/// word); a cancel arrives meanwhile: no pull request is opened.
#[test]
fn a_cancel_during_publishing_stops_it_and_the_task_fails() {
    let repo = TestRepo::initialised();
    let top = repo.dir.path();
    let root = top.join("remotes");
    let widgets = bare(&root, "widgets");
    let (pushing, go) = (top.join("pushing"), top.join("go"));
    let hook = widgets.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\ncat >/dev/null\ntouch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.02; done\n",
            pushing.display(),
            go.display()
        ),
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let server = GitHttpServer::start(&root, TOKEN);
    repo.git(&["remote", "add", "origin", &server.repo_url("widgets")]);
    let api = GitHubApi::start("octo", "widgets");
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    let run = spawn_run(
        &repo,
        &[
            ("AGENTOS_GITHUB_API", &api.url),
            ("AGENTOS_GITHUB_REPO", "octo/widgets"),
            ("GITHUB_TOKEN", TOKEN),
        ],
    );
    wait_until(
        Duration::from_secs(20),
        "the push reached the remote",
        || pushing.exists(),
    );
    let cancel = repo
        .cmd(&["cancel", "fix"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cancel");
    wait_until(Duration::from_secs(10), "the cancel was asked for", || {
        repo.exists(".agentos/doing/fix.cancel")
    });
    std::fs::write(&go, "").expect("go");
    let cancelled = cancel.wait_with_output().expect("cancel");
    let stdout = String::from_utf8_lossy(&cancelled.stdout);
    assert_eq!(cancelled.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("cancelled: fix"), "{stdout}");
    let out = run.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    assert!(repo
        .read(".agentos/failed/fix.reason")
        .contains("cancelled"));
    assert!(api.pulls().is_empty(), "no pull request was opened");
}

#[test]
fn a_cancel_that_comes_too_late_says_so_and_exits_1() {
    let repo = TestRepo::initialised();
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent(&repo))])
        .ok();
    repo.agentos(&["cancel", "fix"])
        .code(1)
        .stderr_has("too late");
    assert!(repo.exists(".agentos/done/fix.md"));
}
