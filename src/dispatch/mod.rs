//! The dispatcher: exactly one per repository (lock.rs), it resumes what a dead
//! dispatcher left in doing/ (resume.rs), then claims tasks in dispatch order
//! and hands each to a worker (scheduler.rs, worker.rs) that walks it through the
//! pipeline's steps. `watch` waits for file-system events between tasks and
//! never polls (wait.rs, bus.rs, signals.rs). cancel.rs stops a task from outside.
mod bus;
pub mod cancel;
mod dispatcher;
mod error;
pub mod lock;
mod resume;
mod scheduler;
mod signals;
mod wait;
pub mod worker;

pub use dispatcher::{Options, Summary};
pub use error::DispatchError;
pub use resume::MAX_ATTEMPTS;

use crate::queue::State;
use crate::workspace::Workspace;
use dispatcher::Dispatcher;
use lock::{DispatcherLock, LockError};

/// Take the lock and process the queue (see [`Options`]).
pub fn run(ws: &Workspace, opts: Options) -> Result<Summary, DispatchError> {
    let signals = signals::Signals::start().map_err(DispatchError::Signals)?;
    ws.ensure_runtime()?;
    let command = if opts.watch { "watch" } else { "run" };
    let lock = match DispatcherLock::acquire(&ws.tree, command) {
        Ok(lock) => lock,
        Err(LockError::Held(holder)) => {
            return Err(DispatchError::LockHeld {
                root: ws.tree.repo_root.clone(),
                holder: holder.map_or_else(|| "another process".into(), |h| h.to_string()),
            })
        }
        Err(LockError::Io(e)) => {
            return Err(crate::path_error::PathError::new("lock", &ws.tree.lock_path(), e).into())
        }
    };
    let jobs = opts.jobs;
    let mut d = Dispatcher::new(ws, opts, signals, lock)?;
    let _watcher = if d.opts.watch {
        let todo = ws.tree.state_dir(State::Todo);
        let watcher = wait::watch_todo(&todo, d.bus.tx.clone())?;
        let pause = wait::watch_file(
            &ws.tree.runs_dir(),
            crate::schedule::pause::FILE,
            d.bus.tx.clone(),
        )?;
        // Tests (and people) wait for this line: from here on, a file dropped
        // into todo/ is seen.
        d.progress
            .line(&format!("watching {}/ for new tasks", ws.rel(&todo)));
        tracing::info!(todo = %todo.display(), "watching");
        Some((watcher, pause))
    } else {
        None
    };
    resume::resume_orphans(&mut d)?;
    if jobs > 1 {
        scheduler::run_parallel(&mut d, jobs)?;
    } else {
        scheduler::run_sequential(&mut d)?;
    }
    Ok(d.summary)
}
