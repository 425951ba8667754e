//! 08-12: what decides the boundary, and what reaches past it: the servers an
//! agent could ask to run a command, Claude Code's own hooks and MCP servers,
//! the credentials copied back, `[sandbox] writable`, and who may widen it.
use crate::support::messages_api::MessagesApi;
use crate::support::{FakeAgent, TestRepo};

/// 09: without Landlock, a Claude Code agent limited to file tools still runs,
/// but the repository's committed `.claude/settings.json` (its hooks are shell
/// commands Claude Code runs itself) is never read, and no hook runs.
#[test]
fn a_repositorys_claude_hooks_never_run_in_a_task() {
    let repo = TestRepo::initialised();
    let marker = repo.dir.path().join("hook-ran");
    let hook =
        serde_json::json!({"type": "command", "command": format!("touch {}", marker.display())});
    repo.write(
        ".claude/settings.json",
        &serde_json::json!({"hooks": {
            "SessionStart": [{"hooks": [hook]}],
            "PreToolUse": [{"matcher": "*", "hooks": [hook]}],
        }})
        .to_string(),
    );
    repo.git(&["add", ".claude"]);
    repo.git(&["commit", "-q", "-m", "editor settings"]);
    let api = MessagesApi::writes(vec![(
        "README.md".into(),
        "Install with `cargo install`.\n".into(),
    )]);
    let mut env = repo.claude_env(&api);
    env.push(("AGENTOS_SANDBOX_UNAVAILABLE".into(), "1".into()));
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    repo.agentos_with(&["run", "--no-pr"], &env).ok();
    assert_eq!(
        repo.git(&["show", "agentos/fix:README.md"]),
        "Install with `cargo install`.\n"
    );
    assert!(!marker.exists(), "a hook of the repository's ran");
    let log = repo.read(".agentos/runs/fix/attempt-1/agent.jsonl");
    assert!(!log.contains("hook_response"), "{log}");
}

/// 08: the variables that name a server which runs commands on request (a
/// terminal multiplexer, the session bus, Docker) reach no agent.
#[test]
fn no_agent_is_told_where_a_command_server_listens() {
    let repo = TestRepo::initialised();
    let agent = FakeAgent::new(&repo).runs("env > env.txt").build();
    repo.agentos(&["add", "Env", "-t", "env.txt", "--id", "env"])
        .ok();
    let servers = [
        ("TMUX", "/tmp/tmux-1000/default,4242,0"),
        ("STY", "4242.pts-0.host"),
        ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus"),
        ("DOCKER_HOST", "unix:///var/run/docker.sock"),
        ("XDG_RUNTIME_DIR", "/run/user/1000"),
    ];
    let mut env = servers.to_vec();
    env.push(("AGENTOS_AGENT_CMD", &agent));
    repo.agentos_env(&["run", "--no-pr"], &env).ok();
    let seen = repo.git(&["show", "agentos/env:env.txt"]);
    for (name, _) in servers {
        assert!(
            !seen.contains(&format!("{name}=")),
            "{name} reached the agent"
        );
    }
}
