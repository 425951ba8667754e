//! Live updates without polling: file-system events (notify: inotify on Linux)
//! on each repository's state folders, its friction log and dispatcher lock (in
//! its git folder, watched without recursion for that one file), the
//! run folders of its running tasks and the fleet folder, turned into a
//! generation counter that the pages' event streams wait on. Nothing here wakes
//! up unless a file changed: no timers, so an idle board costs no CPU. Reads
//! (the board's own included) are access events, which are ignored.
use super::repos::{self, Repo};
use super::Board;
use crate::queue::{self, State, Tree};
use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// What changed, counted: a page re-renders the parts whose count moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generation {
    /// A task moved, a record or reason changed, a dispatcher came or went.
    pub state: u64,
    /// A friction log grew.
    pub friction: u64,
    /// A running task's stream or run folder changed.
    pub streams: u64,
    /// The fleet folder changed (repositories came or went).
    pub fleet: u64,
}

impl Generation {
    /// `1.0.4.0`, for a page's address.
    pub fn code(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.state, self.friction, self.streams, self.fleet
        )
    }
}

/// What one event touched.
#[derive(Debug, Default, PartialEq, Eq)]
struct Touched {
    state: bool,
    friction: bool,
    streams: bool,
    /// A run folder appeared: start watching it when its task runs.
    run_folders: bool,
    fleet: bool,
}

/// A channel whose receivers see every change, and the sender the hub bumps.
pub fn channel() -> (watch::Sender<Generation>, watch::Receiver<Generation>) {
    watch::channel(Generation::default())
}

/// Start watching on the current runtime. Fails only when no watcher can be made.
pub fn start(board: Arc<Board>, bump: watch::Sender<Generation>) -> notify::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })?;
    let mut hub = Hub {
        board,
        watcher,
        repos: BTreeMap::new(),
        locks: BTreeSet::new(),
        runs: BTreeSet::new(),
    };
    hub.watch_fleet();
    hub.sync_repos();
    hub.sync_runs();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut touched = Touched::default();
            hub.classify(first, &mut touched);
            while let Ok(more) = rx.try_recv() {
                hub.classify(more, &mut touched);
            }
            if touched.fleet {
                hub.reload_fleet();
                hub.sync_repos();
            }
            if touched.state || touched.run_folders || touched.fleet {
                hub.sync_runs();
            }
            if touched != Touched::default() {
                bump.send_modify(|g| {
                    g.state += u64::from(touched.state);
                    g.friction += u64::from(touched.friction);
                    g.streams += u64::from(touched.streams || touched.run_folders);
                    g.fleet += u64::from(touched.fleet);
                });
            }
        }
    });
    Ok(())
}

/// Owns the watcher and what it watches.
struct Hub {
    board: Arc<Board>,
    watcher: RecommendedWatcher,
    /// Each repository watched, by its `.agentos/` folder.
    repos: BTreeMap<PathBuf, Tree>,
    /// Their dispatcher locks (each in its repository's git folder).
    locks: BTreeSet<PathBuf>,
    /// The run folders of running tasks watched.
    runs: BTreeSet<PathBuf>,
}

impl Hub {
    fn watch(&mut self, path: &Path, mode: RecursiveMode) {
        if let Err(e) = self.watcher.watch(path, mode) {
            tracing::warn!("board: cannot watch {}: {e}", path.display());
        }
    }

    fn watch_fleet(&mut self) {
        if let Some(dir) = self.board.fleet.clone() {
            if dir.is_dir() {
                self.watch(&dir, RecursiveMode::NonRecursive);
            }
        }
    }

    fn reload_fleet(&mut self) {
        if let Some(dir) = &self.board.fleet {
            let repos = repos::fleet(dir);
            if let Ok(mut current) = self.board.repos.write() {
                *current = repos;
            }
        }
    }

    /// Watch every repository's `.agentos/`, state folders and runs/; stop
    /// watching those that left the fleet.
    fn sync_repos(&mut self) {
        let trees: Vec<Tree> = self
            .board
            .repos()
            .into_iter()
            .filter_map(|r: Repo| r.tree.ok())
            .collect();
        let wanted: BTreeSet<PathBuf> = trees.iter().map(|t| t.dir.clone()).collect();
        let gone: Vec<Tree> = self
            .repos
            .iter()
            .filter(|(dir, _)| !wanted.contains(*dir))
            .map(|(_, tree)| tree.clone())
            .collect();
        for tree in gone {
            for (path, _) in folders(&tree) {
                let _ = self.watcher.unwatch(&path);
            }
            self.locks.remove(&tree.lock_path());
            self.repos.remove(&tree.dir);
        }
        for tree in trees {
            if self.repos.contains_key(&tree.dir) {
                continue;
            }
            for (path, mode) in folders(&tree) {
                if path.is_dir() {
                    self.watch(&path, mode);
                }
            }
            self.locks.insert(tree.lock_path());
            self.repos.insert(tree.dir.clone(), tree);
        }
    }

    /// Watch the run folder of every running task, and only those.
    fn sync_runs(&mut self) {
        let mut wanted = BTreeSet::new();
        for tree in self.repos.values() {
            for entry in queue::entries(tree, State::Doing).unwrap_or_default() {
                if let Some(dir) = super::files::real_dir(&tree.runs_dir(), &[&entry.id]) {
                    wanted.insert(dir);
                }
            }
        }
        let stale: Vec<PathBuf> = self.runs.difference(&wanted).cloned().collect();
        for dir in stale {
            let _ = self.watcher.unwatch(&dir);
            self.runs.remove(&dir);
        }
        let fresh: Vec<PathBuf> = wanted.difference(&self.runs).cloned().collect();
        for dir in fresh {
            self.watch(&dir, RecursiveMode::Recursive);
            self.runs.insert(dir);
        }
    }

    /// What an event means for the pages.
    fn classify(&self, event: notify::Result<notify::Event>, touched: &mut Touched) {
        let event = match event {
            Ok(event) => event,
            // The kernel's queue overflowed, or the like: assume everything changed.
            Err(_) => {
                *touched = Touched {
                    state: true,
                    friction: true,
                    streams: true,
                    run_folders: true,
                    fleet: self.board.fleet.is_some(),
                };
                return;
            }
        };
        let closed_after_writing = matches!(
            event.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
        );
        if matches!(event.kind, EventKind::Access(_)) && !closed_after_writing {
            return;
        }
        for path in &event.paths {
            if self.locks.contains(path) {
                // A dispatcher came (it wrote its record) or went (it closed it).
                touched.state = true;
                continue;
            }
            if let Some(fleet) = &self.board.fleet {
                if path.parent() == Some(fleet.as_path()) {
                    touched.fleet = true;
                    continue;
                }
            }
            let Some(tree) = self.repos.values().find(|t| path.starts_with(&t.dir)) else {
                continue;
            };
            classify_path(tree, path, closed_after_writing, touched);
        }
    }
}

/// The folders of one repository that the board watches, and how.
fn folders(tree: &Tree) -> Vec<(PathBuf, RecursiveMode)> {
    let mut out = vec![(tree.dir.clone(), RecursiveMode::NonRecursive)];
    for state in State::ALL {
        let mode = if state == State::Todo {
            RecursiveMode::Recursive // agent subfolders
        } else {
            RecursiveMode::NonRecursive
        };
        out.push((tree.state_dir(state), mode));
    }
    out.push((tree.runs_dir(), RecursiveMode::NonRecursive));
    if let Some(git_dir) = tree.lock_path().parent() {
        // For the lock alone: the other files there are not classified.
        out.push((git_dir.to_path_buf(), RecursiveMode::NonRecursive));
    }
    out
}

fn classify_path(tree: &Tree, path: &Path, closed_after_writing: bool, touched: &mut Touched) {
    let Ok(rel) = path.strip_prefix(&tree.dir) else {
        return;
    };
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    let name = parts.last().copied().unwrap_or("");
    if name.starts_with(".tmp-") {
        return; // a write in progress; its rename follows
    }
    match parts.as_slice() {
        ["friction.jsonl"] if !closed_after_writing => touched.friction = true,
        [first, ..] if State::ALL.iter().any(|s| s.name() == *first) => {
            touched.state |= !closed_after_writing;
        }
        ["runs", _] => touched.run_folders |= path.is_dir(),
        ["runs", _, _, ..] => touched.streams |= !closed_after_writing,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_say_what_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        tree.ensure_runtime().expect("runtime");
        std::fs::create_dir_all(tree.runs_dir().join("t/attempt-1")).expect("mkdir");
        let touched = |rel: &str, closed: bool| {
            let mut t = Touched::default();
            classify_path(&tree, &tree.dir.join(rel), closed, &mut t);
            t
        };
        assert!(touched("todo/a.md", false).state);
        assert!(touched("todo/docs/a.md", false).state);
        assert!(touched("doing/a.record.json", false).state);
        assert_eq!(touched("doing/.tmp-x1y2", false), Touched::default());
        assert!(touched("friction.jsonl", false).friction);
        assert_eq!(
            touched("todo.index", false),
            Touched::default(),
            "the board's own scans"
        );
        assert!(touched("runs/t", false).run_folders);
        assert_eq!(touched("runs/dispatcher.log", false), Touched::default());
        assert!(touched("runs/t/attempt-1/agent.jsonl", false).streams);
    }
}
