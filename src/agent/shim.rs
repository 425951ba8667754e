//! The shim between the dispatcher and the agent (`git-agentos agent-shim CMD…`):
//! a separate process that leads the agent's process group and takes it down
//! when the dispatcher dies. Being its own process, it reports on its own stderr.
use super::process::unblock_signals_in_child;
use nix::sys::signal::{killpg, Signal};
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The shim between the dispatcher and the agent (`git-agentos agent-shim CMD…`).
///
/// The dispatcher starts it as the leader of a new process group. It asks the
/// kernel for SIGTERM when its parent (the dispatcher) dies, runs the agent as its
/// child in the same group, and on SIGTERM, SIGINT or SIGHUP ends the whole group:
/// SIGTERM, a grace period, then SIGKILL. So an agent and everything it started
/// never outlive the dispatcher's claim.
pub fn shim_main(args: Vec<OsString>, grace: Duration) -> i32 {
    use nix::sys::signal::SigSet;
    let Some((program, rest)) = args.split_first() else {
        eprintln!("agent-shim: no command given");
        return 2;
    };
    let mut signals = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        signals.add(s);
    }
    // Block before any thread exists so the waiting thread below receives them;
    // the agent child starts with an empty mask (std resets it).
    if let Err(e) = signals.thread_block() {
        eprintln!("agent-shim: cannot block signals: {e}");
        return 2;
    }
    let expected_parent = std::env::var("AGENTOS_DISPATCHER_PID")
        .ok()
        .and_then(|p| p.parse::<i32>().ok());
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    let own_group = nix::unistd::getpgrp();
    if let Some(parent) = expected_parent {
        if nix::unistd::getppid().as_raw() != parent {
            // The dispatcher died before the death signal was armed.
            return 137;
        }
    }
    let terminating = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = terminating.clone();
    let ender = std::thread::spawn(move || {
        if signals.wait().is_ok() {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = killpg(own_group, Signal::SIGTERM);
            std::thread::sleep(grace);
            let _ = killpg(own_group, Signal::SIGKILL);
        }
    });
    let mut cmd = Command::new(program);
    cmd.args(rest);
    unblock_signals_in_child(&mut cmd);
    let status = match cmd.status() {
        Ok(status) => status,
        Err(e) => {
            eprintln!(
                "agent-shim: cannot start `{}`: {e}",
                Path::new(program).display()
            );
            return 127;
        }
    };
    if terminating.load(std::sync::atomic::Ordering::SeqCst) {
        // The group is being ended: stay until the SIGKILL ends us with it, so that
        // nothing the agent left behind survives its dispatcher.
        let _ = ender.join();
    }
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    }
}
