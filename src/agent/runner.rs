//! Running one agent: spawn it in its own process group (under the shim), stream its
//! output to runs/, confirm the handoff, enforce the deadlines, judge the outcome.
use super::caps::{self, Meter};
use super::config::{AgentConfig, Output};
use super::lines::{self, judge, plain_hint};
use super::process;
use super::spawn::{shim_command, Confinement};
use super::stream::{self, AgentResult, Event};
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// One agent run's inputs.
pub struct Launch<'a> {
    pub config: &'a AgentConfig,
    pub task_id: &'a str,
    pub task_file: &'a Path,
    /// The repository's top folder (notes the agent adds say they came from it).
    pub repo_root: &'a Path,
    pub worktree: &'a Path,
    /// runs/<id>/attempt-<n>/prompt.md: Claude Code reads it on stdin (a
    /// prompt of any valid size; one argument is capped at 128 KiB).
    pub prompt_file: &'a Path,
    /// runs/<id>/attempt-<n>/
    pub run_dir: &'a Path,
    pub timeout: Duration,
    /// The agent runs inside the write boundary, and what it may write.
    pub confinement: Confinement,
    /// Set on top of the scrubbed environment (the attempt's private folder).
    pub env: &'a [(String, OsString)],
}

/// What reaches a running agent's runner: its output and exit, tagged with the
/// run they belong to (a late message of an earlier run is ignored), and the
/// dispatcher's signals.
#[derive(Debug)]
pub enum AgentMsg {
    /// A line the agent of run `run` wrote to stdout; `cut`: how many bytes
    /// over [`lines::MAX_LINE_BYTES`](super::lines::MAX_LINE_BYTES) were dropped.
    Line { run: u64, line: String, cut: u64 },
    /// The agent's stdout closed.
    Eof { run: u64 },
    /// The agent process (the shim) exited.
    Exit {
        run: u64,
        status: std::process::ExitStatus,
    },
    /// SIGINT or SIGTERM reached the dispatcher.
    Signal(i32),
}

/// Starts agents and waits for their outcome: [`ProcessLauncher`] runs the real
/// process; the dispatcher's tests use a fake.
pub trait Launcher {
    fn launch(&mut self, launch: &Launch, observer: &mut dyn Observer) -> Outcome;
}

/// The real launcher: each agent a process under the shim, its output and the
/// dispatcher's signals heard on one channel.
pub struct ProcessLauncher {
    tx: Sender<AgentMsg>,
    rx: Receiver<AgentMsg>,
    runs: u64,
}

impl ProcessLauncher {
    /// A launcher, and the sender the dispatcher's signals are forwarded to.
    pub fn new() -> (ProcessLauncher, Sender<AgentMsg>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let signals = tx.clone();
        (ProcessLauncher { tx, rx, runs: 0 }, signals)
    }
}

impl Launcher for ProcessLauncher {
    fn launch(&mut self, launch: &Launch, observer: &mut dyn Observer) -> Outcome {
        self.runs += 1;
        run(launch, self.runs, &self.tx, &self.rx, observer)
    }
}

/// How an agent run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded(AgentResult),
    Failed {
        reason: String,
        result: Option<AgentResult>,
    },
    /// The dispatcher was asked to stop (signal number).
    Interrupted(i32),
}

/// What the runner reports while the agent works.
pub trait Observer {
    /// The agent process group exists (record it before anything else).
    fn spawned(&mut self, pgid: i32);
    /// The agent confirmed it is on the task.
    fn started(&mut self, session_id: Option<&str>);
    /// A tool call, for progress and for the verifier.
    fn action(&mut self, summary: &str, writes: Option<&str>);
    /// What a tool answered (scanned for writes the sandbox refused).
    fn tool_result(&mut self, _text: &str) {}
    /// The agent printed nothing for this long (a long idle stretch).
    fn silent(&mut self, _for: Duration) {}
}

/// A silence longer than this is friction worth recording.
pub const LONG_SILENCE: Duration = Duration::from_secs(300);

/// How long the group gets between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(3);

/// Claude Code's flags for a task, sandboxed or not: see [`command_line`].
pub const CLAUDE_LOCKDOWN: [&str; 5] = [
    "--setting-sources",
    "user",
    "--strict-mcp-config",
    "--settings",
    r#"{"disableAllHooks":true}"#,
];

/// This task's `--mcp-config`: a grant of the memory server the dispatcher
/// runs (memory/http.rs), written to the run folder readable by its owner only.
/// Dropped when the agent's run ends: the file is removed, then the secret in
/// it revoked.
struct McpConfig {
    path: PathBuf,
    _grant: crate::memory::http::Grant,
}

impl Drop for McpConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Grant this task the memory server and write its `--mcp-config`.
fn write_mcp_config(launch: &Launch) -> Option<McpConfig> {
    if !launch.config.memory {
        return None;
    }
    let vault = crate::memory::vault_dir().ok()?;
    let task = Some((launch.task_id.to_string(), launch.task_file.to_path_buf()));
    let server =
        crate::memory::mcp::MemoryServer::new(vault, task, Some(launch.repo_root.to_path_buf()));
    let grant = match crate::memory::http::grant(server) {
        Ok(grant) => grant,
        Err(e) => {
            tracing::warn!(task = launch.task_id, error = %e, "no memory server for this task");
            return None;
        }
    };
    let path = launch.run_dir.join("mcp.json");
    let written = crate::durable::write_fast(&path, grant.config_json().as_bytes());
    if let Err(e) = written {
        tracing::warn!(task = launch.task_id, path = %path.display(), error = %e, "cannot write the MCP config");
        return None;
    }
    Some(McpConfig {
        path,
        _grant: grant,
    })
}

fn command_line(launch: &Launch, mcp: Option<&Path>) -> (String, Vec<String>) {
    let cfg = launch.config;
    let mut extra: Vec<String> = Vec::new();
    if cfg.is_claude {
        // The prompt comes on stdin.
        extra.extend([
            "-p".into(),
            "--output-format".into(),
            "stream-json".into(),
            "--verbose".into(),
        ]);
        extra.extend(["--permission-mode".into(), cfg.permission_mode.clone()]);
        // Nothing the repository ships runs as Claude Code's own code: only the
        // person's user settings are read (not the worktree's .claude/settings
        // files), every hook is off (a hook is a shell command Claude Code runs
        // itself, outside any tool, and without Landlock outside any sandbox),
        // and the only MCP server is ours (not the person's, started with their
        // secrets, nor a repository's .mcp.json).
        extra.extend(CLAUDE_LOCKDOWN.map(String::from));
        let sandboxed = launch.confinement.sandbox;
        let mut tools = cfg.tools(sandboxed);
        if !sandboxed && cfg.runs_commands(false).is_none() {
            // File tools only, as the plan assumed: not even a Bash allowed
            // by the person's own Claude Code settings.
            extra.extend(["--disallowedTools".into(), "Bash,BashOutput".into()]);
        }
        if let Some(path) = mcp {
            extra.extend(["--mcp-config".into(), path.display().to_string()]);
            // Every tool of the memory server, without asking.
            tools.push(format!("mcp__{}", crate::memory::mcp::SERVER_NAME));
        }
        if !tools.is_empty() {
            extra.push("--allowedTools".into());
            extra.push(tools.join(","));
        }
        if let Some(model) = &cfg.model {
            extra.extend(["--model".into(), model.clone()]);
        }
        extra.extend(caps::claude_flags(cfg));
    }
    // `sh -c 'exec CMD "$@"'` keeps the user's quoting and appends our arguments.
    (format!("exec {} \"$@\"", cfg.command), extra)
}

/// `sh -c 'exec CMD "$@"' agentos-agent ARGS…`.
fn program(script: &str, extra: &[String]) -> Vec<OsString> {
    ["sh", "-c", script, "agentos-agent"]
        .into_iter()
        .map(OsString::from)
        .chain(extra.iter().map(OsString::from))
        .collect()
}

/// What the agent is told on top of the scrubbed environment.
fn agent_env(launch: &Launch, mcp: Option<PathBuf>) -> Vec<(String, OsString)> {
    let mut env: Vec<(String, OsString)> = vec![
        ("AGENTOS_TASK_ID".into(), launch.task_id.into()),
        ("AGENTOS_TASK_FILE".into(), launch.task_file.into()),
        ("AGENTOS_WORKTREE".into(), launch.worktree.into()),
        ("AGENTOS_PROMPT_FILE".into(), launch.prompt_file.into()),
    ];
    if let Some(path) = mcp {
        env.push(("AGENTOS_MCP_CONFIG".into(), path.into()));
    }
    env.extend(launch.env.iter().cloned());
    env
}

/// Run the agent to completion, a failure, a deadline or a signal. Messages for
/// run number `run` arrive on `rx`; `tx` is handed to the reader threads.
fn run(
    launch: &Launch,
    run: u64,
    tx: &Sender<AgentMsg>,
    rx: &Receiver<AgentMsg>,
    observer: &mut dyn Observer,
) -> Outcome {
    let fail = |reason: String| Outcome::Failed {
        reason,
        result: None,
    };
    let stream_path = launch.run_dir.join("agent.jsonl");
    let stderr_path = launch.run_dir.join("agent.stderr");
    let (mut stream_log, stderr_file) =
        match (File::create(&stream_path), File::create(&stderr_path)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                return fail(format!(
                    "cannot create the agent's logs in {}: {e}",
                    launch.run_dir.display()
                ))
            }
        };
    // Lives until this function returns: the agent's run.
    let mcp = write_mcp_config(launch);
    let mcp_path = mcp.as_ref().map(|m| m.path.clone());
    let (script, extra) = command_line(launch, mcp_path.as_deref());
    let stdin = if launch.config.is_claude {
        match File::open(launch.prompt_file) {
            Ok(file) => Stdio::from(file),
            Err(e) => {
                return fail(format!(
                    "cannot open the prompt {}: {e}",
                    launch.prompt_file.display()
                ))
            }
        }
    } else {
        Stdio::null()
    };
    let mut cmd = shim_command(
        &launch.confinement,
        &program(&script, &extra),
        super::env::build(
            &launch.config.sandbox.pass_env,
            &agent_env(launch, mcp_path),
        ),
        launch.worktree,
    );
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr_file));
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return fail(format!(
                "cannot start the agent `{}`: {e}",
                launch.config.command
            ))
        }
    };
    let pgid = child.id() as i32;
    observer.spawned(pgid);
    let queued = lines::Queued::default();
    if let Some(stdout) = child.stdout.take() {
        let (tx, queued) = (tx.clone(), queued.clone());
        let _ = std::thread::Builder::new()
            .name("agent-stdout".into())
            .spawn(move || lines::send_lines(stdout, run, &tx, &queued));
    }
    {
        let tx = tx.clone();
        let _ = std::thread::Builder::new()
            .name("agent-wait".into())
            .spawn(move || {
                if let Ok(status) = child.wait() {
                    let _ = tx.send(AgentMsg::Exit { run, status });
                }
            });
    }

    let plain = launch.config.output == Output::Plain;
    let began = Instant::now();
    let total_deadline = began + launch.timeout;
    let start_deadline = began + launch.config.start_timeout;
    let mut started = plain;
    if plain {
        observer.started(None);
    }
    let mut result: Option<AgentResult> = None;
    let mut exit: Option<std::process::ExitStatus> = None;
    let mut eof = false;
    // After the process exits, give its output a moment to drain (a grandchild may
    // hold stdout open); then judge without it.
    let mut drain_deadline: Option<Instant> = None;
    let mut last_line = Instant::now();
    let mut meter = Meter::for_agent(launch.config);
    let outcome = loop {
        if exit.is_some() && eof {
            break None;
        }
        let mut deadline = if started {
            total_deadline
        } else {
            start_deadline.min(total_deadline)
        };
        if let Some(d) = drain_deadline {
            deadline = deadline.min(d);
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(AgentMsg::Line { run: r, line, cut }) if r == run => {
                queued.taken(line.len());
                let note = match cut {
                    0 => String::new(),
                    n => format!(" [git agentos: the line went on for {n} more bytes, dropped]"),
                };
                if let Err(e) = writeln!(stream_log, "{line}{note}") {
                    // A full disk (or a file-size limit) must end the task with a
                    // reason, not lose the stream silently.
                    break Some(fail(format!(
                        "cannot write the agent's stream to {}: {e} (is the disk full?)",
                        stream_path.display()
                    )));
                }
                let gap = last_line.elapsed();
                last_line = Instant::now();
                if gap >= LONG_SILENCE {
                    observer.silent(gap);
                }
                if plain {
                    continue;
                }
                if cut > 0 {
                    break Some(fail(format!(
                        "the agent wrote an output line over {} bytes (the rest, {cut} bytes, was dropped; see {})",
                        lines::MAX_LINE_BYTES,
                        stream_path.display()
                    )));
                }
                if let Some((stop, so_far)) = meter.as_mut().and_then(|m| m.observe(&line)) {
                    result = Some(so_far);
                    break Some(fail(stop));
                }
                match stream::parse_line(&line) {
                    Err(stream::NotAnEvent(text)) => {
                        break Some(fail(format!(
                            "the agent's output is not Claude Code stream-json: `{text}` (see {}){}",
                            stream_path.display(),
                            plain_hint(launch.config)
                        )));
                    }
                    Ok(Event::Init { session_id, .. }) => {
                        started = true;
                        observer.started(session_id.as_deref());
                    }
                    Ok(Event::Action { summary, writes }) => {
                        observer.action(&summary, writes.as_deref())
                    }
                    Ok(Event::ToolResult { text }) => observer.tool_result(&text),
                    Ok(Event::Result(r)) => result = Some(r),
                    Ok(Event::Other) => {}
                }
            }
            Ok(AgentMsg::Eof { run: r }) if r == run => eof = true,
            Ok(AgentMsg::Exit { run: r, status }) if r == run => {
                exit = Some(status);
                drain_deadline = Some(Instant::now() + Duration::from_secs(2));
            }
            Ok(AgentMsg::Signal(sig)) => break Some(Outcome::Interrupted(sig)),
            Ok(_) => {} // stale messages of an earlier run
            Err(RecvTimeoutError::Timeout) => {
                if exit.is_some() {
                    break None; // exited; output still held open by a leftover process
                }
                if !started {
                    break Some(fail(format!(
                        "agent never started: no system/init event within {} (see {})",
                        crate::task::human(launch.config.start_timeout.min(launch.timeout)),
                        stderr_path.display()
                    )));
                }
                break Some(fail(format!(
                    "agent timed out after {}",
                    crate::task::human(launch.timeout)
                )));
            }
            Err(RecvTimeoutError::Disconnected) => {
                break Some(fail("the dispatcher's event channel closed".into()))
            }
        }
    };
    queued.close();
    // Whatever happened, nothing of this agent keeps running.
    if exit.is_none() {
        process::terminate_group(pgid, GRACE);
    }
    process::kill_group(pgid);
    if let Some(outcome) = outcome {
        return match outcome {
            Outcome::Failed { reason, .. } => Outcome::Failed { reason, result },
            other => other,
        };
    }
    judge(launch.config, started, result, exit, &stderr_path)
}
