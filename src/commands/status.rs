//! `git agentos status`: the whole system at a glance.
use super::print_json;
use crate::dispatch::lock::{DispatcherLock, Holder};
use crate::error::{CmdResult, CommandError};
use crate::path_error::PathError;
use crate::queue;
use crate::queue::State;
use crate::schedule::deps::{self, Hold, Verdict};
use crate::schedule::pause::{self, Pause};
use crate::schedule::spend::{self, Totals};
use crate::term::untrusted;
use crate::workspace::Workspace;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Show the dispatcher (running or not, and who holds the lock), how many tasks are
/// in each state, the tasks in progress and in review, and the queued files that
/// can never run.
///
/// A task in review/ shows what its open pull request waits for and when the
/// next pass over it is due.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Every repository of the fleet ($AGENTOS_HOME/fleet/): its dispatcher,
    /// counts per state, running tasks and their step, pause, open pull
    /// requests and last failure; a link that points nowhere is shown.
    #[arg(long)]
    pub fleet: bool,
}

#[derive(Serialize)]
struct Status {
    repository: String,
    initialised: bool,
    dispatcher: Option<Holder>,
    /// The dispatcher's lock file (in the git folder).
    lock: String,
    counts: BTreeMap<&'static str, usize>,
    /// What the agents spent today and this week (local days; weeks from Monday).
    spend: Totals,
    /// `[budget] daily_usd` in config.toml.
    #[serde(skip_serializing_if = "Option::is_none")]
    daily_budget_usd: Option<f64>,
    /// The queue's pause in force (after a usage or rate limit, or the daily budget).
    #[serde(skip_serializing_if = "Option::is_none")]
    pause: Option<PauseView>,
    /// Files in todo/ that can never run, with the reason.
    invalid: Vec<Invalid>,
    doing: Vec<Doing>,
    /// Tasks whose pull request is open.
    review: Vec<InReview>,
    /// Queued tasks that wait on, or are blocked by, a dependency.
    held: Vec<Held>,
    /// The most recently finished tasks: their branch, pushed commit and PR.
    recent_done: Vec<DoneTask>,
}

#[derive(Serialize)]
struct DoneTask {
    id: String,
    branch: Option<String>,
    commit: Option<String>,
    pushed_commit: Option<String>,
    pr_url: Option<String>,
    sandbox: Option<String>,
}

#[derive(Serialize)]
struct InReview {
    id: String,
    pr_url: Option<String>,
    /// What the pull request waits for, in words.
    state: String,
    /// The pass's view, as the record keeps it.
    phase: crate::queue::review::Phase,
    rounds: u32,
    next_pass: Option<crate::clock::Timestamp>,
    /// Why the last pass could not read the pull request.
    last_error: Option<String>,
    #[serde(skip)]
    line: String,
    #[serde(skip)]
    due: Option<String>,
}

#[derive(Serialize)]
struct PauseView {
    #[serde(flatten)]
    pause: Pause,
    /// `paused until 03:00 (usage limit)`, in local time.
    text: String,
}

#[derive(Serialize)]
struct Held {
    id: String,
    #[serde(flatten)]
    hold: Hold,
}

#[derive(Serialize)]
struct Invalid {
    file: String,
    reason: String,
}

#[derive(Serialize)]
struct Doing {
    id: String,
    attempt: u32,
    pid: u32,
    last_step: Option<String>,
    /// How its agent runs (`on (Landlock ABI 7)`, `off: …`), once decided.
    sandbox: Option<String>,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    if args.fleet {
        return super::fleet::status(args.json);
    }
    let ctx = Workspace::discover(dir)?;
    let tree = &ctx.tree;
    let read_err = |e| CommandError::from(PathError::new("read", &tree.dir, e));
    let dispatcher = if tree.is_initialised() {
        DispatcherLock::probe(tree).map_err(PathError::at("open", &tree.lock_path()))?
    } else {
        None
    };
    let inspection = queue::inspect_todo(tree).map_err(read_err)?;
    let mut invalid: Vec<Invalid> = inspection
        .invalid
        .iter()
        .map(|(e, err)| Invalid {
            file: ctx.rel(&e.path).into_owned(),
            reason: err.problem.to_string(),
        })
        .collect();
    let mut held = Vec::new();
    let verdicts = deps::verdicts(tree, &inspection.ready).map_err(read_err)?;
    for (r, verdict) in inspection.ready.iter().zip(verdicts) {
        match verdict {
            Verdict::Runnable => {}
            Verdict::Held(hold) => held.push(Held {
                id: r.entry.id.clone(),
                hold,
            }),
            Verdict::Never(problem) => invalid.push(Invalid {
                file: ctx.rel(&r.entry.path).into_owned(),
                reason: problem.to_string(),
            }),
        }
    }
    let mut counts = BTreeMap::new();
    counts.insert(
        "todo",
        inspection.ready.len() - (invalid.len() - inspection.invalid.len()),
    );
    counts.insert("invalid", invalid.len());
    let mut doing = Vec::new();
    let mut review = Vec::new();
    let now = crate::clock::now();
    for state in [State::Doing, State::Review, State::Done, State::Failed] {
        let entries = queue::entries(tree, state).map_err(read_err)?;
        counts.insert(state.name(), entries.len());
        if state == State::Doing {
            for e in &entries {
                let record = queue::read_record(&e.record_path())
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                doing.push(Doing {
                    id: e.id.clone(),
                    attempt: record.attempt,
                    pid: record.pid,
                    last_step: record.last_step().map(|s| format!("{s:?}").to_lowercase()),
                    sandbox: record.sandbox,
                });
            }
        }
        if state == State::Review {
            for e in &entries {
                let record = queue::read_record(&e.record_path())
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let r = record.review.unwrap_or_default();
                review.push(InReview {
                    id: e.id.clone(),
                    pr_url: record.pr_url,
                    state: r.phase.describe(),
                    line: r.line(),
                    due: r.next_pass_due(now),
                    phase: r.phase,
                    rounds: r.rounds,
                    next_pass: r.next_pass,
                    last_error: r.last_error,
                });
            }
        }
    }
    let mut done = queue::entries(tree, State::Done).map_err(read_err)?;
    done.sort_by_cached_key(|e| {
        std::cmp::Reverse(std::fs::metadata(&e.path).and_then(|m| m.modified()).ok())
    });
    let recent_done = done
        .iter()
        .take(5)
        .map(|e| {
            let r = queue::read_record(&e.record_path())
                .ok()
                .flatten()
                .unwrap_or_default();
            DoneTask {
                id: e.id.clone(),
                branch: r.branch,
                commit: r.commit,
                pushed_commit: r.pushed_commit,
                pr_url: r.pr_url,
                sandbox: r.sandbox,
            }
        })
        .collect();
    let status = Status {
        repository: tree.repo_root.display().to_string(),
        initialised: tree.is_initialised(),
        dispatcher,
        lock: tree.lock_path().display().to_string(),
        counts,
        spend: spend::totals(tree, crate::clock::now()),
        daily_budget_usd: crate::config::load(tree)
            .ok()
            .and_then(|c| c.budget.daily_usd),
        pause: pause::current(tree, crate::clock::now()).map(|pause| PauseView {
            text: pause.describe(crate::clock::now()),
            pause,
        }),
        invalid,
        doing,
        review,
        held,
        recent_done,
    };
    if args.json {
        return print_json(&status);
    }
    print_text(&status);
    Ok(())
}

/// The status for a person; names, reasons and URLs come from files and GitHub,
/// so the whole text goes through [`untrusted`].
fn print_text(s: &Status) {
    let mut out = String::new();
    let _ = write_text(s, &mut out);
    out!("{}", untrusted(&out));
}

fn write_text(s: &Status, out: &mut String) -> std::fmt::Result {
    use std::fmt::Write;
    writeln!(out, "repository  {}", s.repository)?;
    if !s.initialised {
        writeln!(out, "not initialised: run `git agentos init`")?;
        return Ok(());
    }
    match &s.dispatcher {
        Some(holder) => writeln!(out, "dispatcher  running: {holder}")?,
        None => writeln!(
            out,
            "dispatcher  not running (start one with `git agentos run` or `git agentos watch`)"
        )?,
    }
    let c = |k: &str| s.counts.get(k).copied().unwrap_or(0);
    writeln!(
        out,
        "queue       {} todo, {} doing, {} in review, {} done, {} failed{}",
        c("todo"),
        c("doing"),
        c("review"),
        c("done"),
        c("failed"),
        if c("invalid") > 0 {
            format!(", {} invalid in todo/", c("invalid"))
        } else {
            String::new()
        }
    )?;
    let budget = s
        .daily_budget_usd
        .map(|b| format!(" (daily budget ${b:.2})"))
        .unwrap_or_default();
    writeln!(
        out,
        "spent       ${:.2} today, ${:.2} this week{budget}",
        s.spend.today_usd, s.spend.week_usd
    )?;
    if let Some(p) = &s.pause {
        writeln!(out, "pause       {}; `git agentos resume` ends it", p.text)?;
        let task = p
            .pause
            .task
            .as_deref()
            .map(|t| format!("{t}: "))
            .unwrap_or_default();
        writeln!(out, "            {task}{}", p.pause.message)?;
    }
    for d in &s.doing {
        let unsandboxed = match d.sandbox.as_deref().and_then(|s| s.strip_prefix("off: ")) {
            Some(why) => format!(", UNSANDBOXED ({why})"),
            None => String::new(),
        };
        writeln!(
            out,
            "doing       {}: attempt {}, last step {}, claimed by pid {}{unsandboxed}",
            d.id,
            d.attempt,
            d.last_step.as_deref().unwrap_or("none"),
            d.pid
        )?;
    }
    for r in &s.review {
        let due = match (&r.due, &s.dispatcher) {
            (Some(due), Some(_)) => format!("; next pass {due}"),
            (Some(due), None) => format!(
                "; next pass {due}, when a dispatcher runs (`git agentos watch`; `git agentos sync` makes one now)"
            ),
            (None, _) => String::new(),
        };
        writeln!(out, "review      {}: {}{due}", r.id, r.line)?;
        if let Some(url) = &r.pr_url {
            writeln!(out, "              {url}")?;
        }
    }
    for h in &s.held {
        writeln!(out, "held        {}: {}", h.id, h.hold.describe())?;
    }
    for i in &s.invalid {
        writeln!(out, "invalid     {}: {}", i.file, i.reason)?;
    }
    for d in &s.recent_done {
        let shown = match (&d.pr_url, &d.branch) {
            (Some(url), _) => url.clone(),
            (None, Some(branch)) => format!(
                "{branch}{}",
                d.commit
                    .as_deref()
                    .map(|c| format!(" at {}", &c[..c.len().min(12)]))
                    .unwrap_or_default()
            ),
            (None, None) => String::new(),
        };
        let unsandboxed = if d.sandbox.as_deref().is_some_and(|s| s.starts_with("off")) {
            " (ran unsandboxed)"
        } else {
            ""
        };
        writeln!(out, "done        {}: {shown}{unsandboxed}", d.id)?;
    }
    Ok(())
}
