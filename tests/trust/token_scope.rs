//! Red team 15-01: the GitHub token goes only to GitHub. A remote on any other
//! host (a mirror, a typo, a hostile clone's `origin`) is pushed to without it:
//! the person's own git credentials apply there.
use crate::publish::{agent, TOKEN};
use crate::support::git_remotes::{bare, GitHttpServer};
use crate::support::github::GitHubApi;
use crate::support::TestRepo;

/// The remote asks for credentials (401) like GitHub; it is not the configured
/// API's host, so it never sees the token and the push fails for want of the
/// person's own credentials, saying so.
#[test]
fn a_remote_that_is_not_the_configured_github_never_receives_the_token() {
    let repo = TestRepo::initialised();
    let root = repo.dir.path().join("remotes");
    let widgets = bare(&root, "widgets");
    let server = GitHttpServer::start(&root, TOKEN);
    repo.git(&["remote", "add", "origin", &server.repo_url("widgets")]);
    // The API stand-in, named by another host than the git remote's.
    let api = GitHubApi::start("octo", "widgets");
    let elsewhere = api.url.replace("127.0.0.1", "localhost");
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    let out = repo.agentos_with(
        &["run"],
        &[
            ("AGENTOS_AGENT_CMD".to_string(), agent(&repo)),
            ("AGENTOS_GITHUB_API".to_string(), elsewhere),
            (
                "AGENTOS_GITHUB_REPO".to_string(),
                "octo/widgets".to_string(),
            ),
            ("GITHUB_TOKEN".to_string(), TOKEN.to_string()),
        ],
    );
    let offered = server.offered();
    assert!(!offered.is_empty(), "the remote was asked");
    assert!(
        offered
            .iter()
            .all(|o| o.as_deref().is_none_or(|c| !c.contains(TOKEN))),
        "the token reached a non-GitHub remote: {offered:?}"
    );
    assert!(repo.read(".agentos/failed/fix.reason").contains("push"));
    drop(out);
    let landed = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&widgets)
        .args(["rev-parse", "--verify", "-q", "refs/heads/agentos/fix"])
        .output()
        .expect("git");
    assert!(!landed.status.success(), "nothing was pushed");
}
