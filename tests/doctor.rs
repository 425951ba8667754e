//! `git agentos doctor`: one screen, whole, with the machine's facts (versions,
//! the Landlock ABI, disk space) normalised; exit 0 when nothing fails, 3
//! otherwise; `--json`; the token's value never shown.
use crate::publish::TOKEN;
use crate::support::{claude, TestRepo};
use regex::Regex;

/// The doctor's output with this machine's facts replaced.
fn doctor(repo: &TestRepo, env: &[(&str, &str)]) -> (String, crate::support::Run) {
    let run = repo.agentos_env(&["doctor"], env);
    let mut text = repo.output(&run);
    for (pattern, name) in [
        (
            r"ok    git         \d+\.\d+[^\n]*",
            "ok    git         [GIT VERSION]",
        ),
        (
            r"\d+\.\d+\.\d+ \(Claude Code\) at \S+",
            "[VERSION] (Claude Code) at [CLAUDE]",
        ),
        (r"\d+(\.\d)? (B|KiB|MiB|GiB|TiB)\b", "[SIZE]"),
    ] {
        text = Regex::new(pattern)
            .expect("pattern")
            .replace_all(&text, name)
            .into_owned();
    }
    (text, run)
}

#[test]
fn doctor_says_what_a_run_needs_and_how_to_fix_each_miss() {
    let repo = TestRepo::initialised();
    let claude = claude::binary().display().to_string();
    let (text, _) = doctor(&repo, &[("AGENTOS_AGENT_CMD", &claude)]);
    insta::assert_snapshot!(text, @"
    ok    git         [GIT VERSION]
    ok    repository  [REPO]
    ok    agent       [VERSION] (Claude Code) at [CLAUDE]
    ok    sandbox     Landlock ABI [N]: agents and verify commands write only inside their worktree
    warn  remote      no remote `origin`: a verified task's branch stays local
                      fix: `git remote add origin URL` to push task branches and open pull requests
    ok    token       not set, and not needed without a GitHub repository
    ok    hook        not installed (optional: `git agentos hooks install` queues work from commits)
    warn  manual      not installed (looked in [TMP]/home/.local/share/man/man1)
                      fix: run `git agentos install-man` (then `git agentos --help` opens it)
    ok    disk        [SIZE] free for worktrees (a checkout takes [SIZE])
    ok    state       .agentos/ holds only its own folders and files
    all is well (2 warning(s))
    ");

    // Everything that can miss: a GitHub remote and no token, no Landlock with
    // an agent that may run Bash, a state folder that is a link, a program
    // that is not there.
    repo.git(&["remote", "add", "origin", "git@github.com:octo/widgets.git"]);
    repo.write(".agentos/agents/builder/AGENT.md", "Builds.\n");
    repo.write(
        ".agentos/agents/builder/agent.toml",
        "allowed_tools = [\"Read\", \"Bash\"]\n",
    );
    std::fs::remove_dir_all(repo.path(".agentos/runs")).expect("rm runs");
    std::os::unix::fs::symlink("..", repo.path(".agentos/runs")).expect("link");
    let (text, run) = doctor(
        &repo,
        &[
            ("AGENTOS_AGENT_CMD", "/nonexistent/claude"),
            ("AGENTOS_SANDBOX_UNAVAILABLE", "1"),
        ],
    );
    assert_eq!(run.code, 3);
    insta::assert_snapshot!(text, @r#"
    ok    git         [GIT VERSION]
    ok    repository  [REPO]
    FAIL  agent       `/nonexistent/claude` is not found
                      fix: install Claude Code (`npm install -g @anthropic-ai/claude-code`), or set `command` in .agentos/agents/default/agent.toml
    FAIL  sandbox     no Landlock (AGENTOS_SANDBOX_UNAVAILABLE is set): agents that can run commands will not start: builder
                      fix: a kernel with Landlock at ABI 3 or newer is needed: Linux 6.2+ with `landlock` in the kernel's `lsm=` list (a container must not block the landlock_* system calls); or limit their tools to file tools, or set `sandbox = "off"` in their local.toml
    ok    remote      `origin` git@github.com:octo/widgets.git, on GitHub as octo/widgets
    FAIL  token       neither GITHUB_TOKEN nor GH_TOKEN is set: no pull request can be opened on octo/widgets
                      fix: export GITHUB_TOKEN with the contents (write) and pull requests (write) permissions, or run with --no-pr
    ok    hook        not installed (optional: `git agentos hooks install` queues work from commits)
    warn  manual      not installed (looked in [TMP]/home/.local/share/man/man1)
                      fix: run `git agentos install-man` (then `git agentos --help` opens it)
    ok    disk        [SIZE] free for worktrees (a checkout takes [SIZE])
    FAIL  state       `.agentos/runs` is a symbolic link (to `..`)
                      fix: git agentos follows no link in its own state: remove it (`rm .agentos/runs`, and `git rm --cached .agentos/runs` if it is committed), then run `git agentos init`
    ------- stderr -------
    error: 4 check(s) failed: agent, sandbox, token, state
    [exit status: 3]
    "#);

    // The token is said to be set, never shown; --json carries the same.
    let run = repo.agentos_env(&["doctor", "--json"], &[("GITHUB_TOKEN", TOKEN)]);
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    let json = run.json();
    let token = json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "token")
        .expect("a token check");
    assert_eq!(token["level"], "ok");
    assert_eq!(
        token["found"],
        "set (GITHUB_TOKEN; its value is never shown)"
    );
    assert_eq!(json["ok"], false, "the state link still fails");
}
