//! `git agentos friction`: what went wrong, how often, and the tasks it becomes.
use crate::clock::Timestamp;
use crate::error::{CmdResult, CommandError};
use crate::friction::enqueue;
use crate::friction::report::{self, Summary};
use crate::path_error::PathError;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// Summarize .agentos/friction.jsonl (failed verifications, agent errors,
/// timeouts, retries, resumes after a crash, hook errors, GitHub retries, long
/// silences): counts by kind and step, the worst tasks, the trend.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only events since a date (2026-11-01), a time (RFC 3339) or an age (7d, 12h).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Turn each kind of friction seen at least --threshold times into one task in
    /// todo/ (with the evidence in its body); never the same one twice.
    #[arg(long)]
    pub enqueue: bool,
    /// Occurrences that make friction recurring (default: `[friction] threshold`
    /// in config.toml, else 3).
    #[arg(long, value_name = "N")]
    pub threshold: Option<usize>,
    /// Record an event of this kind yourself (from a verify script or a hook),
    /// with --message, and optionally --task and --step.
    #[arg(long, value_name = "KIND", requires = "message", conflicts_with_all = ["enqueue", "json", "since"])]
    pub add: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    #[arg(long, value_name = "ID", requires = "add")]
    pub task: Option<String>,
    #[arg(long, value_name = "STEP", requires = "add")]
    pub step: Option<String>,
    /// Summarise the log of every repository of the fleet ($AGENTOS_HOME/fleet/), each on its own.
    #[arg(long, conflicts_with_all = ["add", "enqueue"])]
    pub fleet: bool,
}

pub fn run(dir: &Path, args: Args) -> CmdResult<()> {
    if args.fleet {
        let since = args
            .since
            .as_deref()
            .map(|s| since(s, Timestamp::now()))
            .transpose()?;
        return super::fleet::friction(since, args.json);
    }
    let ctx = Workspace::discover(dir)?;
    if let Some(kind) = &args.add {
        if !crate::task::is_slug(kind) {
            return Err(
                CommandError::invalid(format!("--add `{kind}` is not a kind"))
                    .hint("a kind is a slug such as `flaky-test` or `slow-build`"),
            );
        }
        if let Some(task) = args.task.as_deref().filter(|t| !crate::task::is_slug(t)) {
            return Err(
                CommandError::invalid(format!("--task `{task}` is not a task id"))
                    .hint("give the id of a task (the file name without .md), not a path"),
            );
        }
        let mut event = crate::friction::Event::new(
            kind,
            args.step.as_deref().unwrap_or(""),
            args.message.as_deref().unwrap_or(""),
        );
        event.task = args.task.clone();
        ctx.ensure_runtime()?;
        let log = crate::friction::path(&ctx.tree);
        crate::friction::record(&ctx.tree, &event).map_err(PathError::at("append to", &log))?;
        return Ok(());
    }
    let now = Timestamp::now();
    let log = crate::friction::path(&ctx.tree);
    let (mut events, unreadable) =
        crate::friction::read(&ctx.tree).map_err(PathError::at("read", &log))?;
    if let Some(text) = &args.since {
        let from = since(text, now)?;
        events.retain(|e| e.time >= from);
    }
    if args.enqueue {
        let config = crate::config::load(&ctx.tree)?;
        let threshold = args.threshold.or(config.friction.threshold).unwrap_or(3);
        ctx.ensure_runtime()?;
        let base_branch = ctx.repo.head().ok().and_then(|(_, b)| b);
        let done = enqueue::enqueue(&ctx.tree, &events, threshold, base_branch)?;
        if args.json {
            let not_queued: Vec<_> = done
                .not_queued
                .iter()
                .map(|(id, why)| serde_json::json!({ "id": id, "reason": why }))
                .collect();
            return super::print_json(
                &serde_json::json!({ "enqueued": done.created, "not_queued": not_queued }),
            );
        }
        if done.created.is_empty() && done.not_queued.is_empty() {
            outln!("no new recurring friction (threshold {threshold}); nothing queued");
        }
        for id in &done.created {
            outln!("queued {id}");
        }
        for (id, why) in &done.not_queued {
            outln!("{}: not queued: {}", untrusted(id), untrusted(why));
        }
        return Ok(());
    }
    let summary = report::summarize(&events, unreadable, now);
    if args.json {
        return super::print_json(&summary);
    }
    print_text(&summary);
    Ok(())
}

/// `--since`: a date, a time or an age.
fn since(text: &str, now: Timestamp) -> CmdResult<Timestamp> {
    report::parse_since(text, now).ok_or_else(|| {
        CommandError::invalid(format!("--since `{text}` is not a date, a time or an age"))
            .hint("use 2026-11-01, 2026-11-01T09:00:00Z, 7d or 12h")
    })
}

/// The summary for a person: kinds, tasks and messages come from the log, which
/// agents and scripts write, so the whole text goes through [`untrusted`].
pub(super) fn print_text(s: &Summary) {
    let mut out = String::new();
    let _ = write_text(s, &mut out);
    out!("{}", untrusted(&out));
}

fn write_text(s: &Summary, out: &mut String) -> std::fmt::Result {
    use std::fmt::Write;
    if s.total == 0 {
        writeln!(out, "no friction recorded")?;
        return Ok(());
    }
    writeln!(
        out,
        "{} events; last 7 days {}, the 7 before {}",
        s.total, s.last_week, s.week_before
    )?;
    writeln!(out, "\nby kind and step:")?;
    for c in &s.recurring {
        writeln!(
            out,
            "  {:>5}  {:<18} {:<12} last {}",
            c.count, c.kind, c.step, c.last
        )?;
    }
    if !s.worst_tasks.is_empty() {
        writeln!(out, "\nworst tasks:")?;
        for o in &s.worst_tasks {
            writeln!(
                out,
                "  {:>5}  {:<30} {}",
                o.count,
                o.task,
                o.kinds.join(", ")
            )?;
        }
    }
    writeln!(out, "\nby day:")?;
    for (day, n) in s.by_day.iter().rev().take(14).rev() {
        writeln!(out, "  {day}  {n:>5}  {}", "#".repeat((*n).min(60)))?;
    }
    match s.unreadable_lines {
        0 => {}
        1 => writeln!(
            out,
            "\n1 unreadable line of .agentos/friction.jsonl skipped"
        )?,
        n => writeln!(
            out,
            "\n{n} unreadable lines of .agentos/friction.jsonl skipped"
        )?,
    }
    Ok(())
}
