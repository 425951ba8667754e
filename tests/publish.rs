//! Publishing: push the verified branch, open one pull request through the API.
use crate::support::github::GitHubApi;
use crate::support::{FakeAgent, TestRepo};

pub const TOKEN: &str = "ghp_TESTtoken0123456789abcdefSECRET";

/// A repository with a local bare remote `origin` that has `main`.
pub fn with_remote() -> TestRepo {
    let repo = TestRepo::initialised();
    let bare = repo.dir.path().join("remote.git");
    repo.git(&[
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        bare.to_str().expect("utf8"),
    ]);
    repo.git(&["remote", "add", "origin", bare.to_str().expect("utf8")]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo
}

/// Fixes the README and reports two turns, $0.02 and a summary.
pub fn agent(repo: &TestRepo) -> String {
    FakeAgent::new(repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .reports(2, 0.02, "Fixed the install command.")
        .build()
}

pub fn env(repo: &TestRepo, api: &GitHubApi) -> Vec<(String, String)> {
    vec![
        ("AGENTOS_AGENT_CMD".into(), agent(repo)),
        ("AGENTOS_GITHUB_API".into(), api.url.clone()),
        ("AGENTOS_GITHUB_REPO".into(), "octo/widgets".into()),
        ("GITHUB_TOKEN".into(), TOKEN.into()),
    ]
}

/// Every file under `root` that holds the token (none may).
pub fn files_with_token(root: &std::path::Path) -> Vec<String> {
    crate::support::search_files(root, TOKEN).1
}

pub fn remote_ref(repo: &TestRepo, branch: &str) -> Option<String> {
    let out = repo.git(&["ls-remote", "origin", &format!("refs/heads/{branch}")]);
    out.split_whitespace().next().map(str::to_string)
}

#[test]
fn one_pull_request_per_task_with_the_right_head_base_title_and_body() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    repo.write(
        ".agentos/todo/fix-install.md",
        "+++\ntitle = \"Fix the install command\"\ntargets = [\"README.md\"]\nbase_branch = \"main\"\ndraft = true\nlabels = [\"agentos\", \"docs\"]\n+++\nThe README says `cargo instal`.\n",
    );
    repo.agentos_with(&["run"], &env(&repo, &api)).ok();
    // The remote has the branch, at the commit the task recorded.
    let record: serde_json::Value =
        serde_json::from_str(&repo.read(".agentos/review/fix-install.record.json")).expect("json");
    let local = repo
        .git(&["rev-parse", "agentos/fix-install"])
        .trim()
        .to_string();
    assert_eq!(
        remote_ref(&repo, "agentos/fix-install").as_deref(),
        Some(local.as_str())
    );
    assert_eq!(record["pushed_commit"], local.as_str());
    // Exactly one pull request, as asked.
    let pulls = api.pulls();
    assert_eq!(pulls.len(), 1);
    let pr = &pulls[0];
    assert_eq!(pr["title"], "Fix the install command");
    assert_eq!(pr["head"]["ref"], "agentos/fix-install");
    assert_eq!(pr["base"]["ref"], "main");
    assert_eq!(pr["draft"], true);
    let labels: Vec<&str> = pr["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(labels, ["agentos", "docs"]);
    let body = pr["body"].as_str().expect("body");
    for part in [
        "The README says `cargo instal`.",
        "# Verification of `fix-install`: passed",
        "+Install with `cargo install`.",
        "Fixed the install command.",
        "2 turns",
        "Agentos-Task: fix-install",
    ] {
        assert!(body.contains(part), "the body lacks {part:?}:\n{body}");
    }
    assert_eq!(record["pr_url"], pr["html_url"]);
    repo.agentos(&["show", "fix-install"])
        .ok()
        .stdout_has("pr        https://github.invalid/octo/widgets/pull/1");
    // Its pull request is open: the task waits in review/ (issue #17).
    repo.agentos(&["status"])
        .ok()
        .stdout_has("review      fix-install: #1 published, not looked at yet")
        .stdout_has("              https://github.invalid/octo/widgets/pull/1");
}

#[test]
fn a_create_answered_502_still_ends_with_exactly_one_pull_request() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    api.state.lock().expect("lock").create_then_502 = 1;
    repo.agentos(&["add", "Fix it", "-t", "README.md", "--id", "flaky-api"])
        .ok();
    repo.agentos_with(&["run"], &env(&repo, &api)).ok();
    assert_eq!(api.pulls().len(), 1);
    let creates = api.requests_to("POST", "/pulls");
    assert!(creates >= 2, "the create was retried ({creates} POSTs)");
    assert_eq!(files_with_token(repo.dir.path()), Vec::<String>::new());
}

#[test]
fn a_stalled_answer_is_retried_after_the_timeout_and_persistent_5xx_is_reported() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    api.state.lock().expect("lock").stall = (1, std::time::Duration::from_secs(3));
    repo.agentos(&["add", "Slow", "-t", "README.md", "--id", "slow"])
        .ok();
    let mut slow = env(&repo, &api);
    slow.push(("AGENTOS_GITHUB_TIMEOUT".into(), "0.5".into()));
    let first = repo.agentos_with(&["run"], &slow).ok();
    assert!(!first.stdout.contains(TOKEN) && !first.stderr.contains(TOKEN));
    assert_eq!(api.pulls().len(), 1, "the stalled call was retried");
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(
        friction.contains("\"kind\":\"github-retry\"") && friction.contains("\"task\":\"slow\""),
        "{friction}"
    );
    // A server that keeps failing: retried with backoff, then reported.
    api.state.lock().expect("lock").fail_all = Some(503);
    repo.agentos(&["add", "Down", "-t", "README.md", "--id", "down"])
        .ok();
    let down = repo.agentos_with(&["run"], &slow).code(1);
    assert!(!down.stdout.contains(TOKEN) && !down.stderr.contains(TOKEN));
    let reason = repo.read(".agentos/failed/down.reason");
    assert!(
        reason.contains("503") && reason.contains("octo/widgets"),
        "{reason}"
    );
    let lists = api.requests_to("GET", "/pulls");
    assert!(
        lists >= 4,
        "the failing list was retried ({lists} GETs in all)"
    );
    // Printed output is checked too: the runs above ran with the token set.
    let run = repo.agentos_with(&["status"], &slow);
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    assert_eq!(files_with_token(repo.dir.path()), Vec::<String>::new());
}

#[test]
fn a_crash_after_the_push_or_after_the_pull_request_never_opens_a_second() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    repo.agentos(&["add", "First", "-t", "README.md", "--id", "first"])
        .ok();
    let mut crash = env(&repo, &api);
    crash.push(("AGENTOS_FAULT".into(), "after-push".into()));
    assert_ne!(repo.agentos_with(&["run"], &crash).code, 0);
    assert!(
        remote_ref(&repo, "agentos/first").is_some(),
        "pushed before the crash"
    );
    assert!(api.pulls().is_empty());
    crash.last_mut().expect("fault").1 = "after-pr".into();
    assert_ne!(repo.agentos_with(&["run"], &crash).code, 0);
    assert_eq!(api.pulls().len(), 1);
    repo.agentos_with(&["run"], &env(&repo, &api)).ok();
    repo.agentos_with(&["run"], &env(&repo, &api)).ok();
    assert_eq!(
        api.pulls().len(),
        1,
        "resumes and re-runs open no second pull request"
    );
    assert!(repo.exists(".agentos/review/first.md"));
}

/// Kills the `git daemon` when the test ends.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A rejection, over the smart protocol (`git daemon` on loopback): the task
/// fails with git's reason, the remote's own words included.
#[test]
fn a_rejected_push_fails_the_task_with_gits_reason() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    let hook = repo.dir.path().join("remote.git/hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'branches under agentos/ are frozen' >&2\nexit 1\n",
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    // `git-daemon` itself, not `git daemon`: killing the `git` in front of it
    // would leave the daemon running after the test.
    let exec_path = std::process::Command::new("git")
        .arg("--exec-path")
        .output()
        .expect("git --exec-path");
    let exec_path = String::from_utf8_lossy(&exec_path.stdout)
        .trim()
        .to_string();
    let mut cmd = std::process::Command::new(std::path::Path::new(&exec_path).join("git-daemon"));
    crate::support::seal(&mut cmd, &repo.home);
    let _daemon = Daemon(
        cmd.args([
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", repo.dir.path().display()))
        .arg(repo.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("git daemon"),
    );
    let url = format!("git://127.0.0.1:{port}/remote.git");
    repo.git(&["remote", "set-url", "origin", &url]);
    crate::support::wait_until(
        std::time::Duration::from_secs(10),
        "git daemon answers",
        || {
            std::process::Command::new("git")
                .args(["ls-remote", &url])
                .output()
                .is_ok_and(|o| o.status.success())
        },
    );
    repo.agentos(&["add", "Blocked", "-t", "README.md", "--id", "blocked"])
        .ok();
    repo.agentos_with(&["run"], &env(&repo, &api)).code(1);
    let reason = repo.read(".agentos/failed/blocked.reason");
    assert!(
        reason.contains("rejected the push") && reason.contains("refs/heads/agentos/blocked"),
        "{reason}"
    );
    assert!(
        reason.contains("branches under agentos/ are frozen"),
        "what the remote said: {reason}"
    );
    assert!(api.pulls().is_empty());
}

#[test]
fn auth_errors_are_explained() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    api.state.lock().expect("lock").fail_all = Some(403);
    repo.agentos(&["add", "Denied", "-t", "README.md", "--id", "denied"])
        .ok();
    repo.agentos_with(&["run"], &env(&repo, &api)).code(1);
    let reason = repo.read(".agentos/failed/denied.reason");
    assert!(
        reason.contains("the token cannot") && reason.contains("octo/widgets"),
        "{reason}"
    );
}

#[test]
fn without_a_github_repository_or_with_no_pr_the_branch_is_the_output() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    repo.agentos(&["add", "Local", "-t", "README.md", "--id", "local"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent(&repo))])
        .ok();
    assert!(
        remote_ref(&repo, "agentos/local").is_none(),
        "--no-pr pushes nothing"
    );
    repo.agentos(&["show", "local"]).ok().stdout_has("--no-pr");
    // No GitHub repository (the remote is a path): pushed, no pull request, done.
    repo.agentos(&["add", "Pushed", "-t", "README.md", "--id", "pushed"])
        .ok();
    repo.agentos_env(
        &["run"],
        &[
            ("AGENTOS_AGENT_CMD", &agent(&repo)),
            ("GITHUB_TOKEN", TOKEN),
        ],
    )
    .ok();
    assert!(remote_ref(&repo, "agentos/pushed").is_some());
    assert!(api.pulls().is_empty());
    assert!(repo
        .read(".agentos/done/pushed.md")
        .contains("no GitHub repository"));
}

/// The token appears in no output, log, record, report, friction line or PR body.
#[test]
fn the_token_never_appears_anywhere() {
    let repo = with_remote();
    let api = GitHubApi::start("octo", "widgets");
    let mut outputs = String::new();
    repo.agentos(&["add", "Good", "-t", "README.md", "--id", "good"])
        .ok();
    let run = repo.agentos_with(&["run"], &env(&repo, &api));
    outputs.push_str(&run.stdout);
    outputs.push_str(&run.stderr);
    // A failure whose message echoes URLs and errors.
    api.state.lock().expect("lock").fail_all = Some(401);
    repo.agentos(&["add", "Bad", "-t", "README.md", "--id", "bad"])
        .ok();
    let run = repo.agentos_with(&["run"], &env(&repo, &api));
    outputs.push_str(&run.stdout);
    outputs.push_str(&run.stderr);
    for args in [
        &["status", "--json"][..],
        &["list", "--json"],
        &["show", "bad"],
        &["logs", "good"],
    ] {
        let r = repo.agentos_with(args, &env(&repo, &api));
        outputs.push_str(&r.stdout);
        outputs.push_str(&r.stderr);
    }
    assert!(!outputs.contains(TOKEN), "the token was printed");
    let (files, found) = crate::support::search_files(&repo.root(), TOKEN);
    assert!(found.is_empty(), "the token is in {found:?}");
    assert!(files > 20, "searched {files} files");
    for pr in api.pulls() {
        assert!(!pr["body"].as_str().unwrap_or("").contains(TOKEN));
    }
    assert!(repo.read(".agentos/failed/bad.reason").contains("refused"));
}

/// An HTTP remote on the configured GitHub's host that refuses every
/// credential: the token is offered once, through git agentos's own credential
/// helper (as Basic auth), and never again.
#[test]
fn an_https_style_push_offers_the_token_once_through_git_agentoss_credential_helper() {
    use crate::support::http::{serve, Request, Response};
    use std::sync::{Arc, Mutex};
    let repo = TestRepo::initialised();
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let log = seen.clone();
    let url = serve(Arc::new(move |req: &Request| {
        log.lock()
            .expect("lock")
            .push(req.headers.get("authorization").cloned());
        let mut r = Response::json(401, &serde_json::json!({"message": "Bad credentials"}));
        r.headers = vec![("www-authenticate".into(), "Basic realm=\"git\"".into())];
        r
    }));
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("{url}/octo/widgets.git"),
    ]);
    repo.agentos(&["add", "Fix it", "-t", "README.md", "--id", "authfail"])
        .ok();
    let run = repo.agentos_env(
        &["run"],
        &[
            ("AGENTOS_AGENT_CMD", &agent(&repo)),
            ("AGENTOS_GITHUB_API", &url),
            ("GITHUB_TOKEN", TOKEN),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let reason = repo.read(".agentos/failed/authfail.reason");
    assert!(reason.contains("push"), "{reason}");
    let seen = seen.lock().expect("lock").clone();
    let with_token: Vec<&String> = seen.iter().flatten().collect();
    assert_eq!(with_token.len(), 1, "the token was offered once: {seen:?}");
    let basic = with_token[0].strip_prefix("Basic ").expect("basic auth");
    let decoded = base64_decode(basic);
    assert_eq!(decoded, format!("x-access-token:{TOKEN}"));
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN) && !reason.contains(TOKEN));
}

fn base64_decode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).expect("utf8")
}
