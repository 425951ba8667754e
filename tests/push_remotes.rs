//! Pushes go through the git command line, so the person's own git setup
//! applies: an ssh-style remote through their `GIT_SSH_COMMAND`, an `insteadOf`
//! rewrite, a credential helper of their own. The token reaches git through
//! git agentos's own helper, only for a host it may go to, once: a smart-HTTP
//! remote on loopback (`git http-backend`) that demands it, and one that refuses
//! a wrong token, which fails the task with git's reason after one try.
use crate::publish::{agent, TOKEN};
use crate::support::git_remotes::{bare, GitHttpServer, SshRemote};
use crate::support::{search_files, TestRepo};
use std::path::{Path, PathBuf};

/// The commit `branch` is at in the bare repository `bare`, if it has one.
fn head_of(bare: &Path, branch: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .args([
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ])
        .current_dir(bare)
        .output()
        .expect("git");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The task's branch is in the bare repository, at the local commit.
fn landed(repo: &TestRepo, bare: &Path, id: &str) {
    let branch = format!("agentos/{id}");
    let local = repo.git(&["rev-parse", &branch]).trim().to_string();
    assert_eq!(
        head_of(bare, &branch),
        Some(local),
        "{branch} on the remote"
    );
}

/// A folder with a `git` that appends its arguments and environment to a log,
/// then runs the real git: the PATH to give git agentos, and the log.
fn git_that_logs(repo: &TestRepo) -> (String, PathBuf) {
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .expect("sh");
    let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
    let dir = repo.dir.path().join("logging-git");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let log = dir.join("calls.log");
    let script = dir.join("git");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{ printf '%s\\n' \"$*\"; env; }} >> '{}'\nexec '{real}' \"$@\"\n",
            log.display()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (path, log)
}

/// A bare `widgets` served over smart HTTP on loopback to whoever offers
/// `token`; `origin` of the repository when `as_origin`.
fn served(repo: &TestRepo, token: &str, as_origin: bool) -> (PathBuf, GitHttpServer) {
    let root = repo.dir.path().join("served");
    std::fs::create_dir_all(&root).expect("root");
    let widgets = bare(&root, "widgets");
    let server = GitHttpServer::start(&root, token);
    if as_origin {
        repo.git(&["remote", "add", "origin", &server.repo_url("widgets")]);
    }
    (widgets, server)
}

/// A task that fixes the README, added; the variables its run needs.
fn task(repo: &TestRepo, id: &str) -> Vec<(String, String)> {
    repo.agentos(&["add", "Fix the README", "-t", "README.md", "--id", id])
        .ok();
    vec![("AGENTOS_AGENT_CMD".into(), agent(repo))]
}

/// Append `text` to the person's own ~/.gitconfig.
fn person_config(repo: &TestRepo, text: &str) {
    let path = repo.home.join(".gitconfig");
    let before = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, before + text).expect("write .gitconfig");
}

/// The token is in no file under the test's folder: not the repository, its
/// state, the person's home (no credential store took it) nor the remote.
fn token_in_no_file(repo: &TestRepo) {
    let (files, found) = search_files(repo.dir.path(), TOKEN);
    assert!(found.is_empty(), "the token is in {found:?}");
    assert!(files > 20, "searched {files} files");
}

#[test]
fn an_ssh_remote_is_pushed_through_the_persons_git_ssh_command() {
    let repo = TestRepo::initialised();
    let root = repo.dir.path().join("ssh-root");
    std::fs::create_dir_all(&root).expect("root");
    let widgets = bare(&root, "widgets");
    let ssh = SshRemote::new(repo.dir.path(), &root);
    repo.git(&["remote", "add", "origin", &ssh.repo_url("widgets")]);
    let mut env = task(&repo, "viassh");
    env.push(("GIT_SSH_COMMAND".into(), ssh.command()));
    env.push(("GITHUB_TOKEN".into(), TOKEN.into()));
    let run = repo.agentos_with(&["run"], &env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    landed(&repo, &widgets, "viassh");
    let connections = ssh.connections();
    assert_eq!(
        connections,
        [
            "host=example.test program=git-receive-pack path=widgets.git",
            "host=example.test program=git-upload-pack path=widgets.git",
        ],
        "one push, then the read-back"
    );
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    token_in_no_file(&repo);
}

#[test]
fn an_http_remote_gets_the_token_through_git_agentoss_own_helper_and_nowhere_else() {
    let repo = TestRepo::initialised();
    let (widgets, server) = served(&repo, TOKEN, true);
    // The person's own helpers: one that would answer with other credentials,
    // one that would store what git got. Neither is asked while the token is
    // offered, so neither answers for it nor writes it down.
    let store = repo.home.join("stored-credentials");
    person_config(
        &repo,
        &format!(
            "[credential]\n\thelper = \"!f() {{ echo username=someone; echo password=theirs; }}; f\"\n\thelper = store --file={}\n",
            store.display()
        ),
    );
    // Every git git agentos starts logs its command line and environment
    // (under the test's folder, which token_in_no_file searches).
    let (path, calls) = git_that_logs(&repo);
    let mut env = task(&repo, "viahttp");
    env.push(("AGENTOS_GITHUB_API".into(), server.url.clone()));
    env.push(("GITHUB_TOKEN".into(), TOKEN.into()));
    env.push(("PATH".into(), path));
    let run = repo.agentos_with(&["run"], &env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    landed(&repo, &widgets, "viahttp");
    let calls = std::fs::read_to_string(calls).expect("the git calls were logged");
    assert!(
        calls.contains("push --porcelain") && calls.contains("AGENTOS_CREDENTIAL_FD="),
        "the push went through git with git agentos's helper: {calls}"
    );
    let good = Some(format!("x-access-token:{TOKEN}"));
    let offered = server.offered();
    assert!(offered.contains(&good), "{offered:?}");
    assert!(
        offered.iter().flatten().all(|c| !c.contains("theirs")),
        "the person's helper was not asked: {offered:?}"
    );
    let services = server.services();
    assert!(
        services.contains(&"git-receive-pack".to_string()),
        "{services:?}"
    );
    assert!(
        services.contains(&"git-upload-pack".to_string()),
        "the read-back"
    );
    assert!(!store.exists(), "nothing was stored");
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    token_in_no_file(&repo);
}

#[test]
fn a_wrong_token_fails_the_push_once_with_gits_reason() {
    let repo = TestRepo::initialised();
    let (widgets, server) = served(&repo, "ghp_theRightOne", true);
    let mut env = task(&repo, "refused");
    env.push(("AGENTOS_GITHUB_API".into(), server.url.clone()));
    env.push(("GITHUB_TOKEN".into(), TOKEN.into()));
    let run = repo.agentos_with(&["run"], &env);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let reason = repo.read(".agentos/failed/refused.reason");
    assert!(reason.contains("push"), "{reason}");
    assert!(
        reason.contains("Authentication failed"),
        "git's reason: {reason}"
    );
    let wrong = Some(format!("x-access-token:{TOKEN}"));
    let tries = server.offered().iter().filter(|o| **o == wrong).count();
    assert_eq!(
        tries,
        1,
        "offered once, never again: {:?}",
        server.offered()
    );
    assert_eq!(head_of(&widgets, "agentos/refused"), None);
    assert!(!reason.contains(TOKEN));
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    token_in_no_file(&repo);
}

/// `gh:NAME` is the person's shorthand (`url.<base>.insteadOf`): git agentos
/// pushes where git would, and decides about the token from the rewritten URL.
#[test]
fn an_insteadof_rewrite_is_followed() {
    let repo = TestRepo::initialised();
    let (widgets, server) = served(&repo, TOKEN, false);
    person_config(
        &repo,
        &format!("[url \"{}/\"]\n\tinsteadOf = gh:\n", server.url),
    );
    repo.git(&["remote", "add", "origin", "gh:widgets.git"]);
    let mut env = task(&repo, "rewritten");
    env.push(("AGENTOS_GITHUB_API".into(), server.url.clone()));
    env.push(("GITHUB_TOKEN".into(), TOKEN.into()));
    let run = repo.agentos_with(&["run"], &env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    landed(&repo, &widgets, "rewritten");
    assert!(server
        .offered()
        .contains(&Some(format!("x-access-token:{TOKEN}"))));
    token_in_no_file(&repo);
}

/// No token in the environment: the person's own credential helper answers,
/// as it would for their own `git push`.
#[test]
fn without_a_token_the_persons_own_credential_helper_is_used() {
    let repo = TestRepo::initialised();
    let theirs = "ghp_personsOwnCredential42";
    let (widgets, server) = served(&repo, theirs, true);
    person_config(
        &repo,
        &format!(
            "[credential]\n\thelper = \"!f() {{ echo username=x-access-token; echo password={theirs}; }}; f\"\n"
        ),
    );
    let mut env = task(&repo, "theirs");
    env.push(("AGENTOS_GITHUB_API".into(), server.url.clone()));
    let run = repo.agentos_with(&["run"], &env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    landed(&repo, &widgets, "theirs");
    assert!(server
        .offered()
        .contains(&Some(format!("x-access-token:{theirs}"))));
}
