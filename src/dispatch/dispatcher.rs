//! The dispatcher's state under the lock: the bus it waits on, the tasks it
//! claims (after checking their agent can start at all), the invalid files it
//! moves to failed/, and the summary of what it did.
use super::bus::{Bus, Msg};
use super::error::DispatchError;
use super::lock::DispatcherLock;
use super::signals::Signals;
use super::wait::Grace;
use super::worker::{Finished, Worker};
use crate::agent;
use crate::agent::runner::{AgentMsg, ProcessLauncher};
use crate::forge::LazyForge;
use crate::notify;
use crate::path_error::PathError;
use crate::pipeline::Settings;
use crate::progress::Progress;
use crate::queue::{self, Entry, Ready, Record, State};
use crate::schedule::pause::{self, Pause};
use crate::workspace::Workspace;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `run`, `watch` and `demo` ask of the dispatcher.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Process one task, then exit.
    pub once: bool,
    /// Keep each task's worktree after it finishes.
    pub keep: bool,
    /// Do not open pull requests.
    pub no_pr: bool,
    /// Wait for new work instead of exiting when the queue is empty.
    pub watch: bool,
    /// The agent command for every task (else `AGENTOS_AGENT_CMD`, agent.toml, `claude`).
    pub agent_command: Option<String>,
    /// How many tasks may run at once (never two whose targets may overlap); 0 or 1: one.
    pub jobs: usize,
    /// The repository's name in a fleet: the start of every line it shows.
    pub label: Option<String>,
}

/// What a dispatcher run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub done: Vec<String>,
    /// Tasks whose pull request is open, and what it waits for.
    pub review: Vec<(String, String)>,
    pub failed: Vec<(String, String)>,
    /// Stopped by this signal.
    pub interrupted: Option<i32>,
    /// Queued tasks held back by their dependencies at the last scan, and why.
    pub held: Vec<(String, String)>,
    /// Tasks a usage or rate limit sent back to todo/, and the pause it began.
    pub paused: Vec<(String, String)>,
    /// The pause in force when the dispatcher stopped (`paused until 03:00 (usage limit)`).
    pub pause: Option<String>,
    /// Why the dispatcher stopped claiming (its lock is gone, or the state leads
    /// outside the repository): the tasks it had claimed were finished first.
    pub halted: Option<DispatchError>,
}

/// The repository a dispatcher serves: the command's own workspace, or one
/// the fleet opened (and owns) for as long as it serves that repository.
pub enum Ws<'a> {
    Borrowed(&'a Workspace),
    Owned(Box<Workspace>),
}

impl std::ops::Deref for Ws<'_> {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        match self {
            Ws::Borrowed(ws) => ws,
            Ws::Owned(ws) => ws,
        }
    }
}

pub struct Dispatcher<'a> {
    pub ws: Ws<'a>,
    pub opts: Options,
    pub bus: Bus,
    pub signals: Signals,
    pub agent_override: Option<String>,
    pub settings: Arc<Settings>,
    pub forge: Arc<LazyForge>,
    pub progress: Progress,
    pub summary: Summary,
    /// When a young invalid file should be looked at again.
    pub recheck: Option<Instant>,
    grace: Grace,
    lock: DispatcherLock,
    /// Runs tasks in this thread (always for resumes; for everything with one job),
    /// and the passes and rounds over open pull requests.
    pub inline: Worker,
    /// The login of the token's user, once a pass asked GitHub.
    pub me: Option<String>,
    /// Whether the queue was paused at the last look (None: not looked yet):
    /// its changes are the `paused` and `resumed` notifications.
    was_paused: Option<bool>,
}

impl<'a> Dispatcher<'a> {
    pub fn new(
        ws: &'a Workspace,
        opts: Options,
        signals: Signals,
        lock: DispatcherLock,
    ) -> Result<Self, DispatchError> {
        Dispatcher::build(Ws::Borrowed(ws), opts, signals, lock)
    }

    /// A dispatcher that owns its workspace (the fleet's, one per repository).
    pub fn owning(
        ws: Workspace,
        opts: Options,
        signals: Signals,
        lock: DispatcherLock,
    ) -> Result<Dispatcher<'static>, DispatchError> {
        Dispatcher::build(Ws::Owned(Box::new(ws)), opts, signals, lock)
    }

    fn build(
        ws: Ws<'a>,
        opts: Options,
        signals: Signals,
        lock: DispatcherLock,
    ) -> Result<Self, DispatchError> {
        let bus = Bus::new();
        let tx = bus.tx.clone();
        signals.subscribe(move |sig| tx.send(Msg::Signal(sig)).is_ok());
        let agent_override = opts
            .agent_command
            .clone()
            .or_else(|| std::env::var("AGENTOS_AGENT_CMD").ok())
            .filter(|s| !s.trim().is_empty());
        let settings = Arc::new(Settings {
            keep: opts.keep,
            no_pr: opts.no_pr,
            forge_env: crate::forge::ForgeEnv::from_env(),
        });
        let forge = Arc::new(LazyForge::new());
        let progress = || Progress::new().labelled(opts.label.as_deref());
        let inline = new_worker(
            &ws.tree.repo_root,
            &signals,
            settings.clone(),
            forge.clone(),
            progress(),
            agent_override.clone(),
        )?;
        let progress = progress();
        Ok(Dispatcher {
            ws,
            opts,
            bus,
            signals,
            agent_override,
            settings,
            forge,
            progress,
            summary: Summary::default(),
            recheck: None,
            grace: Grace::default(),
            lock,
            inline,
            me: None,
            was_paused: None,
        })
    }

    /// True while this dispatcher may claim: it still holds its lock (the file
    /// was not deleted or replaced) and no path of the state leads outside the
    /// repository. Otherwise it halts: it claims nothing more and says why.
    pub fn may_claim(&mut self) -> bool {
        if self.summary.halted.is_some() {
            return false;
        }
        let halt = if !self.lock.still_held() {
            DispatchError::LockLost {
                path: self.lock.path().to_path_buf(),
            }
        } else if let Err(e) = self.ws.check_state_between_claims() {
            e.into()
        } else {
            return true;
        };
        self.halt(halt);
        false
    }

    /// True when the task's `runs/<id>/` folder, which its attempts and
    /// revision rounds write to, holds no link (between claims only the top of
    /// runs/ is read); otherwise the dispatcher halts, naming it.
    pub fn task_runs_safe(&mut self, id: &str) -> bool {
        match self.ws.check_task_runs(id) {
            Ok(()) => true,
            Err(e) => {
                self.halt(e.into());
                false
            }
        }
    }

    /// Stop claiming, saying why.
    fn halt(&mut self, halt: DispatchError) {
        self.progress.line(&format!("stopped claiming: {halt}"));
        tracing::warn!(%halt, "stopped claiming");
        self.summary.halted = Some(halt);
    }

    /// The runnable tasks in dispatch order. Invalid files are moved to failed/ on
    /// the way (young ones get a moment, in case they are still being written).
    pub fn scan(&mut self) -> Result<Vec<Ready>, DispatchError> {
        if !self.may_claim() {
            return Ok(Vec::new());
        }
        let tree = self.ws.tree.clone();
        let todo = tree.state_dir(State::Todo);
        let inspection = queue::inspect_todo(&tree).map_err(PathError::at("read", &todo))?;
        let now = Instant::now();
        let mut wait: Option<Duration> = None;
        for (entry, err) in &inspection.invalid {
            if let Some(left) = self.grace.remaining(&entry.path, now) {
                wait = Some(wait.map_or(left, |w| w.min(left)));
                continue;
            }
            self.quarantine(entry, &err.to_string());
        }
        let waiting: Vec<&std::path::Path> = inspection
            .invalid
            .iter()
            .map(|(e, _)| e.path.as_path())
            .collect();
        self.grace.keep_only(&waiting);
        self.recheck = wait.map(|w| now + w + Duration::from_millis(50));
        // Tasks a limit sent back go first; a cycle or an unknown id never
        // runs; waiting tasks wait.
        let ready = pause::front_first(&tree, inspection.ready, |r| r.entry.id.as_str());
        let queued: Vec<&str> = ready.iter().map(|r| r.entry.id.as_str()).collect();
        pause::prune_front(&tree, &queued);
        let gated =
            crate::schedule::gate(&tree, ready).map_err(PathError::at("read", &tree.dir))?;
        self.summary.held = gated
            .held
            .iter()
            .map(|(r, hold)| (r.entry.id.clone(), hold.describe()))
            .collect();
        for (ready, problem) in gated.invalid {
            let err = crate::task::TaskFileError {
                file: ready.entry.path.clone(),
                problem,
            };
            self.quarantine(&ready.entry, &err.to_string());
        }
        Ok(gated.runnable)
    }

    /// The queue's pause in force now, if any (noted in the summary).
    pub fn paused(&mut self) -> Option<Pause> {
        let now = crate::clock::now();
        let pause = pause::current(&self.ws.tree, now).or_else(|| {
            // The daily budget, from config.toml as it is now.
            let daily = crate::config::load(&self.ws.tree).ok()?.budget.daily_usd?;
            crate::schedule::spend::check_budget(&self.ws.tree, daily, now)
        });
        self.summary.pause = pause.as_ref().map(|p| p.describe(now));
        let was = self.was_paused.replace(pause.is_some());
        if was.is_some_and(|was| was != pause.is_some()) {
            let kind = if pause.is_some() {
                notify::Kind::Paused
            } else {
                notify::Kind::Resumed
            };
            let event = notify::Event::about_queue(
                &self.ws.tree,
                self.opts.label.as_deref(),
                kind,
                self.summary.pause.as_deref(),
            );
            notify::emit(&self.ws.tree, &event);
        }
        pause
    }

    /// Tell the notifiers of `kind` about task `id` (in the background).
    pub fn notify_task(&self, kind: notify::Kind, id: &str, reason: Option<&str>) {
        let label = self.opts.label.as_deref();
        let event = notify::Event::about_task(&self.ws.tree, label, kind, id, reason);
        notify::emit(&self.ws.tree, &event);
    }

    /// A paused `watch` sleeps until the pause ends (or `resume`, a signal, a
    /// change to the queue wakes it): no polling.
    pub fn sleep_through(&mut self, pause: &Pause) {
        let now = crate::clock::now();
        let left = pause.until.since(now).unwrap_or_default();
        self.progress.line(&format!(
            "{}; `git agentos resume` ends it",
            pause.describe(now)
        ));
        tracing::info!(until = %pause.until, kind = pause.kind.label(), "paused");
        self.wait_for_work(left.max(Duration::from_millis(10)));
    }

    /// Move a file that can never run to failed/, with its reason.
    fn quarantine(&mut self, entry: &Entry, reason: &str) {
        match queue::reject(&self.ws.tree, entry, reason) {
            Ok(moved) => {
                self.progress
                    .line(&format!("rejected {}: {reason}", self.ws.rel(&entry.path)));
                tracing::warn!(file = %entry.path.display(), %reason, "rejected");
                self.summary.failed.push((moved.id, reason.to_string()));
            }
            Err(e) => self.progress.line(&format!(
                "cannot move {} to failed/: {e}",
                entry.path.display()
            )),
        }
    }

    /// Block until the queue may have changed, a signal arrives, or `timeout`
    /// (shortened to the next recheck of a young file) passes. True when
    /// something happened.
    pub fn wait_for_work(&mut self, timeout: Duration) -> bool {
        let mut timeout = timeout;
        if let Some(at) = self.recheck.take() {
            timeout = timeout.min(at.saturating_duration_since(Instant::now()));
        }
        match self.bus.rx.recv_timeout(timeout) {
            Ok(Msg::Signal(sig)) => {
                self.summary.interrupted = Some(sig);
                true
            }
            Ok(first) => {
                // Take in the rest of a burst of events (a file being written),
                // then scan once.
                let mut burst = super::wait::Burst::after(&first);
                while let Some(msg) = burst.next(&self.bus.rx) {
                    if let Msg::Signal(sig) = msg {
                        self.summary.interrupted = Some(sig);
                        break;
                    }
                }
                true
            }
            Err(_) => false,
        }
    }

    /// `run` found no task to start but young invalid files wait: let their grace
    /// run out (a second at most), so they are judged before `run` says the queue
    /// is empty. False when nothing waits.
    pub fn settle_young_files(&mut self) -> bool {
        let Some(at) = self.recheck else {
            return false;
        };
        let timeout = at.saturating_duration_since(Instant::now());
        self.recheck = None;
        if let Ok(Msg::Signal(sig)) = self.bus.rx.recv_timeout(timeout) {
            self.summary.interrupted = Some(sig);
        }
        true
    }

    /// Take note of a signal that arrived while no agent ran.
    pub fn check_signals(&mut self) {
        while let Ok(msg) = self.bus.rx.try_recv() {
            if let Msg::Signal(sig) = msg {
                self.summary.interrupted = Some(sig);
            }
        }
    }

    /// Add what a worker finished to the summary, tell the notifiers, and
    /// (`watch`) refill an empty pool while idle.
    pub fn absorb(&mut self, finished: Finished) {
        if self.opts.watch {
            crate::pipeline::worktree::prepare_while_idle(&self.ws);
        }
        match finished {
            Finished::Done(id) => {
                self.notify_task(notify::Kind::TaskDone, &id, None);
                crate::schedule::pause::forget_backoff(&self.ws.tree);
                self.summary.done.push(id)
            }
            Finished::Review(id, url) => {
                crate::schedule::pause::forget_backoff(&self.ws.tree);
                self.summary.review.push((id, url))
            }
            Finished::Paused(id, pause) => self.summary.paused.push((id, pause)),
            Finished::Failed(id, reason) => {
                self.notify_task(notify::Kind::TaskFailed, &id, Some(&reason));
                if notify::needs_human(&reason) {
                    self.notify_task(notify::Kind::NeedsHuman, &id, Some(&reason));
                }
                self.summary.failed.push((id, reason))
            }
            Finished::Interrupted(sig) => self.summary.interrupted = Some(sig),
        }
    }

    /// Claim a task (after checking its agent can start at all).
    pub fn claim(&mut self, ready: Ready) -> Result<Option<(Entry, Record)>, DispatchError> {
        if !self.may_claim() {
            return Ok(None);
        }
        if !self.task_runs_safe(&ready.entry.id) {
            return Ok(None);
        }
        // A missing agent CLI is the environment's fault, not the task's: leave the
        // task queued and stop (exit 3).
        if let Ok(agent) =
            agent::config::load(&self.ws.tree, &ready.agent, self.agent_override.as_deref())
        {
            if let Some(program) = agent::config::missing_program(&agent.command) {
                return Err(DispatchError::AgentMissing {
                    program,
                    agent: ready.agent,
                    id: ready.entry.id,
                    claude: agent.is_claude,
                });
            }
        }
        let claimed = queue::claim(&self.ws.tree, &ready)
            .map_err(PathError::at("claim", &ready.entry.path))?;
        let Some((entry, record)) = claimed else {
            return Ok(None);
        };
        tracing::info!(id = %entry.id, agent = %record.agent, "claimed");
        crate::fault::point("after-claim");
        self.progress
            .line(&format!("{}: claimed (agent {})", entry.id, record.agent));
        Ok(Some((entry, record)))
    }
}

/// A worker with its own launcher, which hears the dispatcher's signals.
pub fn new_worker(
    root: &std::path::Path,
    signals: &Signals,
    settings: Arc<Settings>,
    forge: Arc<LazyForge>,
    progress: Progress,
    agent_override: Option<String>,
) -> Result<Worker, DispatchError> {
    let (launcher, tx) = ProcessLauncher::new();
    signals.subscribe(move |sig| tx.send(AgentMsg::Signal(sig)).is_ok());
    // Unchecked here: the dispatcher checked its paths when it started and
    // checks them before each claim (with the claimed task's runs/ folder).
    Ok(Worker::new(
        Workspace::discover_unchecked(root)?,
        settings,
        forge,
        Box::new(launcher),
        progress,
        agent_override,
    ))
}
