//! `git agentos friction`: what went wrong, how often, and the tasks it becomes.
use super::Context;
use crate::error::{io_error, CmdResult, CommandError};
use crate::friction_report::{self, Summary};
use crate::timestamp::Timestamp;
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
}

pub fn run(dir: &Path, args: Args) -> CmdResult<()> {
    let ctx = Context::discover(dir)?;
    if let Some(kind) = &args.add {
        if !crate::task::is_slug(kind) {
            return Err(
                CommandError::invalid(format!("--add `{kind}` is not a kind"))
                    .hint("a kind is a slug such as `flaky-test` or `slow-build`"),
            );
        }
        let mut event = crate::friction::Event::new(
            kind,
            args.step.as_deref().unwrap_or(""),
            args.message.as_deref().unwrap_or(""),
        );
        event.task = args.task.clone();
        ctx.ensure_runtime()?;
        return crate::friction::record(&ctx.tree, &event)
            .map_err(|e| io_error("append to", &crate::friction::path(&ctx.tree), e));
    }
    let now = Timestamp::now();
    let (mut events, unreadable) = crate::friction::read(&ctx.tree)
        .map_err(|e| io_error("read", &crate::friction::path(&ctx.tree), e))?;
    if let Some(since) = &args.since {
        let from = friction_report::parse_since(since, now).ok_or_else(|| {
            CommandError::invalid(format!("--since `{since}` is not a date, a time or an age"))
                .hint("use 2026-11-01, 2026-11-01T09:00:00Z, 7d or 12h")
        })?;
        events.retain(|e| e.time >= from);
    }
    if args.enqueue {
        let config = crate::config::load(&ctx.tree)?;
        let threshold = args.threshold.or(config.friction.threshold).unwrap_or(3);
        ctx.ensure_runtime()?;
        let base_branch = ctx.repo.head().ok().and_then(|(_, b)| b);
        let created = friction_report::enqueue(&ctx.tree, &events, threshold, base_branch)
            .map_err(|e| io_error("queue friction tasks in", &ctx.tree.dir, e))?;
        if args.json {
            return super::print_json(&serde_json::json!({ "enqueued": created }));
        }
        if created.is_empty() {
            println!("no new recurring friction (threshold {threshold}); nothing queued");
        }
        for id in created {
            println!("queued {id}");
        }
        return Ok(());
    }
    let summary = friction_report::summarize(&events, unreadable, now);
    if args.json {
        return super::print_json(&summary);
    }
    print_text(&summary);
    Ok(())
}

fn print_text(s: &Summary) {
    if s.total == 0 {
        println!("no friction recorded");
        return;
    }
    println!(
        "{} events; last 7 days {}, the 7 before {}",
        s.total, s.last_week, s.week_before
    );
    println!("\nby kind and step:");
    for c in &s.recurring {
        println!(
            "  {:>5}  {:<18} {:<12} last {}",
            c.count, c.kind, c.step, c.last
        );
    }
    if !s.worst_tasks.is_empty() {
        println!("\nworst tasks:");
        for o in &s.worst_tasks {
            println!("  {:>5}  {:<30} {}", o.count, o.task, o.kinds.join(", "));
        }
    }
    println!("\nby day:");
    for (day, n) in s.by_day.iter().rev().take(14).rev() {
        println!("  {day}  {n:>5}  {}", "#".repeat((*n).min(60)));
    }
    if s.unreadable_lines > 0 {
        println!(
            "\n{} lines of .agentos/friction.jsonl could not be read and were skipped",
            s.unreadable_lines
        );
    }
}
