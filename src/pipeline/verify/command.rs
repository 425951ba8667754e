//! Rule (e): one `verify` command, run with `sh -c` in the worktree under the
//! shim (its own process group, inside the sandbox, nothing left running after
//! it, ended with the dispatcher), under a time limit (and stopped when its task
//! is cancelled), its output kept in a log.
use super::{CommandOutcome, Input};
use crate::agent::sandbox::{self, Plan};
use crate::agent::spawn::{shim_command, Confinement};
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// How the verify commands of one run are started.
pub(super) struct Started<'a> {
    pub confinement: &'a Confinement,
    /// The whole environment (scrubbed, with the private folder's variables).
    pub env: Vec<(OsString, OsString)>,
}

/// How long one verify command may run.
pub const VERIFY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// How often a running verify command looks whether its task was cancelled.
const CANCEL_CHECK: Duration = Duration::from_millis(100);

/// Run the task's verify commands, each inside the boundary of its agent; how
/// they ran, for the report. Where they may not run, each fails with the reason.
pub(super) fn run_all(input: &Input) -> (Vec<CommandOutcome>, String) {
    let plan = sandbox::plan_commands(input.agent, &sandbox::support());
    let not_run = |reason: &str| {
        input
            .task
            .verify
            .iter()
            .map(|command| CommandOutcome {
                command: command.clone(),
                passed: false,
                status: reason.to_string(),
                tail: String::new(),
            })
            .collect()
    };
    if let Plan::Refused { reason } = &plan {
        return (not_run(reason), plan.describe());
    }
    let boundary = match crate::pipeline::boundary::prepare(&crate::pipeline::boundary::Request {
        repo: input.repo,
        task_id: input.id,
        worktree: input.worktree,
        agent: &input.agent.name,
        settings: &input.agent.sandbox,
        plan: &plan,
        claude: false,
        vault: None,
    }) {
        Ok(boundary) => boundary,
        Err(e) => return (not_run(&format!("not run: {e}")), plan.describe()),
    };
    let mut set = boundary.env.clone();
    set.push(("AGENTOS_TASK_ID".into(), input.id.into()));
    set.push(("AGENTOS_WORKTREE".into(), input.worktree.into()));
    let started = Started {
        confinement: &boundary.confinement,
        env: crate::agent::env::build(&input.agent.sandbox.pass_env, &set),
    };
    let commands = input
        .task
        .verify
        .iter()
        .enumerate()
        .map(|(n, command)| {
            run_command(
                command,
                input.worktree,
                &input.log_dir.join(format!("verify-{}.log", n + 1)),
                input.stop,
                &started,
            )
        })
        .collect();
    for problem in boundary.attempt.finish() {
        tracing::warn!("{problem}");
    }
    (commands, plan.describe())
}

/// Run one verify command in the worktree under the timeout, or until `stop`
/// (the task was cancelled); keep its output.
pub(super) fn run_command(
    command: &str,
    worktree: &Path,
    log: &Path,
    stop: &dyn Fn() -> bool,
    how: &Started,
) -> CommandOutcome {
    let outcome = |passed: bool, status: String| {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        CommandOutcome {
            command: command.to_string(),
            passed,
            status,
            tail,
        }
    };
    let Ok(file) = std::fs::File::create(log) else {
        return outcome(
            false,
            format!("could not start: cannot create {}", log.display()),
        );
    };
    let Ok(err_file) = file.try_clone() else {
        return outcome(false, "could not start: cannot share its log".into());
    };
    let program = ["sh", "-c", command].map(OsString::from);
    let mut cmd = shim_command(how.confinement, &program, how.env.clone(), worktree);
    cmd.stdin(std::process::Stdio::null())
        .stdout(file)
        .stderr(err_file);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return outcome(false, format!("could not start: {e}")),
    };
    let pgid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let deadline = std::time::Instant::now() + VERIFY_TIMEOUT;
    let result = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left.min(CANCEL_CHECK)) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if stop() => break None,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => continue,
            other => break Some(other),
        }
    };
    if !matches!(result, Some(Ok(_))) {
        // The shim ends everything the command started, then exits.
        crate::agent::process::terminate_group(pgid, crate::agent::runner::GRACE);
    }
    crate::agent::process::kill_group(pgid);
    match result {
        None => outcome(false, "stopped: the task was cancelled".into()),
        Some(Ok(Ok(status))) if status.success() => outcome(true, "passed".into()),
        Some(Ok(Ok(status))) => outcome(false, format!("failed ({status})")),
        Some(Ok(Err(e))) => outcome(false, format!("could not be waited for: {e}")),
        Some(Err(_)) => outcome(
            false,
            format!("timed out after {}", crate::task::human(VERIFY_TIMEOUT)),
        ),
    }
}
