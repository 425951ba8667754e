//! `watch --fleet`: one dispatcher for every repository of the fleet. It waits
//! on one bus, woken by each member's todo/, review/ and pause, by the fleet
//! folder (a repository linked while it runs is served) and by the lock of a
//! member another dispatcher holds (taken up when that one ends): never
//! polling. Among the tasks ready in all members it starts the one of highest
//! priority, then of the repository served least recently, so that one busy
//! repository cannot starve the others; one at a time, or with `--jobs N` up
//! to N at once (in one repository only under its non-overlap rule).
//! Everything within a repository is its own [`Dispatcher`]'s, as with `watch`.
use super::folder;
use super::serve::{self, Served, Slot};
use crate::dispatch::bus::{Bus, Msg};
use crate::dispatch::lock::DispatcherLock;
use crate::dispatch::signals::Signals;
use crate::dispatch::wait;
use crate::dispatch::{
    follow, resume, spawn_worker, DispatchError, Options, Summary, RESCAN_FIRST, RESCAN_MAX,
};
use crate::progress::Progress;
use crate::queue::Ready;
use crate::task::targets::may_overlap;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// Serve the fleet in `dir` until a signal stops it. The summary names each
/// task as `repository/task`.
pub fn watch(dir: &Path, opts: Options) -> Result<Summary, DispatchError> {
    let signals = Signals::start().map_err(DispatchError::Signals)?;
    let bus = Bus::new();
    let tx = bus.tx.clone();
    signals.subscribe(move |sig| tx.send(Msg::Signal(sig)).is_ok());
    let _folder = serve::folder_watcher(dir, bus.tx.clone())?;
    let mut fleet = Fleet {
        dir,
        opts,
        signals,
        bus,
        slots: BTreeMap::new(),
        said: BTreeMap::new(),
        tick: 0,
        running: 0,
        summary: Summary::default(),
        progress: Progress::new(),
    };
    let fresh = fleet.refresh();
    // Tests (and people) wait for this line: from here on, a file dropped into
    // any member's todo/, or a link into the fleet folder, is seen.
    fleet.progress.line(&format!(
        "watching {} of {} fleet repositories ({}) for new tasks",
        fleet.served().count(),
        fleet.slots.len(),
        dir.display()
    ));
    tracing::info!(fleet = %dir.display(), "watching");
    fleet.resume(fresh);
    fleet.run();
    crate::notify::wait_all();
    Ok(fleet.into_summary())
}

struct Fleet<'p> {
    dir: &'p Path,
    opts: Options,
    signals: Signals,
    bus: Bus,
    slots: BTreeMap<String, Slot>,
    /// What was last said about each member, so each change is said once.
    said: BTreeMap<String, String>,
    /// Tasks started so far: a member's `last_served` is the count when its
    /// last one started.
    tick: u64,
    /// Tasks running on threads of their own.
    running: usize,
    summary: Summary,
    progress: Progress,
}

impl Fleet<'_> {
    fn served(&self) -> impl Iterator<Item = (&String, &Served)> {
        self.slots.iter().filter_map(|(n, s)| match s {
            Slot::Served(s) => Some((n, s.as_ref())),
            _ => None,
        })
    }

    fn served_mut(&mut self, name: &str) -> Option<&mut Served> {
        match self.slots.get_mut(name) {
            Some(Slot::Served(s)) => Some(s.as_mut()),
            _ => None,
        }
    }

    /// Say `text` about member `name`, unless it was the last thing said.
    fn say(&mut self, name: &str, text: String) {
        if self.said.get(name) != Some(&text) {
            self.progress.line(&format!("[{name}] {text}"));
            tracing::info!(repository = name, "{text}");
            self.said.insert(name.to_string(), text);
        }
    }

    /// Read the fleet folder again: take up new links, and members whose lock
    /// freed or whose problem may be gone; let go of links removed (once their
    /// running tasks end). The names taken up now.
    fn refresh(&mut self) -> Vec<String> {
        let members = folder::members(self.dir);
        let gone: Vec<String> = self
            .slots
            .iter()
            .filter(|(name, slot)| {
                !members.iter().any(|m| m.name == **name)
                    && !matches!(slot, Slot::Served(s) if !s.running.is_empty())
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.slots.remove(&name);
            self.say(&name, "no longer served: its link is gone".into());
        }
        let mut fresh = Vec::new();
        for member in &members {
            let target = folder::target(&member.origin);
            let keep = match (self.slots.get(&member.name), &member.tree) {
                (Some(Slot::Served(s)), _) => s.target == target || !s.running.is_empty(),
                (Some(Slot::Held { target: t, .. }), Ok(tree)) => {
                    *t == target && DispatcherLock::probe(tree).is_ok_and(|h| h.is_some())
                }
                _ => false,
            };
            if keep {
                continue;
            }
            let mut slot = serve::take(member, &self.opts, &self.signals, &self.bus.tx);
            // Freed between the try and the watcher on its lock: try again.
            if let (Slot::Held { .. }, Ok(tree)) = (&slot, &member.tree) {
                if DispatcherLock::probe(tree).is_ok_and(|h| h.is_none()) {
                    slot = serve::take(member, &self.opts, &self.signals, &self.bus.tx);
                }
            }
            let text = match &slot {
                Slot::Served(_) => {
                    fresh.push(member.name.clone());
                    format!("serving {}", target.display())
                }
                Slot::Held { holder, .. } => format!(
                    "skipped: another dispatcher holds its queue, {holder}; taken up when it ends"
                ),
                Slot::Broken(problem) => format!("not served: {problem}"),
            };
            self.say(&member.name, text);
            self.slots.insert(member.name.clone(), slot);
        }
        fresh
    }

    /// Resume what a dead dispatcher left in the doing/ of members just taken up.
    fn resume(&mut self, names: Vec<String>) {
        for name in names {
            let Some(s) = self.served_mut(&name) else {
                continue;
            };
            let resumed = resume::resume_orphans(&mut s.d);
            self.after(&name, resumed);
        }
    }

    /// A member whose dispatcher met an error is no longer served (the others
    /// go on); it is tried again at the next change.
    fn after<T>(&mut self, name: &str, result: Result<T, DispatchError>) -> Option<T> {
        if let Some(s) = self.served_mut(name) {
            if let Some(sig) = s.d.summary.interrupted {
                self.summary.interrupted = Some(sig);
            }
        }
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                let keep = self.served_mut(name).is_some_and(|s| !s.running.is_empty());
                self.say(name, format!("not served any more: {e}"));
                if !keep {
                    self.slots
                        .insert(name.to_string(), Slot::Broken(e.to_string()));
                }
                None
            }
        }
    }

    fn run(&mut self) {
        let mut rescan = RESCAN_FIRST;
        loop {
            self.drain();
            if self.summary.interrupted.is_some() {
                if self.running == 0 {
                    return;
                }
            } else {
                self.follow_all();
                if self.summary.interrupted.is_none() && self.start_one() {
                    rescan = RESCAN_FIRST;
                    continue;
                }
            }
            let timeout = self.next_wake(rescan);
            match self.bus.rx.recv_timeout(timeout) {
                Ok(msg) => {
                    rescan = RESCAN_FIRST;
                    let mut burst = wait::Burst::after(&msg);
                    let mut changed = self.handle(msg);
                    // Take in the rest of a burst of events (a file being written).
                    while let Some(msg) = burst.next(&self.bus.rx) {
                        changed |= self.handle(msg);
                    }
                    if changed {
                        let fresh = self.refresh();
                        self.resume(fresh);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let fresh = self.refresh();
                    self.resume(fresh);
                    rescan = (rescan * 2).min(RESCAN_MAX);
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Take in what arrived while a task ran; read the fleet again if anything changed.
    fn drain(&mut self) {
        let mut changed = false;
        while let Ok(msg) = self.bus.rx.try_recv() {
            changed |= self.handle(msg);
        }
        if changed {
            let fresh = self.refresh();
            self.resume(fresh);
        }
    }

    /// One message from the bus; true when the fleet itself changed (a link,
    /// or the lock of a member skipped), so its folder is read again. (A
    /// change in a member's queue needs nothing more: every turn scans them.)
    fn handle(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Signal(sig) => self.summary.interrupted = Some(sig),
            Msg::FleetChanged => return true,
            Msg::QueueChanged { .. } => {}
            Msg::Served { repo, id, result } => {
                self.running = self.running.saturating_sub(1);
                let Some(s) = self.served_mut(&repo) else {
                    return false;
                };
                s.running.retain(|(r, _)| *r != id);
                match result {
                    Ok(finished) => s.d.absorb(finished),
                    Err(error) => {
                        s.d.progress.line(&format!("{id}: {error}"));
                        s.d.summary.failed.push((id, error));
                    }
                }
                self.after(&repo, Ok(()));
            }
            Msg::WorkerDone { .. } => {}
        }
        false
    }

    /// The passes over open pull requests that are due, in every member.
    fn follow_all(&mut self) {
        let names: Vec<String> = self.served().map(|(n, _)| n.clone()).collect();
        for name in names {
            if let Some(s) = self.served_mut(&name) {
                let followed = follow::follow(&mut s.d, false, None);
                self.after(&name, followed);
            }
        }
    }

    /// Start the next task, if a slot is free and one is ready: true when one
    /// started (with one job, it ran to its end).
    fn start_one(&mut self) -> bool {
        let jobs = self.opts.jobs.max(1);
        if self.running >= jobs {
            return false;
        }
        let Some((name, ready)) = self.pick() else {
            return false;
        };
        self.tick += 1;
        let tick = self.tick;
        let Some(s) = self.served_mut(&name) else {
            return false;
        };
        s.last_served = tick;
        let targets = ready.task.targets.clone();
        let claimed = s.d.claim(ready);
        let Some(Some((entry, record))) = self.after(&name, claimed) else {
            return true;
        };
        let tx = self.bus.tx.clone();
        let Some(s) = self.served_mut(&name) else {
            return true;
        };
        if jobs == 1 {
            let finished = s.d.inline.process(entry, record);
            if let Some(finished) = self.after(&name, finished) {
                if let Some(s) = self.served_mut(&name) {
                    s.d.absorb(finished);
                }
                self.after(&name, Ok(()));
            }
            return true;
        }
        let (repo, id) = (name.clone(), entry.id.clone());
        s.running.push((id.clone(), targets));
        let report = move |result| Msg::Served { repo, id, result };
        let spawned = spawn_worker(&s.d, entry, record, tx, report);
        if self.after(&name, spawned).is_some() {
            self.running += 1;
        }
        true
    }

    /// The task to start: of the tasks each member could start now (the first
    /// in its dispatch order whose targets overlap none of its running ones),
    /// the one of highest priority, then of the member served least recently.
    fn pick(&mut self) -> Option<(String, Ready)> {
        let names: Vec<String> = self.served().map(|(n, _)| n.clone()).collect();
        let mut best: Option<(String, Ready, u64)> = None;
        for name in names {
            let Some(s) = self.served_mut(&name) else {
                continue;
            };
            if s.d.summary.halted.is_some() || s.d.paused().is_some() {
                continue;
            }
            let scanned = s.d.scan();
            let Some(ready) = self.after(&name, scanned) else {
                continue;
            };
            let Some(s) = self.served_mut(&name) else {
                continue;
            };
            let free = ready.into_iter().find(|r| {
                !s.running
                    .iter()
                    .any(|(_, t)| may_overlap(t, &r.task.targets))
            });
            let Some(ready) = free else {
                continue;
            };
            let better = best.as_ref().is_none_or(|(_, b, last)| {
                (ready.task.priority, std::cmp::Reverse(s.last_served))
                    > (b.task.priority, std::cmp::Reverse(*last))
            });
            if better {
                best = Some((name, ready, s.last_served));
            }
        }
        best.map(|(name, ready, _)| (name, ready))
    }

    /// How long to wait at most: until the next pass over a pull request, the
    /// end of a pause, a young file's grace, or the safety rescan.
    fn next_wake(&mut self, rescan: Duration) -> Duration {
        let now = Instant::now();
        let names: Vec<String> = self.served().map(|(n, _)| n.clone()).collect();
        let mut wake = rescan;
        for name in names {
            let Some(s) = self.served_mut(&name) else {
                continue;
            };
            if let Some(due) = follow::next_due(&s.d) {
                wake = wake.min(due);
            }
            if let Some(at) = s.d.recheck {
                wake = wake.min(at.saturating_duration_since(now));
            }
            if let Some(pause) = s.d.paused() {
                let left = pause.until.since(crate::clock::now()).unwrap_or_default();
                wake = wake.min(left.max(Duration::from_millis(10)));
            }
        }
        wake
    }

    /// What every member's dispatcher did, each task as `repository/task`.
    fn into_summary(self) -> Summary {
        let mut summary = self.summary;
        for (name, slot) in self.slots {
            let Slot::Served(s) = slot else {
                continue;
            };
            let d = s.d.summary;
            let named = |id: String| format!("{name}/{id}");
            summary.done.extend(d.done.into_iter().map(named));
            let pair = |(id, what): (String, String)| (format!("{name}/{id}"), what);
            summary.review.extend(d.review.into_iter().map(pair));
            summary.failed.extend(d.failed.into_iter().map(pair));
            summary.paused.extend(d.paused.into_iter().map(pair));
        }
        summary
    }
}
