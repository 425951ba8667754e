//! `git agentos logs`: what a task's agent did.
use crate::agent::stream::{self, Event};
use crate::error::{CmdResult, CommandError};
use crate::path_error::PathError;
use crate::queue::State;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Show what a task's agent did in its latest attempt or revision round: start,
/// tool calls, result.
///
/// The raw stream is in .agentos/runs/<id>/attempt-<n>/agent.jsonl (round-<n>/ for
/// a revision round of its pull request).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The task id.
    pub id: String,
    /// Keep printing as the agent works, until the task finishes.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Print the agent's stream-json lines as they are.
    #[arg(long)]
    pub raw: bool,
}

/// The folder of a task's latest agent run: its latest revision round whose
/// agent ran, else its latest attempt.
pub fn latest_attempt(runs: &Path, id: &str) -> Option<PathBuf> {
    let dir = runs.join(id);
    let numbered = |prefix: &str| {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_prefix(prefix)?
                    .parse::<u32>()
                    .ok()
                    .map(|n| (n, e.path()))
            })
            .filter(|(_, p)| prefix == "attempt-" || p.join("agent.jsonl").exists())
            .max_by_key(|(n, _)| *n)
            .map(|(_, p)| p)
    };
    numbered("round-").or_else(|| numbered("attempt-"))
}

fn readable(line: &str) -> Option<String> {
    match stream::parse_line(line) {
        Ok(Event::Init { session_id, cwd }) => Some(format!(
            "started (session {}, in {})",
            session_id.unwrap_or_default(),
            cwd.unwrap_or_default()
        )),
        Ok(Event::Action { summary, .. }) => Some(format!("  {summary}")),
        Ok(Event::Result(r)) => {
            let mut text = format!("result: {}", r.describe());
            if r.is_error {
                text.push_str(" (error)");
            }
            if let Some(summary) = r.summary {
                text.push_str(&format!("\n  {}", summary.replace('\n', "\n  ")));
            }
            for d in r.permission_denials {
                text.push_str(&format!(
                    "\n  denied: {} {}",
                    d.tool_name,
                    d.path.unwrap_or_default()
                ));
            }
            Some(text)
        }
        Ok(Event::ToolResult { text }) => {
            let refused: Vec<String> = crate::agent::denials::refusals(&text)
                .into_iter()
                .map(|r| format!("    refused: {}", r.line))
                .collect();
            (!refused.is_empty()).then(|| refused.join("\n"))
        }
        Ok(Event::Other) => None,
        Err(stream::NotAnEvent(text)) => Some(format!("  (not stream-json) {text}")),
    }
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    let entry = ctx.find_task(&args.id)?;
    // The agent's output is a model's: shown, never obeyed, except with --raw.
    let print = |line: &str| {
        if args.raw {
            println!("{line}");
        } else if let Some(text) = readable(line) {
            println!("{}", untrusted(&text));
        }
    };
    let Some(attempt) = latest_attempt(&ctx.tree.runs_dir(), &args.id) else {
        if entry.state == State::Todo || !args.follow {
            println!(
                "`{}` has no agent log yet ({}).",
                untrusted(&args.id),
                entry.state.name()
            );
            return Ok(());
        }
        return Err(CommandError::invalid(format!(
            "`{}` has no agent log",
            args.id
        )));
    };
    let log = attempt.join("agent.jsonl");
    let file = std::fs::File::open(&log).map_err(PathError::at("open", &log))?;
    let mut reader = BufReader::new(file);
    let mut pending = String::new();
    loop {
        let mut chunk = String::new();
        let n = reader
            .read_line(&mut chunk)
            .map_err(PathError::at("read", &log))?;
        if n > 0 {
            pending.push_str(&chunk);
            if pending.ends_with('\n') {
                print(pending.trim_end());
                pending.clear();
            }
            continue;
        }
        let running = ctx
            .tree
            .state_dir(State::Doing)
            .join(format!("{}.md", args.id))
            .exists();
        if !args.follow || !running {
            break;
        }
        // Following a live log: wait briefly for the agent to write more.
        std::thread::sleep(Duration::from_millis(200));
        let pos = reader
            .stream_position()
            .map_err(PathError::at("read", &log))?;
        reader
            .seek(SeekFrom::Start(pos))
            .map_err(PathError::at("read", &log))?;
    }
    if !pending.trim().is_empty() {
        print(pending.trim_end());
    }
    let stderr = std::fs::read_to_string(attempt.join("agent.stderr")).unwrap_or_default();
    if !args.raw && !stderr.trim().is_empty() {
        println!("stderr:\n{}", untrusted(stderr.trim_end()));
    }
    Ok(())
}
