//! Rule (e): one `verify` command, run with `sh -c` in the worktree in its own
//! process group, under a time limit (and stopped when its task is cancelled),
//! its output kept in a log.
use super::CommandOutcome;
use std::path::Path;
use std::time::Duration;

/// How long one verify command may run.
pub const VERIFY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// How often a running verify command looks whether its task was cancelled.
const CANCEL_CHECK: Duration = Duration::from_millis(100);

/// Run one verify command in the worktree under the timeout, or until `stop`
/// (the task was cancelled); keep its output.
pub(super) fn run_command(
    command: &str,
    worktree: &Path,
    log: &Path,
    stop: &dyn Fn() -> bool,
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
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(worktree)
        .stdin(std::process::Stdio::null())
        .stdout(file)
        .stderr(err_file);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    crate::agent::process::unblock_signals_in_child(&mut cmd);
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
