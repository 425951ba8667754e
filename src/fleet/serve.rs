//! One member of a serving fleet: its dispatcher (which holds the repository's
//! lock, as `git agentos watch --fleet`, for as long as the fleet serves it) and
//! the watchers that wake the fleet's one bus when its todo/, review/ or pause
//! changes; or why it is not served: its lock is another dispatcher's (then a
//! watcher on the lock file wakes the fleet when that one ends), or it cannot
//! be served at all (a dangling link, not a repository).
use super::folder::Member;
use crate::dispatch::bus::Msg;
use crate::dispatch::lock::{DispatcherLock, LockError};
use crate::dispatch::signals::Signals;
use crate::dispatch::{wait, DispatchError, Dispatcher, Options};
use crate::queue::{State, Tree};
use crate::workspace::Workspace;
use notify::RecommendedWatcher;
use std::path::PathBuf;
use std::sync::mpsc::Sender;

/// What the fleet's dispatcher holds in a repository's lock file.
pub const COMMAND: &str = "watch --fleet";

/// A repository the fleet serves.
pub struct Served {
    pub d: Dispatcher<'static>,
    /// Where its link pointed when the fleet took it up.
    pub target: PathBuf,
    /// When a task of it was last started (the fleet's own count; 0: never).
    pub last_served: u64,
    /// Tasks of it running on threads of their own, and their targets.
    pub running: Vec<(String, Vec<String>)>,
    _watchers: Vec<RecommendedWatcher>,
}

/// A member of the fleet, as the fleet's dispatcher sees it.
pub enum Slot {
    Served(Box<Served>),
    /// Another dispatcher holds its lock (who, as its record says).
    Held {
        holder: String,
        target: PathBuf,
        _watcher: Option<RecommendedWatcher>,
    },
    /// It cannot be served: why.
    Broken(String),
}

/// Take up `member`: its lock, its dispatcher, its watchers (on `tx`).
pub fn take(member: &Member, opts: &Options, signals: &Signals, tx: &Sender<Msg>) -> Slot {
    let target = super::folder::target(&member.origin);
    let tree = match &member.tree {
        Ok(tree) => tree.clone(),
        Err(problem) => return Slot::Broken(problem.clone()),
    };
    let ws = match Workspace::discover(&tree.repo_root) {
        Ok(ws) => ws,
        Err(e) => return Slot::Broken(e.to_string()),
    };
    let lock = match DispatcherLock::acquire(&ws.tree, COMMAND) {
        Ok(lock) => lock,
        Err(LockError::Held(holder)) => {
            let holder = holder.map_or_else(|| "another process".into(), |h| h.to_string());
            return Slot::Held {
                holder,
                target,
                _watcher: lock_watcher(&tree, tx.clone()),
            };
        }
        Err(LockError::Io(e)) => {
            return Slot::Broken(format!("cannot lock {}: {e}", tree.lock_path().display()))
        }
    };
    let opts = Options {
        label: Some(member.name.clone()),
        ..opts.clone()
    };
    match serve(ws, opts, signals, lock, tx) {
        Ok(served) => Slot::Served(Box::new(Served { target, ..served })),
        Err(e) => Slot::Broken(e.to_string()),
    }
}

fn serve(
    ws: Workspace,
    opts: Options,
    signals: &Signals,
    lock: DispatcherLock,
    tx: &Sender<Msg>,
) -> Result<Served, DispatchError> {
    let tree = ws.tree.clone();
    let d = Dispatcher::owning(ws, opts, signals.clone(), lock)?;
    let watchers = vec![
        wait::watch_todo(&tree.state_dir(State::Todo), tx.clone())?,
        wait::watch_review(&tree.state_dir(State::Review), tx.clone())?,
        wait::watch_file(&tree.runs_dir(), crate::schedule::pause::FILE, tx.clone())?,
    ];
    Ok(Served {
        d,
        target: PathBuf::new(),
        last_served: 0,
        running: Vec::new(),
        _watchers: watchers,
    })
}

/// A watcher on the fleet folder: a link made or removed wakes the bus.
pub fn folder_watcher(
    dir: &std::path::Path,
    tx: Sender<Msg>,
) -> Result<RecommendedWatcher, DispatchError> {
    use notify::Watcher;
    let watch_error = |e: notify::Error| DispatchError::Watch {
        what: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let wake = match event {
            Ok(e) => !matches!(e.kind, notify::EventKind::Access(_)),
            Err(_) => true,
        };
        if wake {
            let _ = tx.send(Msg::FleetChanged);
        }
    })
    .map_err(watch_error)?;
    watcher
        .watch(dir, notify::RecursiveMode::NonRecursive)
        .map_err(watch_error)?;
    Ok(watcher)
}

/// A watcher that wakes the bus when the holder of `tree`'s lock closes the
/// file (it ended: the kernel closes it, `kill -9` included). None when the
/// git folder cannot be watched (then the next change anywhere tries again).
fn lock_watcher(tree: &Tree, tx: Sender<Msg>) -> Option<RecommendedWatcher> {
    use notify::event::{AccessKind, AccessMode};
    use notify::{EventKind, Watcher};
    let lock = tree.lock_path();
    let dir = lock.parent()?.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let wake = match event {
            Ok(e) => {
                matches!(
                    e.kind,
                    EventKind::Access(AccessKind::Close(AccessMode::Write)) | EventKind::Remove(_)
                ) && e.paths.contains(&lock)
            }
            Err(_) => true,
        };
        if wake {
            let _ = tx.send(Msg::FleetChanged);
        }
    })
    .ok()?;
    watcher
        .watch(&dir, notify::RecursiveMode::NonRecursive)
        .ok()?;
    Some(watcher)
}
