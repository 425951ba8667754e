//! What a pass makes of what it read, with no effect of its own: whether the
//! pull request was merged or closed, the commands people with write access
//! gave (`@agentos stop`, `retry`, `targets: …`), the comments only shown, and
//! the events not answered yet that start a round: a review requesting
//! changes, a comment that mentions git agentos, a failing check or status on
//! the head commit (once every check there has finished), a conflict with the
//! base branch.
use crate::config::ReviewConfig;
use crate::forge::pull::{can_write, login, CheckRun, PullSnapshot, Status};
use crate::queue::review::{Event, Ignored, Review};

/// The label that stops rounds while it is on the pull request.
pub const HOLD: &str = "agentos:hold";
/// The label put on when the rounds run out.
pub const NEEDS_HUMAN: &str = "agentos:needs-human";

/// How the pull request ended, if it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Merged {
        commit: Option<String>,
        by: Option<String>,
    },
    Closed,
}

/// A command in a comment, from someone with write access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Stop,
    Retry,
    Targets(Vec<String>),
}

/// A comment's commands, in order, and who gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// `control:<comment id>`: applied once.
    pub key: String,
    pub by: String,
    pub commands: Vec<Command>,
}

/// What a pass found.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    pub settled: Option<Settled>,
    pub controls: Vec<Control>,
    /// Mentions from people without write access, keyed `ignored:<id>`.
    pub ignored: Vec<(String, Ignored)>,
    /// Events not answered yet, oldest first.
    pub events: Vec<Event>,
    pub on_hold: bool,
    /// Checks and statuses on the head that have not finished.
    pub running: Vec<String>,
    /// People whose latest review approves.
    pub approved_by: Vec<String>,
    /// GitHub has not computed mergeability yet.
    pub mergeability_unknown: bool,
}

/// Read a pass's snapshot against what the task already answered.
pub fn decide(snap: &PullSnapshot, review: &Review, config: &ReviewConfig, me: &str) -> Decision {
    let pull = &snap.pull;
    let mut out = Decision::default();
    if pull.merged {
        out.settled = Some(Settled::Merged {
            commit: pull.merge_commit_sha.clone(),
            by: pull.merged_by.as_ref().map(|u| u.login.clone()),
        });
        return out;
    }
    if !pull.is_open() {
        out.settled = Some(Settled::Closed);
        return out;
    }
    out.on_hold = pull.has_label(HOLD);
    out.mergeability_unknown = pull.mergeable.is_none();
    let mention = config.mention.trim();
    let others = |who: &str| !who.eq_ignore_ascii_case(me);

    // Reviews: each reviewer's latest verdict counts.
    let mut latest: Vec<&crate::forge::pull::ReviewItem> = Vec::new();
    for r in snap.reviews.iter().filter(|r| others(login(&r.user))) {
        if !matches!(
            r.state.as_str(),
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
        ) {
            continue;
        }
        latest.retain(|l| l.user != r.user);
        latest.push(r);
    }
    let mut in_reviews: Vec<u64> = Vec::new();
    for r in &latest {
        let who = login(&r.user);
        match r.state.as_str() {
            "APPROVED" => out.approved_by.push(who.to_string()),
            "CHANGES_REQUESTED" if can_write(&r.author_association) => {
                let key = format!("review:{}", r.id);
                if !config.on_changes_requested || review.is_answered(&key) {
                    continue;
                }
                let mut detail = r.body.clone().unwrap_or_default().trim().to_string();
                for c in snap
                    .inline
                    .iter()
                    .filter(|c| c.pull_request_review_id == Some(r.id))
                {
                    in_reviews.push(c.id);
                    detail.push_str(&format!("\n- {}", inline_line(c)));
                }
                out.events.push(Event {
                    key,
                    title: format!("the review by @{who} requesting changes"),
                    detail: detail.trim().to_string(),
                    conflict: false,
                });
            }
            _ => {}
        }
    }

    // Conversation and inline comments that mention git agentos.
    let mut said: Vec<Said> = Vec::new();
    for c in &snap.comments {
        said.push(Said {
            id: c.id,
            key: format!("comment:{}", c.id),
            who: login(&c.user),
            association: &c.author_association,
            body: c.body.as_deref().unwrap_or(""),
            inline: None,
        });
    }
    for c in snap.inline.iter().filter(|c| !in_reviews.contains(&c.id)) {
        said.push(Said {
            id: c.id,
            key: format!("inline:{}", c.id),
            who: login(&c.user),
            association: &c.author_association,
            body: &c.body,
            inline: Some(inline_line(c)),
        });
    }
    said.sort_by_key(|s| s.id);
    for Said {
        id,
        key,
        who,
        association,
        body,
        inline,
    } in said
    {
        if !others(who) || !mentions_word(body, mention) {
            continue;
        }
        if !can_write(association) {
            let ignored = format!("ignored:{id}");
            if !review.is_answered(&ignored) {
                let text = body
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim();
                out.ignored.push((
                    ignored,
                    Ignored {
                        by: who.to_string(),
                        association: association.to_string(),
                        text: text.chars().take(200).collect(),
                    },
                ));
            }
            continue;
        }
        let (commands, request) = parse(body, mention);
        let control = format!("control:{id}");
        if !commands.is_empty() && !review.is_answered(&control) {
            out.controls.push(Control {
                key: control,
                by: who.to_string(),
                commands,
            });
        }
        if request && config.on_mention && !review.is_answered(&key) {
            let (title, detail) = match inline {
                Some(at) => (format!("the comment by @{who} on the diff"), at),
                None => (format!("the comment by @{who}"), body.trim().to_string()),
            };
            out.events.push(Event {
                key,
                title,
                detail,
                conflict: false,
            });
        }
    }

    // Checks and statuses on the head commit, once all of them have finished.
    let head = &pull.head.sha;
    out.running = snap
        .checks
        .iter()
        .filter(|c| !c.is_complete())
        .map(|c| c.name.clone())
        .chain(
            snap.statuses
                .iter()
                .filter(|s| s.state == "pending")
                .map(|s| s.context.clone()),
        )
        .collect();
    if config.on_failing_checks && out.running.is_empty() {
        for run in snap.checks.iter().filter(|c| c.failed()) {
            let key = format!("check:{}@{head}", run.name);
            if !review.is_answered(&key) {
                out.events.push(check_event(key, run));
            }
        }
        for status in snap.statuses.iter().filter(|s| s.failed()) {
            let key = format!("status:{}@{head}", status.context);
            if !review.is_answered(&key) {
                out.events.push(status_event(key, status));
            }
        }
    }

    // A conflict with the base branch.
    if config.on_conflict && pull.mergeable == Some(false) {
        let key = format!("conflict:{head}..{}", pull.base.sha);
        if !review.is_answered(&key) {
            out.events.push(Event {
                key,
                title: format!("a conflict with `{}`", pull.base.name),
                detail: format!(
                    "The branch no longer merges cleanly into `{}`: the round merges `{}` into it first, and the files listed below hold conflict markers to resolve.",
                    pull.base.name, pull.base.name
                ),
                conflict: true,
            });
        }
    }
    out
}

/// A comment, conversation or inline, as the pass reads it.
struct Said<'a> {
    id: u64,
    key: String,
    who: &'a str,
    association: &'a str,
    body: &'a str,
    /// For an inline comment: where it is and what it says.
    inline: Option<String>,
}

/// `` `README.md` line 3: body `` for an inline comment.
fn inline_line(c: &crate::forge::pull::InlineComment) -> String {
    let line = c
        .line
        .or(c.original_line)
        .map(|l| format!(" line {l}"))
        .unwrap_or_default();
    format!(
        "`{}`{line} (@{}): {}",
        c.path,
        login(&c.user),
        c.body.trim()
    )
}

fn check_event(key: String, run: &CheckRun) -> Event {
    let conclusion = run.conclusion.as_deref().unwrap_or("failure");
    let mut detail = format!("The check run `{}` concluded `{conclusion}`.", run.name);
    if let Some(title) = run.output.title.as_deref().filter(|t| !t.is_empty()) {
        detail.push_str(&format!("\nTitle: {title}"));
    }
    if let Some(summary) = run.output.summary.as_deref().filter(|t| !t.is_empty()) {
        detail.push_str(&format!("\nSummary:\n{}", summary.trim()));
    }
    if let Some(text) = run.output.text.as_deref().filter(|t| !t.is_empty()) {
        detail.push_str(&format!("\nDetails:\n{}", text.trim()));
    }
    if !run.annotations.is_empty() {
        detail.push_str("\nAnnotations:");
        for a in &run.annotations {
            let lines = match (a.start_line, a.end_line) {
                (Some(s), Some(e)) if e != s => format!(" lines {s}-{e}"),
                (Some(s), _) => format!(" line {s}"),
                _ => String::new(),
            };
            let level = a.annotation_level.as_deref().unwrap_or("failure");
            let title = a
                .title
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| format!(" {t}:"))
                .unwrap_or_default();
            detail.push_str(&format!(
                "\n- `{}`{lines} [{level}]{title} {}",
                a.path,
                a.message.trim()
            ));
        }
    }
    if let Some(url) = run.html_url.as_deref().or(run.details_url.as_deref()) {
        detail.push_str(&format!("\nURL: {url}"));
    }
    Event {
        key,
        title: format!("a failing check `{}`", run.name),
        detail,
        conflict: false,
    }
}

fn status_event(key: String, status: &Status) -> Event {
    let mut detail = format!(
        "The commit status `{}` is `{}`.",
        status.context, status.state
    );
    if let Some(d) = status.description.as_deref().filter(|d| !d.is_empty()) {
        detail.push_str(&format!("\nDescription: {d}"));
    }
    if let Some(url) = status.target_url.as_deref().filter(|u| !u.is_empty()) {
        detail.push_str(&format!("\nURL: {url}"));
    }
    Event {
        key,
        title: format!("a failing status `{}`", status.context),
        detail,
        conflict: false,
    }
}

/// True when `text` mentions `word` as a word of its own (`@agentos`, not
/// `@agentos-bot`), in any case.
pub fn mentions_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let (text, word) = (text.to_lowercase(), word.to_lowercase());
    let mut from = 0;
    while let Some(at) = text[from..].find(&word) {
        let start = from + at;
        let end = start + word.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let part = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
        if !before.is_some_and(|c| part(c) || c == '@') && !after.is_some_and(part) {
            return true;
        }
        from = end;
    }
    false
}

/// A comment's commands (lines that start with the mention and a command) and
/// whether it also asks for a round: it mentions git agentos other than in a
/// `stop` or `retry` line.
pub fn parse(body: &str, mention: &str) -> (Vec<Command>, bool) {
    let mut commands = Vec::new();
    let mut request = false;
    for line in body.lines() {
        if !mentions_word(line, mention) {
            continue;
        }
        let trimmed = line.trim();
        let rest = trimmed
            .get(..mention.len())
            .filter(|head| head.eq_ignore_ascii_case(mention))
            .map(|_| {
                trimmed[mention.len()..]
                    .trim_start_matches([':', ','])
                    .trim()
            });
        match rest.map(|r| r.to_lowercase()) {
            Some(r) if r == "stop" || r == "stop." => commands.push(Command::Stop),
            Some(r) if r == "retry" || r == "retry." => commands.push(Command::Retry),
            Some(r) if r.starts_with("targets:") || r.starts_with("targets ") => {
                let list = rest
                    .map(|r| r["targets".len()..].trim_start_matches(':'))
                    .unwrap_or("");
                let paths: Vec<String> = list
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .map(|p| p.trim_matches('`'))
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect();
                commands.push(Command::Targets(paths));
                request = true;
            }
            _ => request = true,
        }
    }
    (commands, request)
}

#[cfg(test)]
mod tests;
