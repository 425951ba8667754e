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

/// The person's tmux server, stopped however the test ends.
struct TmuxServer(std::path::PathBuf);

impl TmuxServer {
    fn start(sockets: &std::path::Path) -> TmuxServer {
        std::fs::create_dir_all(sockets).expect("mkdir");
        let server = TmuxServer(sockets.to_path_buf());
        server.tmux(&["new-session", "-d", "-s", "person", "sleep 300"]);
        server
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux")
            .args(args)
            .env("TMUX_TMPDIR", &self.0)
            .env_remove("TMUX")
            .output()
            .expect("tmux is installed (apt-get install -y tmux)");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["kill-server"])
            .env("TMUX_TMPDIR", &self.0)
            .output();
    }
}

/// 08, without `TMUX`: tmux finds a server at its default place (under
/// `TMUX_TMPDIR`, else /tmp/tmux-UID) and runs any command there, outside the
/// sandbox. An agent's tmux looks in its private folder instead: the person's
/// server gets no window.
#[test]
fn the_persons_tmux_server_is_not_found_at_its_default_place() {
    let repo = TestRepo::initialised();
    let sockets = repo.dir.path().join("tmux");
    let server = TmuxServer::start(&sockets);
    let marker = repo.dir.path().join("tmux-ran-it");
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .runs(&format!(
            "tmux new-window -d -t person 'touch {}; sleep 300'",
            marker.display()
        ))
        .build();
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    let sockets = sockets.display().to_string();
    repo.agentos_env(
        &["run", "--no-pr"],
        &[("AGENTOS_AGENT_CMD", &agent), ("TMUX_TMPDIR", &sockets)],
    )
    .ok();
    // A window the agent opened would still be there (its command sleeps).
    let windows = server.tmux(&["list-windows", "-t", "person"]);
    assert_eq!(windows.lines().count(), 1, "{windows}");
    assert!(!marker.exists());
}

/// 08, abstract unix sockets (no file, so no Landlock path rule covers them):
/// Landlock's ABI-6 scope keeps the agent from connecting to one made outside
/// its sandbox, such as a server of the person's listening on one.
#[test]
fn an_abstract_socket_outside_the_sandbox_cannot_be_reached() {
    use std::os::linux::net::SocketAddrExt;
    let repo = TestRepo::initialised();
    let name = format!("agentos-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).expect("name");
    let listener = std::os::unix::net::UnixListener::bind_addr(&addr).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let agent = FakeAgent::new(&repo)
        .runs(&format!(
            r#"python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("\0{name}"); print("connected")' > out.txt 2>&1"#
        ))
        .build();
    repo.agentos(&["add", "Out", "-t", "out.txt", "--id", "out"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    let out = repo.git(&["show", "agentos/out:out.txt"]);
    assert!(
        out.contains("PermissionError") && !out.contains("connected"),
        "{out}"
    );
    assert!(listener.accept().is_err(), "the agent connected");
}

/// 10: what an agent writes into its copy of Claude Code's credentials goes
/// back to `~/.claude` only when it is a refresh of the same login (unit tests
/// in src/agent/attempt.rs try each kind of forgery).
#[test]
fn another_login_written_by_the_agent_never_reaches_your_credentials() {
    let repo = TestRepo::initialised();
    let person = r#"{"claudeAiOauth":{"accessToken":"sk-ant-oat01-mine","refreshToken":"sk-ant-ort01-mine","expiresAt":1000}}"#;
    std::fs::create_dir_all(repo.home.join(".claude")).expect("mkdir");
    std::fs::write(repo.home.join(".claude/.credentials.json"), person).expect("write");
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .runs(r#"printf '%s' '{"claudeAiOauth":{"accessToken":"ATTACKER","refreshToken":"ATTACKER","expiresAt":9999999999999},"planted":1}' > "$CLAUDE_CONFIG_DIR/.credentials.json""#)
        .build();
    let claude = repo.dir.path().join("cc/claude");
    std::fs::create_dir_all(claude.parent().expect("parent")).expect("mkdir");
    std::os::unix::fs::symlink(&agent, &claude).expect("link");
    repo.agentos(&["add", "Fix", "-t", "README.md", "--id", "fix"])
        .ok();
    repo.agentos_env(
        &["run", "--no-pr"],
        &[("AGENTOS_AGENT_CMD", &claude.display().to_string())],
    )
    .ok();
    assert_eq!(
        std::fs::read_to_string(repo.home.join(".claude/.credentials.json")).expect("read"),
        person
    );
}

/// 11: `[sandbox] writable` is judged as the kernel resolves it: `~/..`, or a
/// link to the repository, is refused before the agent starts, and nothing
/// outside changes.
#[test]
fn a_writable_path_that_resolves_to_the_repository_is_refused() {
    for (n, entry) in ["~/..", "LINK", "~/.bashrc"].into_iter().enumerate() {
        let repo = TestRepo::initialised();
        std::fs::write(repo.home.join(".bashrc"), "# mine\n").expect("write");
        let link = repo.dir.path().join("link");
        std::os::unix::fs::symlink(repo.root(), &link).expect("link");
        let entry = entry.replace("LINK", &link.display().to_string());
        repo.write(
            ".agentos/agents/default/agent.toml",
            &format!("[sandbox]\nwritable = [{entry:?}]\n"),
        );
        let agent = FakeAgent::new(&repo)
            .writes("README.md", "Install with `cargo install`.\n")
            .runs(&format!(
                "echo escaped >> {0}/README.md; echo x >> {0}/.git/hooks/post-commit; echo x >> $HOME/.bashrc",
                repo.root().display()
            ))
            .build();
        let readme = repo.read("README.md");
        let reason = repo.failed_fix(&agent);
        assert!(reason.contains("is refused"), "{n}: {reason}");
        assert_eq!(repo.read("README.md"), readme);
        assert!(!repo.exists(".git/hooks/post-commit"));
        assert_eq!(
            std::fs::read_to_string(repo.home.join(".bashrc")).expect("read"),
            "# mine\n"
        );
    }
}

/// 12: a committed agent.toml cannot widen the boundary (a cloned repository
/// would decide what its agents may write); the same settings in the
/// untracked local.toml are the person's, and are honoured: `pass_env =
/// ["GITHUB_TOKEN"]` then really passes it. A committed local.toml is refused.
#[test]
fn only_an_untracked_file_widens_the_boundary() {
    let repo = TestRepo::initialised();
    let token = crate::publish::TOKEN;
    let widening = "sandbox = \"off\"\n";
    repo.write(".agentos/agents/default/agent.toml", widening);
    repo.git(&["add", "-f", ".agentos/agents/default/agent.toml"]);
    repo.git(&["commit", "-q", "-m", "agent settings"]);
    let agent = FakeAgent::new(&repo)
        .runs(r#"echo "token=$GITHUB_TOKEN" > "$AGENTOS_TASK_ID.txt""#)
        .build();
    let run = |id: &str| {
        repo.agentos(&["add", id, "-t", &format!("{id}.txt"), "--id", id])
            .ok();
        repo.agentos_env(
            &["run", "--no-pr"],
            &[("AGENTOS_AGENT_CMD", &agent), ("GITHUB_TOKEN", token)],
        )
    };
    run("tracked").code(1);
    let reason = repo.read(".agentos/failed/tracked.reason");
    assert!(
        reason.contains(
            "git tracks this file, and it widens the agent's sandbox (`sandbox = \"off\"`)"
        ) && reason.contains(".agentos/agents/default/local.toml"),
        "{reason}"
    );
    repo.agentos(&["agent", "list"])
        .stdout_has("git tracks this file");

    repo.git(&["rm", "-q", ".agentos/agents/default/agent.toml"]);
    repo.git(&["commit", "-q", "-m", "the boundary is mine to widen"]);
    repo.write(
        ".agentos/agents/default/local.toml",
        "[sandbox]\npass_env = [\"GITHUB_TOKEN\"]\n",
    );
    // init's .gitignore keeps it out of commits.
    repo.git(&["check-ignore", "-q", ".agentos/agents/default/local.toml"]);
    run("local").ok();
    assert_eq!(
        repo.git(&["show", "agentos/local:local.txt"]),
        format!("token={token}\n"),
        "pass_env passed the token"
    );

    repo.git(&["add", "-f", ".agentos/agents/default/local.toml"]);
    run("shared").code(1);
    assert!(repo
        .read(".agentos/failed/shared.reason")
        .contains("git tracks this file, but its settings are yours alone"));
}

/// 12, through a link: an agent's folder committed as a link to a folder of the
/// repository hides that its agent.toml is tracked (under another name); one
/// that widens the boundary is refused all the same, and so is a local.toml
/// reached through a link.
#[test]
fn a_linked_agent_folder_does_not_hide_a_tracked_agent_toml() {
    let repo = TestRepo::initialised();
    repo.write("tools/agent/AGENT.md", "Linked.\n");
    repo.write("tools/agent/agent.toml", "sandbox = \"off\"\n");
    std::os::unix::fs::symlink("../../tools/agent", repo.path(".agentos/agents/linked"))
        .expect("link");
    repo.git(&["add", "-f", "tools", ".agentos/agents/linked"]);
    repo.git(&["commit", "-q", "-m", "a shared agent"]);
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    let run = |id: &str| {
        repo.agentos(&[
            "add",
            "Fix",
            "-t",
            "README.md",
            "--agent",
            "linked",
            "--id",
            id,
        ])
        .ok();
        repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
            .code(1);
        repo.read(&format!(".agentos/failed/{id}.reason"))
    };
    let reason = run("shared");
    assert!(
        reason.contains("it is reached through a link")
            && reason.contains("widens the agent's sandbox (`sandbox = \"off\"`)"),
        "{reason}"
    );

    repo.write("tools/agent/agent.toml", "");
    repo.write("tools/agent/local.toml", "sandbox = \"off\"\n");
    let reason = run("mine");
    assert!(
        reason.contains("local.toml: it is reached through a link"),
        "{reason}"
    );
}
