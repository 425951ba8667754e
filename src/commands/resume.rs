//! `git agentos resume`: end the queue's pause early.
use crate::error::CmdResult;
use crate::path_error::PathError;
use crate::schedule::pause;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// End the queue's pause now: after a usage or rate limit (or the daily budget,
/// which then does not pause the queue again today), tasks start again at once.
/// A running `watch` wakes up; `run` starts them.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(dir: &Path, _args: Args) -> CmdResult {
    let ws = Workspace::discover(dir)?;
    let now = crate::clock::now();
    let ended =
        pause::resume(&ws.tree, now).map_err(PathError::at("write", &pause::path(&ws.tree)))?;
    match ended {
        Some(p) => println!(
            "resumed: the queue was {}; tasks start again",
            untrusted(&p.describe(now))
        ),
        None => println!("the queue is not paused"),
    }
    Ok(())
}
