//! The dispatcher: under the lock, claim tasks one at a time and walk each through
//! its steps (preflight, worktree, agent, commit, finish), journalling every step so
//! that a restarted dispatcher resumes at the first step not done. `watch` waits for
//! file-system events between tasks and never polls.
use crate::agent::{self, runner, stream};
use crate::bus::{self, Bus, Msg};
use crate::commands::Context;
use crate::error::{io_error, CmdResult, CommandError};
use crate::git::task_branch;
use crate::layout::{State, Tree};
use crate::lock::{DispatcherLock, LockError};
use crate::progress::Progress;
use crate::queue::{self, Entry, Ready, Record, Step};
use crate::task::{self, Task};
use crate::timestamp::Timestamp;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// After this many attempts (crashes, not clean stops) a task fails with its history.
pub const MAX_ATTEMPTS: u32 = 3;

/// A file in todo/ younger than this is not rejected yet: it may still be being written.
const YOUNG: Duration = Duration::from_secs(1);

/// The first safety rescan of an idle `watch`; it doubles up to [`RESCAN_MAX`].
const RESCAN_FIRST: Duration = Duration::from_secs(75);
const RESCAN_MAX: Duration = Duration::from_secs(20 * 60);

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
}

/// How one task ended, as a worker reports it.
#[derive(Debug, Clone)]
pub enum Finished {
    Done(String),
    Failed(String, String),
    Interrupted(i32),
}

/// What a dispatcher run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub done: Vec<String>,
    pub failed: Vec<(String, String)>,
    /// Stopped by this signal.
    pub interrupted: Option<i32>,
}

struct Dispatcher<'a> {
    ctx: &'a Context,
    opts: Options,
    bus: Bus,
    signals: bus::Signals,
    agent_override: Option<String>,
    progress: Progress,
    summary: Summary,
    /// When a young invalid file should be looked at again.
    recheck: Option<Instant>,
    /// Runs tasks in this thread (always for resumes; for everything with one job).
    inline: Worker,
}

/// Walks claimed tasks through their steps. One in the dispatcher's thread, and
/// one per task running on a thread of its own with `--jobs N`.
struct Worker {
    ctx: Context,
    keep: bool,
    no_pr: bool,
    agent_override: Option<String>,
    progress: Progress,
    bus: Bus,
    runs: u64,
    /// What this worker finished, for the dispatcher's summary.
    finished: Vec<Finished>,
}

/// Take the lock and process the queue (see [`Options`]).
pub fn run(ctx: &Context, opts: Options) -> CmdResult<Summary> {
    let signals = bus::Signals::start()
        .map_err(|e| CommandError::env(format!("cannot set up signal handling: {e}")))?;
    let bus = Bus::new();
    signals.subscribe(bus.tx.clone());
    ctx.ensure_runtime()?;
    let command = if opts.watch { "watch" } else { "run" };
    let _lock = match DispatcherLock::acquire(&ctx.tree, command) {
        Ok(lock) => lock,
        Err(LockError::Held(holder)) => {
            let who = holder
                .map(|h| h.to_string())
                .unwrap_or_else(|| "another process".into());
            return Err(CommandError::env(format!("another dispatcher holds the queue of {}: {who}", ctx.tree.repo_root.display()))
                .hint("only one `run` or `watch` may process a repository's queue; wait for it or stop it"));
        }
        Err(LockError::Io(e)) => return Err(io_error("lock", &ctx.tree.lock_path(), e)),
    };
    let agent_override = opts
        .agent_command
        .clone()
        .or_else(|| std::env::var("AGENTOS_AGENT_CMD").ok())
        .filter(|s| !s.trim().is_empty());
    let inline = Worker::new(
        &ctx.tree.repo_root,
        (opts.keep, opts.no_pr),
        agent_override.clone(),
        Progress::new(),
        &signals,
    )?;
    let mut d = Dispatcher {
        ctx,
        opts: opts.clone(),
        bus,
        signals,
        agent_override,
        progress: Progress::new(),
        summary: Summary::default(),
        recheck: None,
        inline,
    };
    let _watcher = if opts.watch {
        Some(d.watch_todo()?)
    } else {
        None
    };
    d.resume_orphans()?;
    if opts.jobs > 1 {
        d.run_parallel(opts.jobs)?;
        return Ok(d.summary);
    }
    let mut rescan = RESCAN_FIRST;
    loop {
        d.check_signals();
        if d.summary.interrupted.is_some() {
            break;
        }
        if opts.once && (d.summary.done.len() + d.summary.failed.len()) > 0 {
            break;
        }
        match d.next_ready()? {
            Some(ready) => {
                rescan = RESCAN_FIRST;
                d.claim_and_process(ready)?;
            }
            None if opts.watch => {
                if d.wait_for_work(rescan) {
                    rescan = RESCAN_FIRST;
                } else {
                    rescan = (rescan * 2).min(RESCAN_MAX);
                }
            }
            None => break,
        }
    }
    Ok(d.summary)
}

impl Dispatcher<'_> {
    fn tree(&self) -> &crate::layout::Tree {
        &self.ctx.tree
    }

    /// A notify watcher on todo/ that wakes the bus.
    fn watch_todo(&self) -> CmdResult<notify::RecommendedWatcher> {
        use notify::Watcher;
        let tx = self.bus.tx.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                // Only changes can bring work. Access events (our own scans open
                // the folder) would otherwise wake us in a loop.
                let relevant = match event {
                    Ok(e) => !matches!(e.kind, notify::EventKind::Access(_)),
                    Err(_) => true, // e.g. the kernel's queue overflowed: rescan
                };
                if relevant {
                    let _ = tx.send(Msg::QueueChanged);
                }
            })
            .map_err(|e| CommandError::env(format!("cannot watch the queue for changes: {e}")))?;
        let todo = self.tree().state_dir(State::Todo);
        watcher
            .watch(&todo, notify::RecursiveMode::Recursive)
            .map_err(|e| CommandError::env(format!("cannot watch {}: {e}", todo.display())))?;
        Ok(watcher)
    }

    /// Block until the queue may have changed, a signal arrives, or the safety
    /// rescan is due. True when something happened (not the rescan timer).
    fn wait_for_work(&mut self, rescan: Duration) -> bool {
        let mut timeout = rescan;
        if let Some(at) = self.recheck.take() {
            timeout = timeout.min(at.saturating_duration_since(Instant::now()));
        }
        match self.bus.rx.recv_timeout(timeout) {
            Ok(Msg::Signal(sig)) => {
                self.summary.interrupted = Some(sig);
                true
            }
            Ok(_) => {
                // Let a burst of events (a file being written) settle, then scan once.
                while let Ok(msg) = self.bus.rx.recv_timeout(Duration::from_millis(20)) {
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

    /// The next task to run.
    fn next_ready(&mut self) -> CmdResult<Option<Ready>> {
        Ok(self.scan()?.into_iter().next())
    }

    /// The runnable tasks in dispatch order. Invalid files are moved to failed/ on
    /// the way (young ones get a moment, in case they are still being written).
    fn scan(&mut self) -> CmdResult<Vec<Ready>> {
        let tree = self.tree().clone();
        let inspection = queue::inspect_todo(&tree)
            .map_err(|e| io_error("read", &tree.state_dir(State::Todo), e))?;
        for (entry, err) in &inspection.invalid {
            let age = std::fs::symlink_metadata(&entry.path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .unwrap_or(YOUNG);
            if age < YOUNG {
                self.recheck = Some(Instant::now() + YOUNG - age + Duration::from_millis(50));
                continue;
            }
            let reason = err.to_string();
            match queue::reject(&tree, entry, &reason) {
                Ok(moved) => {
                    self.progress
                        .line(&format!("rejected {}: {reason}", self.ctx.rel(&entry.path)));
                    self.summary.failed.push((moved.id, reason));
                }
                Err(e) => self.progress.line(&format!(
                    "cannot move {} to failed/: {e}",
                    entry.path.display()
                )),
            }
        }
        Ok(inspection.ready)
    }

    /// Take note of a signal that arrived while no agent ran.
    fn check_signals(&mut self) {
        while let Ok(msg) = self.bus.rx.try_recv() {
            if let Msg::Signal(sig) = msg {
                self.summary.interrupted = Some(sig);
            }
        }
    }

    /// Move what the inline worker finished into the summary.
    fn absorb(&mut self, finished: Vec<Finished>) {
        for f in finished {
            match f {
                Finished::Done(id) => self.summary.done.push(id),
                Finished::Failed(id, reason) => self.summary.failed.push((id, reason)),
                Finished::Interrupted(sig) => self.summary.interrupted = Some(sig),
            }
        }
    }

    /// `--jobs N`: up to N tasks at once, each on a thread of its own, never two
    /// whose targets may overlap.
    fn run_parallel(&mut self, jobs: usize) -> CmdResult<()> {
        let mut running: Vec<(String, Vec<String>)> = Vec::new();
        let mut started = 0usize;
        let mut rescan = RESCAN_FIRST;
        loop {
            // Signals arrive in the receive below, with the workers' reports: this
            // loop must never drain the channel elsewhere, or a report is lost.
            let stop = self.summary.interrupted.is_some() || (self.opts.once && started > 0);
            if !stop && running.len() < jobs {
                let ready = self.scan()?;
                for ready in ready {
                    if running.len() >= jobs || (self.opts.once && started > 0) {
                        break;
                    }
                    let clash = running.iter().any(|(_, targets)| {
                        crate::paths::may_overlap(targets, &ready.task.targets)
                    });
                    if clash {
                        continue;
                    }
                    let targets = ready.task.targets.clone();
                    let Some((entry, record)) = self.claim(ready)? else {
                        continue;
                    };
                    running.push((entry.id.clone(), targets));
                    started += 1;
                    self.spawn_worker(entry, record)?;
                }
            }
            if running.is_empty() {
                if stop || !self.opts.watch {
                    return Ok(());
                }
                if self.wait_for_work(rescan) {
                    rescan = RESCAN_FIRST;
                } else {
                    rescan = (rescan * 2).min(RESCAN_MAX);
                }
                continue;
            }
            match self.bus.rx.recv() {
                Ok(Msg::WorkerDone {
                    id,
                    finished,
                    error,
                }) => {
                    running.retain(|(r, _)| *r != id);
                    self.absorb(finished);
                    if let Some(error) = error {
                        self.progress.line(&format!("{id}: {error}"));
                        self.summary.failed.push((id, error));
                    }
                }
                Ok(Msg::Signal(sig)) => self.summary.interrupted = Some(sig),
                Ok(_) => {}
                Err(_) => return Ok(()),
            }
        }
    }

    fn spawn_worker(&mut self, entry: Entry, record: Record) -> CmdResult<()> {
        let root = self.ctx.tree.repo_root.clone();
        let (keep, no_pr, agent_override) =
            (self.opts.keep, self.opts.no_pr, self.agent_override.clone());
        let (signals, main) = (self.signals.clone(), self.bus.tx.clone());
        let id = entry.id.clone();
        std::thread::Builder::new()
            .name(format!("task {id}"))
            .spawn(move || {
                // A worker that panics still reports, so the dispatcher never waits
                // for a thread that is gone.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut w = Worker::new(
                        &root,
                        (keep, no_pr),
                        agent_override,
                        Progress::lines(),
                        &signals,
                    )?;
                    w.process(entry, record)?;
                    Ok(w.finished)
                }))
                .unwrap_or_else(|_| {
                    Err(CommandError::env(
                        "the worker stopped unexpectedly (a bug; please report it)",
                    ))
                });
                let (finished, error) = match result {
                    Ok(finished) => (finished, None),
                    Err(e) => (Vec::new(), Some(e.message)),
                };
                let _ = main.send(Msg::WorkerDone {
                    id,
                    finished,
                    error,
                });
            })
            .map_err(|e| CommandError::env(format!("cannot start a worker thread: {e}")))?;
        Ok(())
    }

    fn claim_and_process(&mut self, ready: Ready) -> CmdResult<()> {
        let Some((entry, record)) = self.claim(ready)? else {
            return Ok(());
        };
        let result = self.inline.process(entry, record);
        let finished = std::mem::take(&mut self.inline.finished);
        self.absorb(finished);
        result
    }

    /// Claim a task (after checking its agent can start at all).
    fn claim(&mut self, ready: Ready) -> CmdResult<Option<(Entry, Record)>> {
        // A missing agent CLI is the environment's fault, not the task's: leave the
        // task queued and stop (exit 3).
        if let Ok(agent) =
            agent::config::load(self.tree(), &ready.agent, self.agent_override.as_deref())
        {
            if let Some(program) = agent::config::missing_program(&agent.command) {
                let mut err = CommandError::env(format!(
                    "the agent command `{program}` (agent `{}`) is not installed or not on PATH; `{}` stays queued",
                    ready.agent, ready.entry.id
                ));
                if agent.is_claude {
                    err = err.hint("install Claude Code: npm install -g @anthropic-ai/claude-code");
                }
                return Err(err.hint(
                    "or point AGENTOS_AGENT_CMD, or `command` in agent.toml, at the agent to run",
                ));
            }
        }
        let tree = self.tree().clone();
        let claimed =
            queue::claim(&tree, &ready).map_err(|e| io_error("claim", &ready.entry.path, e))?;
        let Some((entry, record)) = claimed else {
            return Ok(None);
        };
        crate::fault::point("after-claim");
        self.progress
            .line(&format!("{}: claimed (agent {})", entry.id, record.agent));
        Ok(Some((entry, record)))
    }

    /// Every task in doing/ belongs to a dispatcher that is gone (we hold the lock):
    /// resume each at its first step not done.
    fn resume_orphans(&mut self) -> CmdResult<()> {
        let tree = self.tree().clone();
        let orphans = queue::entries(&tree, State::Doing)
            .map_err(|e| io_error("read", &tree.state_dir(State::Doing), e))?;
        for entry in orphans {
            if self.summary.interrupted.is_some() {
                break;
            }
            let record = queue::read_record(&entry.record_path()).ok().flatten();
            let mut record = match record {
                // Claimed, but the dispatcher died before the record was written.
                None => {
                    let mut r = Record {
                        id: entry.id.clone(),
                        agent: "default".into(),
                        attempt: 1,
                        claimed_at: Some(Timestamp::now()),
                        ..Record::default()
                    };
                    r.mark(Step::Claim);
                    r
                }
                Some(mut r) => {
                    let last = r
                        .last_step()
                        .map(|s| format!("{s:?}").to_lowercase())
                        .unwrap_or_else(|| "none".into());
                    if r.interrupted {
                        r.history.push(format!(
                            "attempt {} was stopped by a signal after step {last}",
                            r.attempt
                        ));
                        r.interrupted = false;
                    } else {
                        r.history.push(format!(
                            "attempt {} (pid {}) died after step {last}",
                            r.attempt, r.pid
                        ));
                        crate::friction::note(
                            &tree,
                            crate::friction::Event::new(
                                "resume",
                                failed_step(&r),
                                &format!(
                                    "the dispatcher (pid {}) died after step {last}; resumed",
                                    r.pid
                                ),
                            )
                            .task(&entry.id, r.attempt),
                        );
                        r.attempt += 1;
                    }
                    r
                }
            };
            record.pid = std::process::id();
            self.progress.line(&format!(
                "{}: resuming (attempt {})",
                entry.id, record.attempt
            ));
            let result = if record.attempt > MAX_ATTEMPTS {
                let history = record.history.join("; ");
                self.inline.fail(
                    &entry,
                    record,
                    format!("gave up after {MAX_ATTEMPTS} attempts: {history}"),
                )
            } else {
                self.inline
                    .save(&entry, &record)
                    .and_then(|_| self.inline.process(entry, record))
            };
            let finished = std::mem::take(&mut self.inline.finished);
            self.absorb(finished);
            result?;
        }
        Ok(())
    }
}

impl Worker {
    fn new(
        root: &Path,
        (keep, no_pr): (bool, bool),
        agent_override: Option<String>,
        progress: Progress,
        signals: &bus::Signals,
    ) -> CmdResult<Worker> {
        let bus = Bus::new();
        signals.subscribe(bus.tx.clone());
        Ok(Worker {
            ctx: Context::discover(root)?,
            keep,
            no_pr,
            agent_override,
            progress,
            bus,
            runs: 0,
            finished: Vec::new(),
        })
    }

    fn tree(&self) -> &crate::layout::Tree {
        &self.ctx.tree
    }

    fn save(&self, entry: &Entry, record: &Record) -> CmdResult<()> {
        queue::write_record(&entry.record_path(), record)
            .map_err(|e| io_error("write", &entry.record_path(), e))
    }

    fn worktree_path(&self, id: &str) -> PathBuf {
        self.tree().worktrees_dir().join(id)
    }

    /// Walk one claimed task through its steps.
    fn process(&mut self, entry: Entry, mut record: Record) -> CmdResult<()> {
        let task = match task::load(&entry.path) {
            Ok(task) => task,
            Err(e) => {
                return self.fail(
                    &entry,
                    record,
                    format!("the claimed task file cannot be read: {e}"),
                )
            }
        };
        if let Err(problem) = task::validate(&task) {
            return self.fail(
                &entry,
                record,
                format!("{}: {problem}", self.ctx.rel(&entry.path)),
            );
        }
        let agent =
            match agent::config::load(self.tree(), &record.agent, self.agent_override.as_deref()) {
                Ok(agent) => agent,
                Err(e) => return self.fail(&entry, record, format!("preflight: {}", e.message)),
            };
        if !record.has(Step::Preflight) {
            let rev = task.base.clone().unwrap_or_else(|| "HEAD".into());
            match self.ctx.repo.resolve(&rev) {
                Ok(sha) => record.base_commit = Some(sha),
                Err(e) => return self.fail(&entry, record, format!("preflight: {}", e.message)),
            }
            if let Some(base) = record.base_commit.clone() {
                match self.ctx.repo.tree_paths(&base) {
                    Ok(paths) => {
                        if let Some(problem) = crate::preflight::near_miss(&task.targets, &paths) {
                            return self.fail(&entry, record, format!("preflight: {problem}"));
                        }
                    }
                    Err(e) => {
                        return self.fail(&entry, record, format!("preflight: {}", e.message))
                    }
                }
            }
            record.branch = Some(task_branch(&entry.id));
            record.mark(Step::Preflight);
            self.save(&entry, &record)?;
        }
        let Some(base) = record.base_commit.clone() else {
            return self.fail(&entry, record, "the record has no base commit".into());
        };
        let worktree = self.worktree_path(&entry.id);
        if self.cancel_requested(&entry) {
            return self.fail(&entry, record, "cancelled by `git agentos cancel`".into());
        }
        if !record.history.is_empty() {
            // A resume: a killed dispatcher may have left git's lock files behind.
            for lock in self.ctx.repo.clear_stale_locks(&entry.id, &worktree) {
                self.progress.line(&format!(
                    "{}: removed {}, left by the dispatcher that died",
                    entry.id,
                    lock.display()
                ));
            }
        }
        if !record.has(Step::Worktree) {
            if let Err(e) = self.ctx.repo.fresh_worktree(&entry.id, &base, &worktree) {
                return self.fail(&entry, record, format!("worktree: {}", e.message));
            }
            record.mark(Step::Worktree);
            self.save(&entry, &record)?;
            crate::fault::point("after-worktree");
        }
        if !record.has(Step::Agent) {
            match self.agent_step(&entry, &mut record, &task, &agent, &base, &worktree)? {
                AgentStep::Done => crate::fault::point("after-agent"),
                AgentStep::Failed(reason) => return self.fail(&entry, record, reason),
                AgentStep::Interrupted => return Ok(()),
            }
        }
        if self.cancel_requested(&entry) {
            return self.fail(&entry, record, "cancelled by `git agentos cancel`".into());
        }
        if !record.has(Step::Commit) {
            if !worktree.is_dir() {
                return self.fail(
                    &entry,
                    record,
                    format!(
                        "the worktree {} disappeared before the commit",
                        worktree.display()
                    ),
                );
            }
            let message = format!("{}\n\nAgentos-Task: {}\n", task.title, entry.id);
            if let Err(e) = self.ctx.repo.commit_all(&worktree, &message) {
                return self.fail(&entry, record, format!("commit: {}", e.message));
            }
            crate::fault::point("mid-commit");
            match self.ctx.repo.branch_differs_from(&entry.id, &base) {
                Ok(true) => {}
                Ok(false) => {
                    return self.fail(
                        &entry,
                        record,
                        "the agent made no change: the branch is identical to its base".into(),
                    )
                }
                Err(e) => return self.fail(&entry, record, format!("commit: {}", e.message)),
            }
            record.commit = self.ctx.repo.branch_commit(&entry.id);
            record.mark(Step::Commit);
            self.save(&entry, &record)?;
            crate::fault::point("after-commit");
        }
        if !record.has(Step::Verify) {
            if !worktree.is_dir() {
                if let Err(e) = self.ctx.repo.worktree_at_branch(&entry.id, &worktree) {
                    return self.fail(&entry, record, format!("verify: {}", e.message));
                }
            }
            let run_dir = self
                .tree()
                .runs_dir()
                .join(&entry.id)
                .join(format!("attempt-{}", record.attempt));
            std::fs::create_dir_all(&run_dir).map_err(|e| io_error("create", &run_dir, e))?;
            let verified = crate::verify::verify_task(
                &self.ctx.repo,
                &entry.id,
                &task,
                &record,
                &worktree,
                &run_dir,
            );
            let report = match verified {
                Ok(report) => report,
                Err(e) => return self.fail(&entry, record, format!("verify: {}", e.message)),
            };
            let report_path = run_dir.join("report.md");
            crate::durable::write(&report_path, crate::verify::markdown(&report).as_bytes())
                .map_err(|e| io_error("write", &report_path, e))?;
            record.report = Some(self.ctx.rel(&report_path).into_owned());
            if !report.passed {
                return self.fail(&entry, record, report.reason());
            }
            record.mark(Step::Verify);
            self.save(&entry, &record)?;
            crate::fault::point("after-verify");
        }
        if !record.has(Step::Publish) {
            if let Err(reason) = self.publish_step(&entry, &mut record, &task)? {
                return self.fail(&entry, record, reason);
            }
            record.mark(Step::Publish);
            self.save(&entry, &record)?;
        }
        crate::fault::point("before-finish");
        self.finish_done(&entry, record, &worktree)
    }

    /// Push the verified branch and open (or find) its pull request. The inner
    /// error is the task's failure reason; the outer one a dispatcher error.
    fn publish_step(
        &mut self,
        entry: &Entry,
        record: &mut Record,
        task: &Task,
    ) -> CmdResult<Result<(), String>> {
        use crate::publish;
        let note = |record: &mut Record, text: &str| record.published_note = Some(text.to_string());
        if self.no_pr {
            note(
                record,
                "not published (--no-pr): the verified branch is the output",
            );
            return Ok(Ok(()));
        }
        let config = match crate::config::load(self.tree()) {
            Ok(c) => c,
            Err(e) => return Ok(Err(format!("publish: {}", e.message))),
        };
        let remote = config.remote();
        if self.ctx.repo.remote_url(&remote).is_none() {
            note(record, &format!("not published: there is no remote `{remote}`; the verified branch is the output"));
            return Ok(Ok(()));
        }
        let token = publish::token();
        if record.pushed_commit.is_none() || record.pushed_commit != record.commit {
            match self
                .ctx
                .repo
                .push_task_branch(&remote, &entry.id, token.as_deref())
            {
                Ok(sha) => {
                    record.pushed_to = Some(remote.clone());
                    record.pushed_commit = Some(sha);
                    self.save(entry, record)?;
                    self.progress.line(&format!(
                        "{}: pushed {} to {remote}",
                        entry.id,
                        task_branch(&entry.id)
                    ));
                    crate::fault::point("after-push");
                }
                Err(e) => return Ok(Err(publish::redact(&format!("push: {e}")))),
            }
        }
        let Some(github) = publish::github_repo(&self.ctx.repo, &config, &remote) else {
            note(
                record,
                "no GitHub repository is configured: the pushed branch is the output",
            );
            return Ok(Ok(()));
        };
        let Some(token) = token else {
            return Ok(Err(format!(
                "publish: no GITHUB_TOKEN or GH_TOKEN to open the pull request on {}/{}; set one, or run with --no-pr",
                github.owner, github.name
            )));
        };
        let Some(base) = publish::base_branch(task, &self.ctx.repo) else {
            return Ok(Err(
                "publish: the task names no base branch for its pull request; set `base_branch`"
                    .into(),
            ));
        };
        let report = record
            .report
            .as_ref()
            .and_then(|r| std::fs::read_to_string(self.tree().repo_root.join(r)).ok())
            .unwrap_or_default();
        let result = record.agent_result.clone().unwrap_or_default();
        let body = publish::body(
            &entry.id,
            &task.body,
            &report,
            &record.agent,
            &describe_result(&result),
            result.summary.as_deref().unwrap_or(""),
        );
        let pull = publish::NewPull {
            title: task.title.clone(),
            head: task_branch(&entry.id),
            base,
            body,
            draft: task.draft.unwrap_or(false),
        };
        let opened =
            publish::GitHub::new(github, &token, config.github_timeout()).and_then(|forge| {
                let opened = publish::open_once(&forge, &pull, &task.labels);
                for retry in forge.retries() {
                    crate::friction::note(
                        self.tree(),
                        crate::friction::Event::new("github-retry", "publish", &retry)
                            .task(&entry.id, record.attempt),
                    );
                }
                opened
            });
        match opened {
            Ok((pr, created)) => {
                let verb = if created { "opened" } else { "found the open" };
                self.progress
                    .line(&format!("{}: {verb} pull request {}", entry.id, pr.url));
                record.pr_url = Some(pr.url);
                self.save(entry, record)?;
                crate::fault::point("after-pr");
                Ok(Ok(()))
            }
            Err(e) => Ok(Err(format!("publish: {}", e.message))),
        }
    }

    fn agent_step(
        &mut self,
        entry: &Entry,
        record: &mut Record,
        task: &Task,
        agent: &agent::config::AgentConfig,
        base: &str,
        worktree: &Path,
    ) -> CmdResult<AgentStep> {
        // An earlier attempt started an agent: make sure it is gone, and start over
        // from a worktree reset to the base commit.
        if let Some(pgid) = record.agent_pgid.take() {
            if agent::process::end_stray_group(pgid, &entry.id) {
                self.progress.line(&format!(
                    "{}: ended the agent of an earlier attempt (process group {pgid})",
                    entry.id
                ));
            }
            if let Err(e) = self.ctx.repo.fresh_worktree(&entry.id, base, worktree) {
                return Ok(AgentStep::Failed(format!("worktree: {}", e.message)));
            }
            record.agent_writes.clear();
        } else if let Err(e) = self.ctx.repo.ensure_worktree(&entry.id, base, worktree) {
            return Ok(AgentStep::Failed(format!("worktree: {}", e.message)));
        }
        let run_dir = self
            .tree()
            .runs_dir()
            .join(&entry.id)
            .join(format!("attempt-{}", record.attempt));
        std::fs::create_dir_all(&run_dir).map_err(|e| io_error("create", &run_dir, e))?;
        let prompt = agent::prompt::compose(
            &agent.instructions,
            task,
            &entry.id,
            base,
            worktree,
            agent.memory && agent.is_claude,
        );
        std::fs::write(run_dir.join("prompt.md"), &prompt)
            .map_err(|e| io_error("write", &run_dir, e))?;
        let timeout = match &task.timeout {
            Some(t) => task::parse_duration(t).unwrap_or(agent.timeout),
            None => agent.timeout,
        };
        self.runs += 1;
        let launch = runner::Launch {
            config: agent,
            task_id: &entry.id,
            task_file: &entry.path,
            worktree,
            prompt: &prompt,
            run_dir: &run_dir,
            timeout,
            run: self.runs,
        };
        self.progress.agent_running(&entry.id);
        let outcome = {
            let mut observer = RecordingObserver {
                tree: &self.ctx.tree,
                entry,
                record: &mut *record,
                progress: &self.progress,
            };
            runner::run(&launch, &self.bus.tx, &self.bus.rx, &mut observer)
        };
        self.progress.agent_stopped();
        match outcome {
            runner::Outcome::Succeeded(result) => {
                self.progress.line(&format!(
                    "{}: agent finished ({})",
                    entry.id,
                    describe_result(&result)
                ));
                record.agent_result = Some(result);
                record.agent_pgid = None;
                record.mark(Step::Agent);
                self.save(entry, record)?;
                Ok(AgentStep::Done)
            }
            runner::Outcome::Failed { reason, result } => {
                record.agent_result = result;
                record.agent_pgid = None;
                if self.cancel_requested(entry) {
                    return Ok(AgentStep::Failed(
                        "cancelled by `git agentos cancel`".into(),
                    ));
                }
                Ok(AgentStep::Failed(reason))
            }
            runner::Outcome::Interrupted(sig) => {
                record.interrupted = true;
                record.agent_pgid = None;
                self.save(entry, record)?;
                self.progress.line(&format!(
                    "{}: stopped by signal {sig}; the next `run` resumes it",
                    entry.id
                ));
                self.finished.push(Finished::Interrupted(sig));
                Ok(AgentStep::Interrupted)
            }
        }
    }

    fn cancel_requested(&self, entry: &Entry) -> bool {
        cancel_marker(entry).exists()
    }

    fn finish_done(&mut self, entry: &Entry, mut record: Record, worktree: &Path) -> CmdResult<()> {
        record.mark(Step::Finish);
        record.finished_at = Some(Timestamp::now());
        let original =
            std::fs::read_to_string(&entry.path).map_err(|e| io_error("read", &entry.path, e))?;
        let text = format!("{original}{}", result_section(&record));
        queue::finish(self.tree(), entry, &record, State::Done, Some(&text))
            .map_err(|e| self.finish_error(entry, State::Done, e))?;
        let _ = std::fs::remove_file(cancel_marker(entry));
        if !self.keep {
            let _ = self.ctx.repo.retire_worktree(worktree);
        }
        let branch = record
            .branch
            .clone()
            .unwrap_or_else(|| task_branch(&entry.id));
        self.progress
            .line(&format!("{}: done → {branch}", entry.id));
        self.finished.push(Finished::Done(entry.id.clone()));
        Ok(())
    }

    /// A task that cannot be moved to its final folder stays, journalled, in
    /// doing/: say where the trouble is and that the next run finishes it.
    fn finish_error(&self, entry: &Entry, to: State, e: std::io::Error) -> CommandError {
        let dir = self.tree().state_dir(to);
        io_error(&format!("move `{}` into", entry.id), &dir, e).hint(format!(
            "make {} writable (or free some disk space); the task waits in doing/ and the next `run` finishes it",
            self.ctx.rel(&dir)
        ))
    }

    /// Fail a claimed task: to failed/ with its reason, the file unchanged.
    fn fail(&mut self, entry: &Entry, mut record: Record, reason: String) -> CmdResult<()> {
        let step = failed_step(&record);
        crate::friction::note(
            self.tree(),
            crate::friction::Event::new(
                crate::friction::classify_failure(step, &reason),
                step,
                &reason,
            )
            .task(&entry.id, record.attempt),
        );
        record.reason = Some(reason.clone());
        record.finished_at = Some(Timestamp::now());
        queue::finish(self.tree(), entry, &record, State::Failed, None)
            .map_err(|e| self.finish_error(entry, State::Failed, e))?;
        let _ = std::fs::remove_file(cancel_marker(entry));
        if !self.keep {
            let _ = self
                .ctx
                .repo
                .retire_worktree(&self.worktree_path(&entry.id));
        }
        self.progress
            .line(&format!("{}: failed: {reason}", entry.id));
        self.finished
            .push(Finished::Failed(entry.id.clone(), reason));
        Ok(())
    }
}

/// The step a task failed in: the first one its journal does not have.
fn failed_step(record: &Record) -> &'static str {
    const ORDER: [(Step, &str); 8] = [
        (Step::Claim, "claim"),
        (Step::Preflight, "preflight"),
        (Step::Worktree, "worktree"),
        (Step::Agent, "agent"),
        (Step::Commit, "commit"),
        (Step::Verify, "verify"),
        (Step::Publish, "publish"),
        (Step::Finish, "finish"),
    ];
    ORDER
        .iter()
        .find(|(step, _)| !record.has(*step))
        .map(|(_, name)| *name)
        .unwrap_or("finish")
}

enum AgentStep {
    Done,
    Failed(String),
    Interrupted,
}

/// Where `cancel` leaves word for the dispatcher that a running task is cancelled.
pub fn cancel_marker(entry: &Entry) -> PathBuf {
    entry.path.with_file_name(format!("{}.cancel", entry.id))
}

/// Records the agent's process group the moment it exists, and what it writes.
struct RecordingObserver<'a> {
    tree: &'a Tree,
    entry: &'a Entry,
    record: &'a mut Record,
    progress: &'a Progress,
}

impl runner::Observer for RecordingObserver<'_> {
    fn spawned(&mut self, pgid: i32) {
        self.record.agent_pgid = Some(pgid);
        let _ = queue::write_record(&self.entry.record_path(), self.record);
    }
    fn started(&mut self, session_id: Option<&str>) {
        crate::fault::point("agent-started");
        let session = session_id
            .map(|s| format!(" (session {s})"))
            .unwrap_or_default();
        self.progress.action(&format!("agent started{session}"));
    }
    fn silent(&mut self, for_: std::time::Duration) {
        crate::friction::note(
            self.tree,
            crate::friction::Event::new(
                "idle",
                "agent",
                &format!("the agent was silent for {} s", for_.as_secs()),
            )
            .task(&self.entry.id, self.record.attempt),
        );
    }
    fn action(&mut self, summary: &str, writes: Option<&str>) {
        self.progress.action(summary);
        if let Some(path) = writes {
            if !self.record.agent_writes.iter().any(|p| p == path) {
                self.record.agent_writes.push(path.to_string());
            }
        }
    }
}

/// `2 turns, $0.0123`.
pub fn describe_result(result: &stream::AgentResult) -> String {
    let mut parts = vec![if result.subtype.is_empty() {
        "success".to_string()
    } else {
        result.subtype.clone()
    }];
    if let Some(turns) = result.num_turns {
        parts.push(format!("{turns} turns"));
    }
    if let Some(cost) = result.total_cost_usd {
        parts.push(format!("${cost:.4}"));
    }
    parts.join(", ")
}

/// The section appended to a finished task's file in done/.
fn result_section(record: &Record) -> String {
    let mut out = String::from("\n---\n\n## Result (git agentos)\n\n");
    if let Some(branch) = &record.branch {
        out.push_str(&format!("- branch: `{branch}`\n"));
    }
    if let Some(commit) = &record.commit {
        out.push_str(&format!("- commit: `{commit}`\n"));
    }
    if let Some(base) = &record.base_commit {
        out.push_str(&format!("- base: `{base}`\n"));
    }
    if let (Some(remote), Some(commit)) = (&record.pushed_to, &record.pushed_commit) {
        out.push_str(&format!("- pushed: `{commit}` to `{remote}`\n"));
    }
    if let Some(url) = &record.pr_url {
        out.push_str(&format!("- pull request: {url}\n"));
    }
    if let Some(note) = &record.published_note {
        out.push_str(&format!("- output: {note}\n"));
    }
    out.push_str(&format!(
        "- agent: {} (attempt {})\n",
        record.agent, record.attempt
    ));
    if let Some(result) = &record.agent_result {
        out.push_str(&format!("- outcome: {}\n", describe_result(result)));
        if let Some(session) = &result.session_id {
            out.push_str(&format!("- session: `{session}`\n"));
        }
    }
    if let Some(at) = record.finished_at {
        out.push_str(&format!("- finished: {at}\n"));
    }
    if let Some(summary) = record
        .agent_result
        .as_ref()
        .and_then(|r| r.summary.as_deref())
    {
        out.push('\n');
        for line in summary.lines() {
            out.push_str(&format!("> {line}\n"));
        }
    }
    out
}
