//! `git agentos status`: the whole system at a glance.
use super::{print_json, Context};
use crate::error::{io_error, CmdResult};
use crate::layout::State;
use crate::lock::{DispatcherLock, Holder};
use crate::queue;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Show the dispatcher (running or not, and who holds the lock), how many tasks are
/// in each state, the tasks in progress, and the queued files that can never run.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Status {
    repository: String,
    initialised: bool,
    dispatcher: Option<Holder>,
    counts: BTreeMap<&'static str, usize>,
    /// Files in todo/ that can never run, with the reason.
    invalid: Vec<Invalid>,
    doing: Vec<Doing>,
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
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Context::discover(dir)?;
    let tree = &ctx.tree;
    let read_err = |e| io_error("read", &tree.dir, e);
    let dispatcher = if tree.is_initialised() {
        DispatcherLock::probe(tree).map_err(|e| io_error("open", &tree.lock_path(), e))?
    } else {
        None
    };
    let inspection = queue::inspect_todo(tree).map_err(read_err)?;
    let mut counts = BTreeMap::new();
    counts.insert("todo", inspection.ready.len());
    counts.insert("invalid", inspection.invalid.len());
    let mut doing = Vec::new();
    for state in [State::Doing, State::Done, State::Failed] {
        let entries = queue::entries(tree, state).map_err(read_err)?;
        counts.insert(state.name(), entries.len());
        if state == State::Doing {
            for e in entries {
                let record = queue::read_record(&e.record_path())
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                doing.push(Doing {
                    id: e.id.clone(),
                    attempt: record.attempt,
                    pid: record.pid,
                    last_step: record.last_step().map(|s| format!("{s:?}").to_lowercase()),
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
            }
        })
        .collect();
    let status = Status {
        repository: tree.repo_root.display().to_string(),
        initialised: tree.is_initialised(),
        dispatcher,
        counts,
        invalid: inspection
            .invalid
            .iter()
            .map(|(e, err)| Invalid {
                file: ctx.rel(&e.path).into_owned(),
                reason: err.problem.to_string(),
            })
            .collect(),
        doing,
        recent_done,
    };
    if args.json {
        return print_json(&status);
    }
    print_text(&status);
    Ok(())
}

fn print_text(s: &Status) {
    println!("repository  {}", s.repository);
    if !s.initialised {
        println!("not initialised: run `git agentos init`");
        return;
    }
    match &s.dispatcher {
        Some(holder) => println!("dispatcher  running: {holder}"),
        None => println!(
            "dispatcher  not running (start one with `git agentos run` or `git agentos watch`)"
        ),
    }
    let c = |k: &str| s.counts.get(k).copied().unwrap_or(0);
    println!(
        "queue       {} todo, {} doing, {} done, {} failed{}",
        c("todo"),
        c("doing"),
        c("done"),
        c("failed"),
        if c("invalid") > 0 {
            format!(", {} invalid in todo/", c("invalid"))
        } else {
            String::new()
        }
    );
    for d in &s.doing {
        println!(
            "doing       {}: attempt {}, last step {}, claimed by pid {}",
            d.id,
            d.attempt,
            d.last_step.as_deref().unwrap_or("none"),
            d.pid
        );
    }
    for i in &s.invalid {
        println!("invalid     {}: {}", i.file, i.reason);
    }
    for d in &s.recent_done {
        let out = match (&d.pr_url, &d.branch) {
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
        println!("done        {}: {out}", d.id);
    }
}
