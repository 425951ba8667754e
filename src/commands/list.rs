//! `git agentos list`: the tasks in each state folder.
use super::{print_json, view, Context};
use crate::error::{io_error, CmdResult, CommandError};
use crate::layout::State;
use std::path::Path;

/// List tasks: todo/ in the order they will run, then doing/, done/ and failed/.
///
/// Files in todo/ that can never run are shown with `invalid` and their reason;
/// the dispatcher moves them to failed/ unchanged.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this state: todo, doing, done or failed.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    pub state: Option<State>,

    /// Print JSON (an array of tasks) instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_state(s: &str) -> Result<State, String> {
    State::from_name(s)
        .ok_or_else(|| format!("`{s}` is not a state; use todo, doing, done or failed"))
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Context::discover(dir)?;
    let states: Vec<State> = match args.state {
        Some(s) => vec![s],
        None => State::ALL.to_vec(),
    };
    let mut all = Vec::new();
    for state in states {
        all.extend(
            view::views(&ctx, state)
                .map_err(|e| io_error("read", &ctx.tree.state_dir(state), e))?,
        );
    }
    if args.json {
        return print_json(&all);
    }
    if all.is_empty() {
        if !ctx.tree.is_initialised() {
            return Err(CommandError::env("this repository has no .agentos/ folder")
                .hint("run `git agentos init`"));
        }
        println!("No tasks. Queue one with: git agentos add \"Title\" --target PATH");
        return Ok(());
    }
    let id_width = all
        .iter()
        .map(|v| v.id.len())
        .max()
        .unwrap_or(2)
        .clamp(2, 40);
    let mut out = String::with_capacity(all.len() * 80);
    out.push_str(&format!(
        "{:<7} {:<id_width$} {:<10} {:>4}  TITLE\n",
        "STATE", "ID", "AGENT", "PRI"
    ));
    for v in &all {
        let state = if v.state == State::Todo && v.reason.is_some() {
            "invalid"
        } else {
            v.state.name()
        };
        let title = match (&v.title, v.short_reason()) {
            (Some(t), None) => t.clone(),
            (Some(t), Some(r)) => format!("{t}  ({r})"),
            (None, Some(r)) => format!("({r})"),
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "{state:<7} {:<id_width$} {:<10} {:>4}  {title}\n",
            v.id,
            v.agent.as_deref().unwrap_or("-"),
            v.priority
        ));
    }
    print!("{out}");
    Ok(())
}
