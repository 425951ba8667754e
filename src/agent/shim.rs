//! The shim between the dispatcher and an agent or verify command
//! (`git-agentos agent-shim [--sandbox --write PATH…] -- CMD…`): a separate
//! process that leads the command's process group, confines it, and makes sure
//! that nothing it started outlives it. Being its own process, it reports on its
//! own stderr.
use super::process::{descendants, unblock_signals_in_child};
use super::sandbox;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The exit code when the sandbox cannot be set up (the command never ran).
pub const SANDBOX_FAILED: i32 = 125;

/// How the shim runs its command.
#[derive(Debug, Clone)]
pub struct ShimOptions {
    /// Confine the command with Landlock (the shim itself stays outside).
    pub sandbox: bool,
    /// What the command may write, when confined.
    pub writable: Vec<PathBuf>,
    /// The dispatcher that started the shim (given on the command line, not in
    /// the environment the command inherits).
    pub parent: Option<i32>,
    /// How long the command's processes get between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// Run `args` to its end, and end everything it started.
///
/// The dispatcher starts the shim as the leader of a new process group. The shim
/// asks the kernel for SIGTERM when its parent (the dispatcher) dies and becomes
/// a child subreaper, so a process that leaves the group (`setsid`, a double
/// fork) is still re-parented to it. It starts the command inside the sandbox,
/// and when the command exits, or SIGTERM, SIGINT or SIGHUP arrives (the
/// dispatcher's timeout, cancel, or death), it ends every process left below
/// it — SIGTERM, the grace period, then SIGKILL — before it exits itself. So
/// when the dispatcher sees the shim exit, no process of the task is left to
/// write into a worktree that is committed or recycled next.
pub fn shim_main(options: ShimOptions, args: Vec<OsString>) -> i32 {
    let Some((program, rest)) = args.split_first() else {
        eprintln!("agent-shim: no command given");
        return 2;
    };
    let mut signals = SigSet::empty();
    for s in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGCHLD,
    ] {
        signals.add(s);
    }
    // Blocked, they wait for `sigwait` below; the command starts with an empty
    // mask (unblock_signals_in_child).
    if let Err(e) = signals.thread_block() {
        eprintln!("agent-shim: cannot block signals: {e}");
        return 2;
    }
    let expected_parent = options.parent;
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    if let Some(parent) = expected_parent {
        if nix::unistd::getppid().as_raw() != parent {
            // The dispatcher died before the death signal was armed.
            return 137;
        }
    }
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        eprintln!("agent-shim: cannot become a child subreaper: {e}");
        return SANDBOX_FAILED;
    }
    let mut cmd = Command::new(program);
    cmd.args(rest);
    // The token reaches the shim only when agent.toml's `pass_env` asked for it
    // (the dispatcher scrubs it otherwise); the shim took it out of its own
    // environment at start like every git-agentos process, so it hands it on.
    cmd.envs(crate::secrets::for_child());
    unblock_signals_in_child(&mut cmd);
    new_session_in_child(&mut cmd);
    if options.sandbox {
        for path in sandbox::missing(&options.writable) {
            eprintln!(
                "agent-shim: {} does not exist: no sandbox rule for it",
                path.display()
            );
        }
        match sandbox::ruleset(&options.writable) {
            Ok(ruleset) => sandbox::confine(&mut cmd, ruleset),
            Err(e) => {
                eprintln!("agent-shim: cannot set up the sandbox: {e}");
                return SANDBOX_FAILED;
            }
        }
    }
    // One thread only, so the fork above is safe; the child is reaped below by
    // waitpid, not through this handle.
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!(
                "agent-shim: cannot start `{}`: {e}",
                Path::new(program).display()
            );
            return 127;
        }
    };
    let agent = Pid::from_raw(child.id() as i32);
    drop(child);
    let mut status = None;
    while status.is_none() {
        match signals.wait() {
            Ok(Signal::SIGCHLD) => status = reap(Some(agent)),
            Ok(signal) => {
                end_all(options.grace);
                return status.unwrap_or(128 + signal as i32);
            }
            Err(e) => {
                eprintln!("agent-shim: cannot wait for signals: {e}");
                end_all(options.grace);
                return 1;
            }
        }
    }
    // The command is done: whatever it left behind goes now.
    end_all(options.grace);
    status.unwrap_or(1)
}

/// Start the command in a session of its own, without a controlling terminal:
/// `/dev/tty` then names no terminal of the person's (no text written into it,
/// no input pushed into it with TIOCSTI). The shim still ends it: it is the
/// shim's child, whatever its group.
#[allow(unsafe_code)]
fn new_session_in_child(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and allocates nothing; the child is
    // not a group leader (it is in the shim's group), so it cannot fail.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
}

/// Reap every child that has exited; the exit code of `agent` if it was one
/// (128 + the signal when a signal ended it).
fn reap(agent: Option<Pid>) -> Option<i32> {
    reap_all(agent).0
}

/// [`reap`], and whether any child is left (none: nothing is left below the
/// shim at all, since every orphan below it is re-parented to it).
fn reap_all(agent: Option<Pid>) -> (Option<i32>, bool) {
    let mut code = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, c)) if Some(pid) == agent => code = Some(c),
            Ok(WaitStatus::Signaled(pid, sig, _)) if Some(pid) == agent => {
                code = Some(128 + sig as i32)
            }
            Ok(WaitStatus::StillAlive) => return (code, true),
            Err(_) => return (code, false),
            Ok(_) => {}
        }
    }
}

/// End every process below the shim: SIGTERM (and SIGCONT, for a stopped one),
/// up to `grace` for them to go, then SIGKILL until none is left.
fn end_all(grace: Duration) {
    if !reap_all(None).1 {
        return; // no child, so no descendant: no need to read /proc
    }
    let me = nix::unistd::getpid();
    let left = descendants(me.as_raw());
    if left.is_empty() {
        return;
    }
    for pid in &left {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGTERM);
        let _ = kill(Pid::from_raw(*pid), Signal::SIGCONT);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        reap(None);
        if descendants(me.as_raw()).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        reap(None);
        let left = descendants(me.as_raw());
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            eprintln!("agent-shim: processes {left:?} did not end after SIGKILL");
            return;
        }
        for pid in left {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
