//! `git agentos doctor`'s checks: what a run needs (git, the repository, the
//! agent CLI, the sandbox, the remote and GitHub, the token, the hook, disk
//! space, the state folders), each with what was found and how to fix a miss.
use crate::agent::config::{self, AgentConfig};
use crate::agent::sandbox::{self, Support};
use crate::workspace::Workspace;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// The oldest git the worktree and checkout commands are known to work with.
const MINIMUM_GIT: (u32, u32) = (2, 25);

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    /// Works, with a limit worth knowing.
    Warn,
    /// A run will not work as it should.
    Fail,
}

/// One line of the screen.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub found: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, found: impl Into<String>) -> Check {
        Check {
            name,
            level: Level::Ok,
            found: found.into(),
            fix: None,
        }
    }
    fn warn(name: &'static str, found: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            level: Level::Warn,
            found: found.into(),
            fix: Some(fix.into()),
        }
    }
    fn fail(name: &'static str, found: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            level: Level::Fail,
            found: found.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Every check, in the order they are shown.
pub fn run(dir: &Path, cli: &clap::Command) -> Vec<Check> {
    let mut checks = vec![check_git()];
    // Unchecked: a state path that is not ours is reported below, not fatal here.
    let ws = match Workspace::discover_unchecked(dir) {
        Ok(ws) => ws,
        Err(e) => {
            checks.push(Check::fail(
                "repository",
                e.to_string(),
                "run it inside a git repository with a working tree (or pass -C DIR)",
            ));
            return checks;
        }
    };
    checks.push(if ws.tree.is_initialised() {
        Check::ok("repository", ws.tree.repo_root.display().to_string())
    } else {
        Check::warn(
            "repository",
            format!("{} (no .agentos/ yet)", ws.tree.repo_root.display()),
            "run `git agentos init` (or just `git agentos add`)",
        )
    });
    let override_cmd = std::env::var("AGENTOS_AGENT_CMD").ok();
    let agent = config::load(&ws.tree, "default", override_cmd.as_deref());
    let support = sandbox::support();
    match &agent {
        Ok(agent) => {
            checks.push(check_agent_cli(agent));
            checks.push(check_sandbox(&ws, &support, override_cmd.as_deref()));
        }
        Err(e) => checks.push(Check::fail(
            "agent",
            e.to_string(),
            "fix .agentos/agents/default/agent.toml",
        )),
    }
    checks.extend(check_remote_and_token(&ws));
    checks.push(check_hook(&ws));
    checks.push(check_manual(cli));
    checks.push(check_disk(&ws));
    checks.push(check_state_paths(&ws));
    checks
}

/// The manual `git agentos --help` opens: installed, and current for this build.
fn check_manual(cli: &clap::Command) -> Check {
    match crate::manual::status(cli) {
        Ok(status) if status.is_ok() => Check::ok("manual", status.summary()),
        Ok(status) => Check::warn(
            "manual",
            status.summary(),
            "run `git agentos install-man` (then `git agentos --help` opens it)",
        ),
        Err(e) => Check::warn(
            "manual",
            e.to_string(),
            "run `git agentos install-man --dir DIR` with a folder you can write",
        ),
    }
}

fn check_git() -> Check {
    let version = match crate::git::run::version() {
        Ok(v) => v,
        Err(e) => {
            return Check::fail(
                "git",
                e.to_string(),
                "install git 2.25 or newer and put it on PATH",
            )
        }
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if found >= MINIMUM_GIT {
        Check::ok("git", version)
    } else {
        Check::fail(
            "git",
            version,
            "install git 2.25 or newer (worktrees and checkouts need it)",
        )
    }
}

/// The default agent's program, and Claude Code's version.
fn check_agent_cli(agent: &AgentConfig) -> Check {
    if let Some(program) = config::missing_program(&agent.command) {
        let fix = if agent.is_claude {
            "install Claude Code (`npm install -g @anthropic-ai/claude-code`), or set `command` in .agentos/agents/default/agent.toml".to_string()
        } else {
            format!(
                "install `{program}`, or change `command` in .agentos/agents/default/agent.toml"
            )
        };
        return Check::fail("agent", format!("`{program}` is not found"), fix);
    }
    if !agent.is_claude {
        return Check::ok("agent", format!("`{}` (not Claude Code)", agent.command));
    }
    let program = agent.command.split_whitespace().next().unwrap_or("claude");
    if agent.command_shared {
        // A repository's program runs only as an agent does, in the sandbox:
        // never here, where nothing confines it (a cloned repository could
        // name a script of its own).
        return Check::warn(
            "agent",
            format!(
                "`{program}`, named by the agent.toml git tracks: not run (doctor runs no \
                 program a repository names)"
            ),
            "to have doctor check it, set `command` in .agentos/agents/default/local.toml \
             (yours; git does not track it) or AGENTOS_AGENT_CMD",
        );
    }
    match version_of(program) {
        Some(version) => Check::ok("agent", format!("{version} at {program}")),
        None => Check::fail(
            "agent",
            format!("`{program} --version` did not answer"),
            "reinstall Claude Code (`npm install -g @anthropic-ai/claude-code`)",
        ),
    }
}

/// `PROGRAM --version`, waited for 10 s at most.
fn version_of(program: &str) -> Option<String> {
    let mut child = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok()?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The kernel's Landlock, and whether some agent would be refused without it.
fn check_sandbox(ws: &Workspace, support: &Support, override_cmd: Option<&str>) -> Check {
    if let Support::Available { abi } = support {
        return Check::ok(
            "sandbox",
            format!(
                "Landlock ABI {abi}: agents and verify commands write only inside their worktree"
            ),
        );
    }
    let why = match support {
        Support::Unavailable { why } => why.clone(),
        Support::Available { .. } => String::new(),
    };
    let mut refused = Vec::new();
    for name in agent_names(ws) {
        if let Ok(agent) = config::load(&ws.tree, &name, override_cmd) {
            let off = agent.sandbox.mode == config::SandboxMode::Off;
            if !off && agent.runs_commands(false).is_some() {
                refused.push(name);
            }
        }
    }
    if refused.is_empty() {
        Check::warn(
            "sandbox",
            format!("no Landlock ({why}); every agent here is limited to file tools or runs unsandboxed on purpose"),
            sandbox::HOW_TO_GET_IT,
        )
    } else {
        Check::fail(
            "sandbox",
            format!(
                "no Landlock ({why}): agents that can run commands will not start: {}",
                refused.join(", ")
            ),
            format!("{}; or limit their tools to file tools, or set `sandbox = \"off\"` in their local.toml", sandbox::HOW_TO_GET_IT),
        )
    }
}

/// `default` and every agent folder.
fn agent_names(ws: &Workspace) -> Vec<String> {
    let mut names = vec!["default".to_string()];
    if let Ok(dir) = std::fs::read_dir(ws.tree.agents_dir()) {
        for entry in dir.flatten().filter(|e| e.path().is_dir()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names.sort();
    names
}

/// The remote branches are pushed to, whether it is on GitHub, and the token.
fn check_remote_and_token(ws: &Workspace) -> Vec<Check> {
    let config = crate::config::load(&ws.tree).unwrap_or_default();
    let remote = config.remote();
    let env = crate::forge::ForgeEnv::from_env();
    let github = env.github_repo(&ws.repo, &config, &remote);
    let remote_check = match (ws.repo.remote_url(&remote), &github) {
        (None, _) => Check::warn(
            "remote",
            format!("no remote `{remote}`: a verified task's branch stays local"),
            format!("`git remote add {remote} URL` to push task branches and open pull requests"),
        ),
        (Some(url), Some(gh)) => Check::ok(
            "remote",
            format!("`{remote}` {}, on GitHub as {}/{}", crate::forge::redact(&url), gh.owner, gh.name),
        ),
        (Some(url), None) => Check::warn(
            "remote",
            format!("`{remote}` {}, not on GitHub: branches are pushed, no pull requests are opened", crate::forge::redact(&url)),
            "set AGENTOS_GITHUB_REPO=owner/name or `[github] repo` in .agentos/config.toml if it is GitHub",
        ),
    };
    let name = crate::secrets::TOKEN_VARS
        .iter()
        .find(|n| crate::secrets::var(n).is_some_and(|v| !v.is_empty()));
    let held = crate::secrets::held_by_ancestor();
    let token_check = match (name, &github) {
        (Some(_), _) if held.is_some() => {
            let (pid, process) = held.unwrap_or_default();
            Check::warn(
                "token",
                crate::secrets::ancestor_warning(pid, &process),
                "run `GITHUB_TOKEN=… git-agentos …` from a shell that does not export it",
            )
        }
        (Some(name), _) => Check::ok("token", format!("set ({name}; its value is never shown)")),
        (None, Some(gh)) => Check::fail(
            "token",
            format!("neither GITHUB_TOKEN nor GH_TOKEN is set: no pull request can be opened on {}/{}", gh.owner, gh.name),
            "export GITHUB_TOKEN with the contents (write) and pull requests (write) permissions, or run with --no-pr",
        ),
        (None, None) => Check::ok("token", "not set, and not needed without a GitHub repository"),
    };
    vec![remote_check, token_check]
}

fn check_hook(ws: &Workspace) -> Check {
    match crate::hooks::status(&ws.repo) {
        Ok(s) if s.installed.is_some() && !s.executable => Check::fail(
            "hook",
            format!(
                "installed in {} but not executable: git will not run it",
                s.path.display()
            ),
            format!("chmod +x {}", s.path.display()),
        ),
        Ok(s) if s.installed.is_some() => {
            Check::ok("hook", format!("installed in {}", s.path.display()))
        }
        Ok(_) => Check::ok(
            "hook",
            "not installed (optional: `git agentos hooks install` queues work from commits)",
        ),
        Err(e) => Check::warn("hook", e.to_string(), "see `git agentos hooks status`"),
    }
}

/// Free space where worktrees go, against what one checkout takes.
fn check_disk(ws: &Workspace) -> Check {
    let at = if ws.tree.worktrees_dir().is_dir() {
        ws.tree.worktrees_dir()
    } else {
        ws.tree.repo_root.clone()
    };
    let Ok(stat) = nix::sys::statvfs::statvfs(&at) else {
        return Check::warn(
            "disk",
            format!("cannot read the free space of {}", at.display()),
            "check the file system",
        );
    };
    let free = stat.blocks_available().saturating_mul(stat.fragment_size());
    let checkout = ws.repo.checkout_size();
    let found = format!(
        "{} free for worktrees (a checkout takes {})",
        size(free),
        size(checkout)
    );
    if free < checkout.saturating_mul(2).max(64 << 20) {
        Check::fail(
            "disk",
            found,
            "free some space: each running task checks the repository out once",
        )
    } else if free < checkout.saturating_mul(10).max(1 << 30) {
        Check::warn(
            "disk",
            found,
            "free some space before running several tasks at once",
        )
    } else {
        Check::ok("disk", found)
    }
}

fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Every path under `.agentos/` is git agentos's own (issue #15's rules, in
/// [`crate::queue::check_state_paths`]): no link in its runtime state, shared
/// settings that stay inside the repository. Each problem is named, with its fix.
pub fn check_state_paths(ws: &Workspace) -> Check {
    let problems = crate::queue::check_state_paths(&ws.tree);
    if problems.is_empty() {
        return Check::ok("state", ".agentos/ holds only its own folders and files");
    }
    let found: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let fix = match problems.as_slice() {
        [one] => one.fix.clone(),
        _ => "git agentos follows no link in its own state and keeps only its own folders and \
              files there: remove or move each path named (`git rm --cached` the committed \
              ones), then run `git agentos init`"
            .to_string(),
    };
    Check::fail("state", found.join("; "), fix)
}
