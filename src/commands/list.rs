//! `git agentos list`: the tasks in each state folder.
use super::{print_json_seq, view};
use crate::error::{CmdResult, CommandError};
use crate::path_error::PathError;
use crate::queue;
use crate::queue::State;
use crate::schedule::deps::{self, Verdict};
use crate::schedule::pause;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// List tasks: todo/ in the order they will run, then doing/, review/, done/ and failed/.
///
/// A task in review/ shows what its open pull request waits for.
///
/// Files in todo/ that can never run are shown with `invalid` and their reason;
/// the dispatcher moves them to failed/ unchanged.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this state: todo, doing, review, done or failed.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    pub state: Option<State>,

    /// Print JSON (an array of tasks) instead of a table.
    #[arg(long)]
    pub json: bool,

    /// The tasks of every repository of the fleet ($AGENTOS_HOME/fleet/), with
    /// a REPO column (`repository` in JSON).
    #[arg(long)]
    pub fleet: bool,
}

fn parse_state(s: &str) -> Result<State, String> {
    State::from_name(s)
        .ok_or_else(|| format!("`{s}` is not a state; use todo, doing, review, done or failed"))
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let states: Vec<State> = match args.state {
        Some(s) => vec![s],
        None => State::ALL.to_vec(),
    };
    if args.fleet {
        return super::fleet::list(&states, args.json);
    }
    let ctx = Workspace::discover(dir)?;
    if args.json {
        return print_json_seq(views(&ctx, &states)?);
    }
    let rows = rows(&ctx, &states)?;
    if rows.is_empty() {
        if !ctx.tree.is_initialised() {
            return Err(CommandError::env("this repository has no .agentos/ folder")
                .hint("run `git agentos init`"));
        }
        outln!("No tasks. Queue one with: git agentos add \"Title\" --target PATH");
        return Ok(());
    }
    print_table(&rows, None);
    Ok(())
}

fn read_err(
    tree: &crate::queue::Tree,
    state: State,
) -> impl FnOnce(std::io::Error) -> CommandError {
    let dir = tree.state_dir(state);
    move |e| CommandError::from(PathError::new("read", &dir, e))
}

/// The tasks of `states` as `list --json` shows them: every folder is read
/// first (an error is said before any output), each view made as it is written.
pub(super) fn views<'a>(
    ctx: &'a Workspace,
    states: &[State],
) -> CmdResult<impl Iterator<Item = view::TaskView> + 'a> {
    let mut all = Vec::new();
    for &state in states {
        all.push(view::views_lazily(ctx, state).map_err(read_err(&ctx.tree, state))?);
    }
    Ok(all.into_iter().flatten())
}

/// The table's rows: straight from the queue scan (no per-task view objects;
/// this is the path that must stay fast over thousands of queued tasks).
pub(super) fn rows(ctx: &Workspace, states: &[State]) -> CmdResult<Vec<Row>> {
    let read_err = |state: State| read_err(&ctx.tree, state);
    let states = states.to_vec();
    let mut rows: Vec<Row> = Vec::new();
    for state in states {
        if state == State::Todo {
            let ins = queue::inspect_todo(&ctx.tree).map_err(read_err(state))?;
            rows.reserve(ins.ready.len() + ins.invalid.len());
            // Tasks a usage limit sent back run first: list them first.
            let ready = pause::front_first(&ctx.tree, ins.ready, |r| r.entry.id.as_str());
            let verdicts = deps::verdicts(&ctx.tree, &ready).map_err(read_err(state))?;
            for (r, verdict) in ready.into_iter().zip(verdicts) {
                let (state, text) = match verdict {
                    Verdict::Runnable => ("todo", r.task.title),
                    Verdict::Held(hold) => {
                        ("todo", format!("{}  ({})", r.task.title, hold.describe()))
                    }
                    Verdict::Never(problem) => ("invalid", format!("({})", problem.what)),
                };
                rows.push(Row {
                    state,
                    id: r.entry.id,
                    agent: r.agent,
                    priority: r.task.priority,
                    text,
                });
            }
            for (entry, err) in ins.invalid {
                let agent = entry.folder_agent.unwrap_or_else(|| "-".into());
                let text = format!("({})", err.problem.what);
                rows.push(Row {
                    state: "invalid",
                    id: entry.id,
                    agent,
                    priority: 0,
                    text,
                });
            }
        } else {
            for v in view::views(ctx, state).map_err(read_err(state))? {
                let review = v
                    .record
                    .as_ref()
                    .and_then(|r| r.review.as_ref())
                    .filter(|_| matches!(state, State::Review | State::Done))
                    .map(queue::review::Review::line);
                let text = match (&v.title, v.short_reason().map(str::to_string).or(review)) {
                    (Some(t), None) => t.clone(),
                    (Some(t), Some(r)) => format!("{t}  ({r})"),
                    (None, Some(r)) => format!("({r})"),
                    (None, None) => String::new(),
                };
                let agent = v.agent.clone().unwrap_or_else(|| "-".into());
                rows.push(Row {
                    state: state.name(),
                    id: v.id,
                    agent,
                    priority: v.priority,
                    text,
                });
            }
        }
    }
    Ok(rows)
}

/// The table, with a REPO column when `repos` names each row's repository.
pub(super) fn print_table(rows: &[Row], repos: Option<&[String]>) {
    let repo_width = repos
        .map(|r| r.iter().map(String::len).max().unwrap_or(4).max(4) + 1)
        .unwrap_or(0);
    let repo = |i: usize| repos.and_then(|r| r.get(i)).map_or("", String::as_str);
    let id_width = rows
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(2)
        .clamp(2, 40);
    let mut out = String::with_capacity(rows.len() * 80);
    use std::fmt::Write as _;
    let head = if repos.is_some() { "REPO" } else { "" };
    let _ = writeln!(
        out,
        "{head:<repo_width$}{:<7} {:<id_width$} {:<10} {:>4}  TITLE",
        "STATE", "ID", "AGENT", "PRI"
    );
    for (i, r) in rows.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:<repo_width$}{:<7} {:<id_width$} {:<10} {:>4}  {}",
            repo(i),
            r.state,
            r.id,
            r.agent,
            r.priority,
            r.text
        );
    }
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    // Titles, ids and agents come from files: shown, never obeyed (see `term`).
    if let Err(e) = stdout
        .write_all(untrusted(&out).as_bytes())
        .and_then(|_| stdout.flush())
    {
        super::output::fail(&e);
    }
}

pub(super) struct Row {
    state: &'static str,
    id: String,
    agent: String,
    priority: i64,
    text: String,
}
