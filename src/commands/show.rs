//! `git agentos show`: one task, its state, its record and its body.
use super::{print_json, view};
use crate::error::CmdResult;
use crate::path_error::PathError;
use crate::queue::State;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// Show one task: its fields, where it is, its claim record and journal, why it
/// failed, and its body.
///
/// A task with a pull request also shows what it waits for, when the next pass
/// over it is due, and the revision rounds made on it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The task id (its file name without `.md`).
    pub id: String,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    let entry = ctx.find_task(&args.id)?;
    let view = if entry.state == State::Todo {
        let mut view = view::todo_views(&ctx)
            .map_err(PathError::at("read", &ctx.tree.dir))?
            .into_iter()
            .find(|v| v.file == ctx.rel(&entry.path))
            .unwrap_or_else(|| view::settled_view(&ctx, &entry));
        // The queue scan keeps no bodies; read this one.
        view.body = crate::task::load(&entry.path)
            .map(|t| t.body)
            .unwrap_or_default();
        view
    } else {
        view::settled_view(&ctx, &entry)
    };
    if args.json {
        return print_json(&view);
    }
    let mut out = String::new();
    let mut line = |k: &str, v: &str| out.push_str(&format!("{k:<10}{v}\n"));
    line("id", &view.id);
    let state = match (&view.hold, &view.reason) {
        (_, Some(_)) if view.state == State::Todo => "todo (invalid: never runs)".to_string(),
        (Some(hold), _) => format!("todo ({})", hold.describe()),
        _ => view.state.name().to_string(),
    };
    line("state", &format!("{state}  ({})", view.file));
    if let Some(title) = &view.title {
        line("title", title);
    }
    line("agent", view.agent.as_deref().unwrap_or("default"));
    if !view.targets.is_empty() {
        line("targets", &view.targets.join(", "));
    }
    if let Some(base) = &view.base {
        match &view.base_branch {
            Some(branch) if branch != base => line("base", &format!("{base} (branch {branch})")),
            _ => line("base", base),
        }
    }
    if !view.verify.is_empty() {
        line("verify", &view.verify.join(" && "));
    }
    if !view.after.is_empty() {
        let stacked = match &view.stacked_on {
            Some(dep) => format!(" (stacked: starts from agentos/{dep})"),
            None => String::new(),
        };
        line("after", &format!("{}{stacked}", view.after.join(", ")));
    }
    if let Some(turns) = view.max_turns {
        line("max turns", &turns.to_string());
    }
    if let Some(usd) = view.max_cost_usd {
        line("max cost", &format!("${usd:.2}"));
    }
    line("priority", &view.priority.to_string());
    line(
        "timeout",
        view.timeout.as_deref().unwrap_or("30m (default)"),
    );
    if let Some(enqueued) = &view.enqueued {
        line("enqueued", &enqueued.to_string());
    }
    if let Some(record) = &view.record {
        line("attempt", &record.attempt.to_string());
        let steps: Vec<String> = record
            .steps
            .iter()
            .map(|s| format!("{:?}", s.step).to_lowercase())
            .collect();
        line("steps", &steps.join(" → "));
        for past in &record.history {
            line("earlier", past);
        }
        if let Some(result) = &record.agent_result {
            let session = result
                .session_id
                .as_deref()
                .map(|s| format!(" (session {s})"))
                .unwrap_or_default();
            line("agent run", &format!("{}{session}", result.describe()));
        }
        if let Some(sandbox) = &record.sandbox {
            line("sandbox", sandbox);
        }
        for denial in &record.sandbox_denials {
            line("refused", &format!("{} ({})", denial.path, denial.line));
        }
        if let Some(url) = &record.pr_url {
            line("pr", url);
        }
        if let Some(review) = &record.review {
            line("review", &review.line());
            if view.state == State::Review {
                if let Some(due) = review.next_pass_due(crate::clock::now()) {
                    line("next pass", &due);
                }
            }
            for done in &review.history {
                line("round", &done.line());
            }
            for widened in &review.widened {
                line("widened", widened);
            }
            for ignored in &review.ignored {
                line(
                    "ignored",
                    &format!(
                        "@{} ({}, no write access): {}",
                        ignored.by, ignored.association, ignored.text
                    ),
                );
            }
        }
        if let (Some(remote), Some(commit)) = (&record.pushed_to, &record.pushed_commit) {
            line("pushed", &format!("{commit} to {remote}"));
        }
        if let Some(note) = &record.published_note {
            line("output", note);
        }
        if let Some(report) = &record.report {
            line("report", report);
        }
        if let Some(branch) = &record.branch {
            match &record.commit {
                Some(commit) => line("branch", &format!("{branch} at {commit}")),
                None => line("branch", branch),
            }
        }
    }
    if let Some(reason) = &view.reason {
        line("reason", reason);
    }
    // Every field and the body come from files, commits, agents or GitHub.
    outln!("{}", untrusted(&out));
    out!("{}", untrusted(&view.body));
    Ok(())
}
