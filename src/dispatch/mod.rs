//! The dispatcher: exactly one per repository (lock.rs), it resumes what a dead
//! dispatcher left in doing/ (resume.rs), then claims tasks in dispatch order
//! and hands each to a worker (scheduler.rs, worker.rs) that walks it through the
//! pipeline's steps. `watch` also follows the open pull requests of the tasks in
//! review/ (follow.rs: passes when due, revision rounds), and waits for
//! file-system events or the next pass between tasks, never polling (wait.rs,
//! bus.rs, signals.rs). `sync` makes one pass over them and exits. cancel.rs
//! stops a task from outside. The fleet (`crate::fleet`) serves several
//! repositories with one [`Dispatcher`] each, under one bus: it uses the same
//! parts (the lock, the watchers, the scan, the claim, the worker, the passes).
pub mod bus;
pub mod cancel;
mod dispatcher;
mod error;
pub mod follow;
pub mod lock;
pub mod resume;
mod scheduler;
pub mod signals;
pub mod wait;
pub mod worker;

pub use dispatcher::{new_worker, Dispatcher, Options, Summary, Ws};
pub use error::DispatchError;
pub use resume::MAX_ATTEMPTS;
pub use scheduler::{spawn_worker, RESCAN_FIRST, RESCAN_MAX};

use crate::queue::State;
use crate::workspace::Workspace;
use lock::{DispatcherLock, LockError};

/// Take the lock (for `command`, which `status` shows).
pub fn lock(ws: &Workspace, command: &str) -> Result<DispatcherLock, DispatchError> {
    match DispatcherLock::acquire(&ws.tree, command) {
        Ok(lock) => Ok(lock),
        Err(LockError::Held(holder)) => Err(DispatchError::LockHeld {
            root: ws.tree.repo_root.clone(),
            holder: holder.map_or_else(|| "another process".into(), |h| h.to_string()),
        }),
        Err(LockError::Io(e)) => {
            Err(crate::path_error::PathError::new("lock", &ws.tree.lock_path(), e).into())
        }
    }
}

/// Take the lock and process the queue (see [`Options`]).
pub fn run(ws: &Workspace, opts: Options) -> Result<Summary, DispatchError> {
    let signals = signals::Signals::start().map_err(DispatchError::Signals)?;
    ws.ensure_runtime()?;
    let lock = lock(ws, if opts.watch { "watch" } else { "run" })?;
    let jobs = opts.jobs;
    let mut d = Dispatcher::new(ws, opts, signals, lock)?;
    let _watchers = if d.opts.watch {
        let todo = ws.tree.state_dir(State::Todo);
        let watcher = wait::watch_todo(&todo, d.bus.tx.clone())?;
        let review = wait::watch_review(&ws.tree.state_dir(State::Review), d.bus.tx.clone())?;
        let pause = wait::watch_file(
            &ws.tree.runs_dir(),
            crate::schedule::pause::FILE,
            d.bus.tx.clone(),
        )?;
        crate::pipeline::worktree::prepare_while_idle(ws);
        // Tests (and people) wait for this line: from here on, a file dropped
        // into todo/ is seen.
        d.progress
            .line(&format!("watching {}/ for new tasks", ws.rel(&todo)));
        tracing::info!(todo = %todo.display(), "watching");
        Some((watcher, review, pause))
    } else {
        None
    };
    resume::resume_orphans(&mut d)?;
    if jobs > 1 {
        scheduler::run_parallel(&mut d, jobs)?;
    } else {
        scheduler::run_sequential(&mut d)?;
    }
    crate::notify::wait_all();
    Ok(d.summary)
}

/// `sync`: take the lock and make one pass over the open pull request of every
/// task in review/ (or only `only`) now, running the rounds they start and
/// resuming any a dead dispatcher left half done; then stop.
pub fn sync(ws: &Workspace, only: Option<&str>, keep: bool) -> Result<Summary, DispatchError> {
    let signals = signals::Signals::start().map_err(DispatchError::Signals)?;
    ws.ensure_runtime()?;
    let lock = lock(ws, "sync")?;
    let opts = Options {
        keep,
        ..Options::default()
    };
    let mut d = Dispatcher::new(ws, opts, signals, lock)?;
    follow::follow(&mut d, true, only)?;
    Ok(d.summary)
}
