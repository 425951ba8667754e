//! Named fault points, a testing aid: with `AGENTOS_FAULT=<point>` the dispatcher
//! aborts at that point as if it were killed (`kill -9`), leaving everything on
//! disk exactly as a crash would. Points: `after-claim`, `after-worktree`,
//! `agent-started`, `after-agent`, `mid-commit` (the commit made, not yet
//! journalled), `after-commit`, `before-finish`.

/// Abort the process here if `AGENTOS_FAULT` names this point.
pub fn point(name: &str) {
    if std::env::var("AGENTOS_FAULT").is_ok_and(|v| v == name) {
        eprintln!("AGENTOS_FAULT: aborting at `{name}`");
        std::process::abort();
    }
}
