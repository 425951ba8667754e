//! `git agentos logs`: what a task's agent did.
use crate::agent::transcript::{self, latest_run, Item};
use crate::error::{CmdResult, CommandError};
use crate::path_error::PathError;
use crate::queue::State;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
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

/// A line of the stream as text for a person; None for events of no interest.
fn readable(line: &str) -> Option<String> {
    let lines: Vec<String> = transcript::items(line)
        .into_iter()
        .filter_map(|item| match item {
            Item::Start { session, cwd, .. } => Some(format!(
                "started (session {}, in {})",
                session.unwrap_or_default(),
                cwd.unwrap_or_default()
            )),
            Item::Text(text) => Some(format!("  says: {}", text.replace('\n', "\n  "))),
            Item::Tool { name, detail } if detail.is_empty() => Some(format!("  {name}")),
            Item::Tool { name, detail } => Some(format!("  {name} {detail}")),
            // Writes refused, whether or not the tool failed; else a failed tool.
            Item::ToolResult { refused, .. } if !refused.is_empty() => Some(
                refused
                    .iter()
                    .map(|line| format!("    refused: {line}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Item::ToolResult {
                text, error: true, ..
            } => Some(format!("  refused: {}", text.replace('\n', "\n  "))),
            Item::ToolResult { .. } => None,
            Item::Notice(text) => Some(format!("  ({text})")),
            Item::Result {
                outcome,
                error,
                summary,
                denials,
            } => {
                let mut text = format!("result: {outcome}");
                if error {
                    text.push_str(" (error)");
                }
                if let Some(summary) = summary {
                    text.push_str(&format!("\n  {}", summary.replace('\n', "\n  ")));
                }
                for d in denials {
                    text.push_str(&format!(
                        "\n  denied: {} {}",
                        d.tool_name,
                        d.path.unwrap_or_default()
                    ));
                }
                Some(text)
            }
            Item::NotJson(text) => Some(format!("  (not stream-json) {text}")),
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    let entry = ctx.find_task(&args.id)?;
    // The agent's output is a model's: shown, never obeyed, except with --raw.
    let print = |line: &str| {
        if args.raw {
            outln!("{line}");
        } else if let Some(text) = readable(line) {
            outln!("{}", untrusted(&text));
        }
    };
    let Some(attempt) = latest_run(&ctx.tree.runs_dir(), &args.id) else {
        if entry.state == State::Todo || !args.follow {
            outln!(
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
        let running = agent_may_write(&ctx, &args.id);
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
        outln!("stderr:\n{}", untrusted(stderr.trim_end()));
    }
    Ok(())
}

/// The task is claimed, or a revision round of its pull request is under way:
/// its agent may still write to its log.
fn agent_may_write(ctx: &Workspace, id: &str) -> bool {
    let tree = &ctx.tree;
    if tree
        .state_dir(State::Doing)
        .join(format!("{id}.md"))
        .exists()
    {
        return true;
    }
    let record = tree
        .state_dir(State::Review)
        .join(format!("{id}.record.json"));
    crate::queue::read_record(&record)
        .ok()
        .flatten()
        .and_then(|r| r.review)
        .is_some_and(|r| r.round.is_some())
}
