//! Waiting for work without polling: a file-system watcher on todo/ that wakes
//! the dispatcher's bus, and the grace a file just dropped into todo/ gets before
//! it is judged invalid (it may still be being written).
use super::bus::Msg;
use super::error::DispatchError;
use crate::clock::Timestamp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// A file in todo/ younger than this is not rejected yet.
pub const YOUNG: Duration = Duration::from_secs(1);

/// A notify watcher on todo/ that wakes the bus.
pub fn watch_todo(
    todo: &Path,
    tx: Sender<Msg>,
) -> Result<notify::RecommendedWatcher, DispatchError> {
    // Only changes can bring work. Access events (our own scans open the
    // folder) would otherwise wake us in a loop.
    watch(
        todo,
        notify::RecursiveMode::Recursive,
        "the queue",
        tx,
        |_| true,
    )
}

/// A notify watcher on review/ that wakes the bus when `cancel` leaves its
/// marker there (the passes' own writes in review/ do not wake it).
pub fn watch_review(
    review: &Path,
    tx: Sender<Msg>,
) -> Result<notify::RecommendedWatcher, DispatchError> {
    watch(
        review,
        notify::RecursiveMode::Recursive,
        "review/",
        tx,
        |e| {
            matches!(e.kind, notify::EventKind::Create(_))
                && e.paths
                    .iter()
                    .any(|p| p.extension().is_some_and(|x| x == "cancel"))
        },
    )
}

/// A notify watcher on one file (`name` in `dir`, which is watched without its
/// subfolders) that wakes the bus when the file changes: the pause, so that
/// `git agentos resume` wakes a paused `watch`.
pub fn watch_file(
    dir: &Path,
    name: &'static str,
    tx: Sender<Msg>,
) -> Result<notify::RecommendedWatcher, DispatchError> {
    watch(
        dir,
        notify::RecursiveMode::NonRecursive,
        name,
        tx,
        move |e| {
            e.paths
                .iter()
                .any(|p| p.file_name().is_some_and(|n| n == name))
        },
    )
}

/// A watcher on `path` that wakes the bus on every change `wanted` accepts
/// (access events never; an error, e.g. the kernel's queue overflowed, always).
pub fn watch(
    path: &Path,
    mode: notify::RecursiveMode,
    what: &str,
    tx: Sender<Msg>,
    wanted: impl Fn(&notify::Event) -> bool + Send + 'static,
) -> Result<notify::RecommendedWatcher, DispatchError> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let relevant = match event {
            Ok(e) => !matches!(e.kind, notify::EventKind::Access(_)) && wanted(&e),
            Err(_) => true,
        };
        if relevant {
            let _ = tx.send(Msg::QueueChanged);
        }
    })
    .map_err(|e| DispatchError::Watch {
        what: what.into(),
        message: e.to_string(),
    })?;
    watcher
        .watch(path, mode)
        .map_err(|e| DispatchError::Watch {
            what: path.display().to_string(),
            message: e.to_string(),
        })?;
    Ok(watcher)
}

/// The grace of young invalid files. A file is young while the clock (which
/// `AGENTOS_NOW` may pin) says it was modified less than [`YOUNG`] ago, and at
/// most for [`YOUNG`] of real time after the dispatcher first saw it, so a
/// pinned clock can never make it wait for ever.
#[derive(Default)]
pub struct Grace {
    first_seen: HashMap<PathBuf, Instant>,
}

impl Grace {
    /// How much longer `path` is young, or None when it may be judged now.
    pub fn remaining(&mut self, path: &Path, now: Instant) -> Option<Duration> {
        let modified = std::fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .ok()?;
        // A modification time in the future counts as old, as it always has.
        let age = crate::clock::now().since(Timestamp::from_system_time(modified))?;
        let by_clock = YOUNG.checked_sub(age).filter(|d| !d.is_zero())?;
        let first = *self.first_seen.entry(path.to_path_buf()).or_insert(now);
        let by_real_time = YOUNG.checked_sub(now.duration_since(first))?;
        Some(by_clock.min(by_real_time))
    }

    /// Forget the files that are no longer waiting.
    pub fn keep_only(&mut self, paths: &[&Path]) {
        self.first_seen.retain(|p, _| paths.contains(&p.as_path()));
    }
}
