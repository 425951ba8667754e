//! Named fault points, a testing aid: with `AGENTOS_FAULT=<point>` the dispatcher
//! sends itself `SIGKILL` at that point, exactly as `kill -9` would, leaving
//! everything on disk as a crash does. Points, in a task's order: `after-claim`,
//! `after-worktree`, `agent-started`, `after-agent`, `mid-commit` (the commit
//! made, not yet journalled), `after-commit`, `after-verify`, `after-push`,
//! `after-pr`, `before-finish`; in review, the round's points (`round-…`) and
//! a stacked branch's move (`restack-rebased`, `restack-pushed`).

/// Kill the process here if `AGENTOS_FAULT` names this point.
pub fn point(name: &str) {
    if std::env::var("AGENTOS_FAULT").is_ok_and(|v| v == name) {
        eprintln!("AGENTOS_FAULT: killed at `{name}`");
        let _ = nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGKILL);
        std::process::abort();
    }
}
