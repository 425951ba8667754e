//! The git remotes, reached by the real `git push`: the smart-HTTP server takes
//! the token from a credential helper and refuses a push without it; the
//! ssh-style remote lands a push in its bare repository through
//! `GIT_SSH_COMMAND`.
use crate::support::git_remotes::{bare, GitHttpServer, SshRemote};
use crate::support::{seal, TestRepo};
use std::process::{Command, Output};

const TOKEN: &str = "ghp_pushTOKEN0123456789";

/// git in the repository, sealed, never prompting; the output whatever it is.
fn git(repo: &TestRepo, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("git");
    seal(&mut cmd, &repo.home);
    cmd.args(args)
        .current_dir(repo.root())
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "/bin/false");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("spawn git")
}

fn helper(token: &str) -> String {
    format!("credential.helper=!f() {{ echo username=x-access-token; echo password={token}; }}; f")
}

fn bare_head(bare: &std::path::Path, branch: &str) -> Option<String> {
    let out = Command::new("git")
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
        .current_dir(bare)
        .output()
        .expect("git rev-parse");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn a_push_with_the_token_reaches_the_http_remote_and_one_without_is_refused() {
    let repo = TestRepo::new();
    let root = repo.dir.path().join("served");
    std::fs::create_dir_all(&root).expect("root");
    let origin = bare(&root, "widgets");
    let server = GitHttpServer::start(&root, TOKEN);
    let url = server.repo_url("widgets");
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();

    let refused = git(&repo, &["push", &url, "main"], &[]);
    assert!(!refused.status.success(), "no credential, no push");
    assert!(server.offered().iter().all(Option::is_none));
    assert!(server.refused() >= 1);
    let wrong = git(
        &repo,
        &["-c", &helper("ghp_wrong"), "push", &url, "main"],
        &[],
    );
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("Authentication failed"), "{stderr}");
    assert!(server
        .offered()
        .contains(&Some("x-access-token:ghp_wrong".into())));
    assert_eq!(bare_head(&origin, "main"), None, "nothing landed");

    let pushed = git(&repo, &["-c", &helper(TOKEN), "push", &url, "main"], &[]);
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert_eq!(bare_head(&origin, "main"), Some(head.clone()));
    let good = format!("x-access-token:{TOKEN}");
    assert!(server.offered().contains(&Some(good)));
    assert!(server.services().contains(&"git-receive-pack".to_string()));

    // Fetching takes the token too (upload-pack).
    let listed = git(
        &repo,
        &["-c", &helper(TOKEN), "ls-remote", &url, "main"],
        &[],
    );
    assert!(String::from_utf8_lossy(&listed.stdout).starts_with(&head));
    assert!(server.services().contains(&"git-upload-pack".to_string()));
}

#[test]
fn a_push_over_the_ssh_style_url_lands_in_the_bare_repository() {
    let repo = TestRepo::new();
    let root = repo.dir.path().join("ssh-root");
    std::fs::create_dir_all(&root).expect("root");
    let origin = bare(&root, "widgets");
    let ssh = SshRemote::new(repo.dir.path(), &root);
    let url = ssh.repo_url("widgets");
    assert_eq!(url, "ssh://example.test/widgets.git");
    let command = ssh.command();
    let env = [("GIT_SSH_COMMAND", command.as_str())];
    repo.git(&["checkout", "-q", "-b", "agentos/fix"]);
    repo.write("README.md", "fixed\n");
    repo.git(&["commit", "-q", "-am", "fix"]);
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();

    let pushed = git(&repo, &["push", &url, "agentos/fix"], &env);
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert_eq!(bare_head(&origin, "agentos/fix"), Some(head.clone()));
    assert_eq!(
        ssh.connections(),
        ["host=example.test program=git-receive-pack path=widgets.git"]
    );

    let listed = git(&repo, &["ls-remote", &url, "agentos/fix"], &env);
    assert!(String::from_utf8_lossy(&listed.stdout).starts_with(&head));
    assert_eq!(ssh.connections().len(), 2);
    assert!(ssh.connections()[1].contains("program=git-upload-pack"));
}
