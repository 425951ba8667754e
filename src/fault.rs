//! Named fault points, a testing aid: with `AGENTOS_FAULT=<point>` the dispatcher
//! sends itself `SIGKILL` at that point, exactly as `kill -9` would, leaving
//! everything on disk as a crash does. Points, in a task's order: `after-claim`,
//! `after-worktree`, `agent-started`, `after-agent`, `mid-commit` (the commit
//! made, not yet journalled), `after-commit`, `after-verify`, `after-push`,
//! `after-pr`, `before-finish`; in review, the round's points (`round-…`) and
//! a stacked branch's move (`restack-rebased`, `restack-pushed`); and
//! `pool-slot-checked-out`, a worktree prepared while idle, not yet in the pool.
//! `AGENTOS_HOLD=<point>:<file>` instead makes the point wait (creating
//! `<file>.held` on arrival) until `<file>` exists, for a test to act then.

/// Kill the process here if `AGENTOS_FAULT` names this point.
pub fn point(name: &str) {
    if std::env::var("AGENTOS_FAULT").is_ok_and(|v| v == name) {
        eprintln!("AGENTOS_FAULT: killed at `{name}`");
        let _ = nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGKILL);
        std::process::abort();
    }
}

/// Wait here while `AGENTOS_HOLD` (`<point>:<file>`) names this point and
/// `<file>` does not exist; `<file>.held` is created on arrival.
pub fn hold(name: &str) {
    let Ok(hold) = std::env::var("AGENTOS_HOLD") else {
        return;
    };
    let Some((point, file)) = hold.split_once(':') else {
        return;
    };
    if point != name {
        return;
    }
    let _ = std::fs::write(format!("{file}.held"), b"");
    while std::fs::symlink_metadata(file).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
