//! Running one notifier: in its own process group, the event on stdin, no
//! secret in its environment, in the background. A watchdog kills the group
//! when it runs past [`LIMIT`], and what it left running when it ends; a notifier that fails, hangs or cannot start is
//! friction (`notifier-failed`, `notifier-timeout`). Nothing waits for a
//! notifier but [`wait_all`], which a dispatcher calls once as it ends, so
//! that none outlives its limit unwatched.
use crate::queue::Tree;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a notifier may run.
pub const LIMIT: Duration = Duration::from_secs(10);

/// The watchdogs of the notifiers still running.
static RUNNING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Start `path` for `event` with `json` on stdin, watched by a thread of its own.
pub fn start(tree: &Tree, event: &'static str, path: PathBuf, json: String) {
    let tree = tree.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("notifier {event}"))
        .spawn(move || {
            if let Err(problem) = supervise(&tree, &path, json) {
                tracing::warn!(event, notifier = %path.display(), "{problem}");
                let kind = if problem.contains("did not finish") {
                    "notifier-timeout"
                } else {
                    "notifier-failed"
                };
                let message = format!("{event} notifier {}: {problem}", path.display());
                crate::friction::note(&tree, crate::friction::Event::new(kind, "", &message));
            }
        });
    match spawned {
        Ok(handle) => {
            if let Ok(mut running) = RUNNING.lock() {
                running.retain(|h| !h.is_finished());
                running.push(handle);
            }
        }
        Err(e) => tracing::warn!(event, "cannot start a notifier's thread: {e}"),
    }
}

/// Wait for the notifiers still running (each for at most its limit).
pub fn wait_all() {
    let handles: Vec<JoinHandle<()>> = match RUNNING.lock() {
        Ok(mut running) => running.drain(..).collect(),
        Err(_) => return,
    };
    for handle in handles {
        let _ = handle.join();
    }
}

/// Run the notifier to its end or its limit: what went wrong, if anything.
fn supervise(tree: &Tree, path: &std::path::Path, json: String) -> Result<(), String> {
    let mut cmd = Command::new(path);
    cmd.current_dir(&tree.repo_root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    // Never a token, nor anything that reaches one.
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str() {
            if crate::agent::env::is_secret(name) || crate::secrets::TOKEN_VARS.contains(&name) {
                cmd.env_remove(name);
            }
        }
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let pid = child.id() as i32;
    let mut stdin = child.stdin.take();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        // A notifier that does not read its stdin does not stop the watchdog.
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(json.as_bytes());
        }
        drop(stdin);
        // Once the notifier has ended (seen without reaping it, so its group
        // cannot be taken by another process yet), whatever it left running in
        // its group goes too: a notifier's work ends with it.
        use nix::sys::wait::{waitid, Id, WaitPidFlag};
        let leader = nix::unistd::Pid::from_raw(pid);
        if waitid(Id::Pid(leader), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT).is_ok() {
            let _ = nix::sys::signal::killpg(leader, nix::sys::signal::Signal::SIGKILL);
        }
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("it failed ({status})")),
        Ok(Err(e)) => Err(format!("cannot wait for it: {e}")),
        Err(RecvTimeoutError::Timeout) => {
            if let Ok(ended) = rx.try_recv() {
                return ended
                    .map_err(|e| e.to_string())
                    .and_then(|s| s.success().then_some(()).ok_or(format!("it failed ({s})")));
            }
            // Not reaped (its waiter has not returned), so the group is its own.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = rx.recv();
            Err(format!(
                "it did not finish in {} s, so it was killed",
                LIMIT.as_secs()
            ))
        }
        Err(RecvTimeoutError::Disconnected) => Err("its waiter stopped".into()),
    }
}
