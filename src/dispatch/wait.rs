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
        let settled = match event {
            Ok(e) => match kind_of(&e.kind) {
                Some(settled) if wanted(&e) => settled,
                _ => return,
            },
            Err(_) => true,
        };
        let _ = tx.send(Msg::QueueChanged { settled });
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

/// How long a burst of events that may leave a file half written (created,
/// written to or closed in place) is given to go quiet before the scan.
pub const SETTLE: Duration = Duration::from_millis(20);

/// Whether an event matters, and if so whether it leaves no file half written:
/// `Some(true)` for a file renamed into place or removed (scan at once),
/// `Some(false)` for one created, written to or closed after writing (a script
/// may open it again to append: `>` then `>>`), `None` for reads and other
/// accesses (our own scans open the folder; they would wake us in a loop).
fn kind_of(kind: &notify::EventKind) -> Option<bool> {
    use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Some(false),
        EventKind::Access(_) => None,
        EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any) => {
            Some(false)
        }
        _ => Some(true),
    }
}

/// True when a message may leave a file in todo/ half written.
fn unsettled(msg: &Msg) -> bool {
    matches!(msg, Msg::QueueChanged { settled: false })
}

/// A burst of events being taken in after its first message, by the dispatcher
/// and by the fleet alike: whether any of it so far may have left a file half
/// written (a rename that follows a file written in place does not finish it).
pub struct Burst {
    unsettled: bool,
}

impl Burst {
    /// The burst that `first` starts.
    pub fn after(first: &Msg) -> Burst {
        Burst {
            unsettled: unsettled(first),
        }
    }

    /// The next message of the burst: one already waiting at once; while the
    /// burst so far may leave a file half written, one arriving within
    /// [`SETTLE`]; else None (the burst is over: scan now, a finished file
    /// never waits).
    pub fn next(&mut self, rx: &std::sync::mpsc::Receiver<Msg>) -> Option<Msg> {
        let msg = match rx.try_recv() {
            Ok(msg) => msg,
            Err(_) if self.unsettled => rx.recv_timeout(SETTLE).ok()?,
            Err(_) => return None,
        };
        self.unsettled |= unsettled(&msg);
        Some(msg)
    }
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

#[cfg(test)]
mod burst_tests {
    use super::*;
    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, EventKind, ModifyKind};
    use notify::event::{RemoveKind, RenameMode};

    #[test]
    fn a_file_renamed_in_is_scanned_at_once_and_one_written_in_place_waits_for_quiet() {
        let close_write = EventKind::Access(AccessKind::Close(AccessMode::Write));
        let renamed_in = EventKind::Modify(ModifyKind::Name(RenameMode::To));
        let removed = EventKind::Remove(RemoveKind::File);
        let created = EventKind::Create(CreateKind::File);
        let written = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        let read = EventKind::Access(AccessKind::Open(AccessMode::Read));
        assert_eq!(kind_of(&close_write), Some(false), "it may be opened again");
        assert_eq!(kind_of(&renamed_in), Some(true));
        assert_eq!(kind_of(&removed), Some(true));
        assert_eq!(kind_of(&created), Some(false));
        assert_eq!(kind_of(&written), Some(false));
        assert_eq!(kind_of(&read), None, "our own scans never wake us");

        // A burst: what is already waiting is taken at once; after settled
        // events nothing is waited for; once one may leave a file half written
        // (even if a settled one follows), a quiet SETTLE ends it.
        let (tx, rx) = std::sync::mpsc::channel();
        let settled = Msg::QueueChanged { settled: true };
        let mut burst = Burst::after(&settled);
        assert!(burst.next(&rx).is_none(), "settled: no wait");
        tx.send(Msg::QueueChanged { settled: false }).expect("send");
        tx.send(Msg::QueueChanged { settled: true }).expect("send");
        let mut burst = Burst::after(&settled);
        assert!(burst.next(&rx).is_some_and(|m| unsettled(&m)));
        assert!(burst.next(&rx).is_some_and(|m| !unsettled(&m)));
        assert!(
            burst.unsettled,
            "a rename after a write in place does not end the wait"
        );
        assert!(burst.next(&rx).is_none(), "quiet: the burst is over");
        drop(tx);
    }
}
