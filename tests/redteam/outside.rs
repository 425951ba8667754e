//! 13, 14 and the seeded `~/.claude.json`: what reaches outside without writing
//! a file: permissions changed outside the worktree (Landlock leaves chmod
//! alone), a repository's program run by `doctor`, the person's own MCP servers
//! started inside a task.
use crate::support::messages_api::MessagesApi;
use crate::support::{FakeAgent, TestRepo};
use std::os::unix::fs::PermissionsExt;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

/// 13: an agent (or a verify command) that disables a hook (`chmod -x`) or makes
/// a startup file world-writable fails its task (friction `escape`), and the
/// modes are put back; the person's next commit runs the hook again.
#[test]
fn permissions_changed_outside_fail_the_task_and_are_put_back() {
    let repo = TestRepo::initialised();
    let hook = repo.path(".git/hooks/pre-commit");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'secret scanner: blocked' >&2\nexit 1\n",
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let bashrc = repo.home.join(".bashrc");
    std::fs::write(&bashrc, "# mine\n").expect("write");
    std::fs::set_permissions(&bashrc, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let hooks = repo.path(".git/hooks");
    let hooks_mode = mode(&hooks);
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .runs(&format!(
            "chmod -x {}; chmod 777 {} {}",
            hook.display(),
            bashrc.display(),
            hooks.display()
        ))
        .build();
    let reason = repo.failed_fix(&agent);
    assert!(
        reason.starts_with("the agent changed the permissions of files outside its worktree")
            && reason.contains("`.git/hooks/pre-commit` mode 0755 → 0644 (put back)")
            && reason.contains("`~/.bashrc` mode 0644 → 0777 (put back)")
            && reason.contains(&format!(
                "`.git/hooks` mode {hooks_mode:04o} → 0777 (put back)"
            )),
        "{reason}"
    );
    assert_eq!(mode(&hook), 0o755);
    assert_eq!(mode(&bashrc), 0o644);
    assert_eq!(mode(&hooks), hooks_mode);
    assert!(repo
        .read(".agentos/friction.jsonl")
        .contains(r#""kind":"escape""#));

    // The same from a task's verify command (it runs inside the sandbox too).
    let honest = FakeAgent::new(&repo).writes("docs.md", "Docs.\n").build();
    repo.agentos(&[
        "add",
        "Docs",
        "-t",
        "docs.md",
        "--id",
        "docs",
        "--verify",
        &format!("chmod 600 {}", hook.display()),
    ])
    .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &honest)])
        .code(1);
    let reason = repo.read(".agentos/failed/docs.reason");
    assert!(
        reason.starts_with("a verify command changed the permissions")
            && reason.contains("`.git/hooks/pre-commit` mode 0755 → 0600 (put back)"),
        "{reason}"
    );
    assert_eq!(mode(&hook), 0o755);
}

/// 14: `doctor` never runs a program that a tracked agent.toml names (it would
/// run outside any sandbox); it says so, and checks it once the person names it
/// in their own local.toml.
#[test]
fn doctor_runs_no_program_a_repository_names() {
    let repo = TestRepo::initialised();
    let marker = repo.dir.path().join("doctor-ran-it");
    repo.write(
        "tools/claude",
        &format!(
            "#!/bin/sh\necho ran >> {}\necho '2.1.328 (Claude Code)'\n",
            marker.display()
        ),
    );
    std::fs::set_permissions(
        repo.path("tools/claude"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    repo.write(
        ".agentos/agents/default/agent.toml",
        "command = \"./tools/claude\"\n",
    );
    repo.git(&["add", "-f", "tools", ".agentos/agents/default/agent.toml"]);
    repo.git(&["commit", "-q", "-m", "tooling"]);
    repo.agentos(&["doctor"]).stdout_has(
        "warn  agent       `./tools/claude`, named by the agent.toml git tracks: not run",
    );
    assert!(!marker.exists(), "doctor ran the repository's program");

    // Named by the person: theirs to run.
    repo.write(
        ".agentos/agents/default/local.toml",
        &format!(
            "command = {:?}\n",
            repo.path("tools/claude").display().to_string()
        ),
    );
    repo.agentos(&["doctor"])
        .stdout_has("ok    agent       2.1.328 (Claude Code) at ");
    assert!(marker.exists());
}

/// The seeded `~/.claude.json` may list the person's own MCP servers (started
/// with their secrets); `--strict-mcp-config` keeps every one of them from
/// starting inside a task: the only server is the memory server.
#[test]
fn your_own_mcp_servers_never_start_in_a_task() {
    let repo = TestRepo::initialised();
    let marker = repo.dir.path().join("mcp-started");
    let server = serde_json::json!({
        "type": "stdio",
        "command": "sh",
        "args": ["-c", format!("touch {}; sleep 5", marker.display())],
    });
    std::fs::write(
        repo.home.join(".claude.json"),
        serde_json::json!({"mcpServers": {"mine": server}}).to_string(),
    )
    .expect("write");
    repo.write(
        ".mcp.json",
        &serde_json::json!({"mcpServers": {"theirs": server}}).to_string(),
    );
    repo.git(&["add", ".mcp.json"]);
    repo.git(&["commit", "-q", "-m", "project servers"]);
    let api = MessagesApi::writes(vec![(
        "README.md".into(),
        "Install with `cargo install`.\n".into(),
    )]);
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    repo.agentos_with(&["run", "--no-pr"], &repo.claude_env(&api))
        .ok();
    assert!(!marker.exists(), "an MCP server not ours started");
    let log = repo.read(".agentos/runs/fix/attempt-1/agent.jsonl");
    let init = log
        .lines()
        .find(|l| l.contains(r#""subtype":"init""#))
        .expect("init line");
    assert!(
        !init.contains(r#""name":"mine""#) && !init.contains(r#""name":"theirs""#),
        "{init}"
    );
}
