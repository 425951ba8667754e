//! A task's page: its status part (state, actions, why it failed, the outcome
//! and pull request, the step timeline, the fields and body, the verification
//! report with its diff), which live updates replace whole, and its log part
//! (the agent's stream as items), to which they append.
use super::columns::label;
use super::html::{action, human, layout, t, when, Ctx};
use super::markdown::{safe_href, to_html};
use super::task_page::TaskPage;
use crate::agent::transcript::{self, Item};
use crate::queue::{Record, Step, StepDone};
use maud::{html, Markup};
use std::time::Duration;

/// The whole page.
pub fn page(ctx: &Ctx, repo: &str, page: &TaskPage, events: &str) -> Markup {
    layout(
        page.title(),
        Some(events),
        html! {
            nav.crumbs { a href="/" { "board" } " › " (t(repo)) " › " code { (t(&page.id)) } }
            div id="task-status" { (status(ctx, repo, page)) }
            section id="log-section" { (log_section(repo, page)) }
        },
    )
}

/// Everything but the log.
pub fn status(ctx: &Ctx, repo: &str, page: &TaskPage) -> Markup {
    let record = page.record.as_ref();
    html! {
        header.task-head {
            h1 { (t(page.title())) }
            span class={"badge state-" (page.state.name())} { (label(page.state)) }
            @if page.cancelling { span.mark.waiting { "cancelling" } }
            @if page.problem.is_some() { span.mark.blocked { "never runs" } }
        }
        @if page.is_running() {
            @if let Some(r) = record {
                @let elapsed = r.claimed_at.and_then(|at| page.now.since(at)).unwrap_or_default();
                p.running {
                    "at step " span.step { (r.first_pending().name()) } " · attempt " (r.attempt) " · "
                    span data-elapsed-ms=(elapsed.as_millis()) { (human(elapsed)) }
                    @if page.shows_latest_attempt() { " · the log below follows it" }
                }
            }
        }
        div.actions {
            @if page.state == crate::queue::State::Failed { (action(ctx, repo, &page.id, "retry", "task")) }
            @if matches!(page.state, crate::queue::State::Todo | crate::queue::State::Doing | crate::queue::State::Review) {
                (action(ctx, repo, &page.id, "cancel", "task"))
            }
        }
        @if let Some(problem) = &page.problem { p.problem { "Cannot run: " (t(problem)) } }
        @if let Some(reason) = &page.reason {
            section.reason { h2 { "Why it failed" } pre { (t(reason)) } }
        }
        @if let Some(review) = record.and_then(|r| r.review.as_ref()) { (pull_request(page, review)) }
        @if let Some(r) = record { (outcome(r)) }
        @if let Some(r) = record { (timeline(page, r)) }
        (fields(page))
        @if let Some(task) = &page.task {
            @if !task.body.trim().is_empty() {
                section.body { h2 { "Description" } div.markdown { (to_html(&task.body)) } }
            }
        }
        @if let Some(report) = &page.report {
            section.report {
                h2 { "Verification" @if let Some(n) = page.attempt { " (attempt " (n) ")" } }
                div.markdown { (to_html(report)) }
            }
        }
    }
}

fn outcome(r: &Record) -> Markup {
    html! {
        dl.result {
            @if let Some(result) = &r.agent_result {
                dt { "agent" } dd { (t(&result.describe())) @if result.is_error { " (error)" } }
                @if let Some(turns) = result.num_turns { dt { "turns" } dd.turns { (turns) } }
                @if let Some(cost) = result.total_cost_usd { dt { "cost" } dd.cost { "$" (format!("{cost:.4}")) } }
                @if let Some(summary) = &result.summary { dt { "summary" } dd { (t(summary)) } }
                @for d in &result.permission_denials {
                    dt.denied { "denied" } dd { (t(&d.tool_name)) " " (t(d.path.as_deref().unwrap_or(""))) }
                }
            }
            @if let Some(url) = &r.pr_url {
                dt { "pull request" }
                dd { @match safe_href(url) {
                    Some(href) => a.pr href=(href) rel="noreferrer noopener" { (t(url)) },
                    None => (t(url)),
                } }
            }
            @if let Some(branch) = &r.branch {
                dt { "branch" } dd { code { (t(branch)) } @if let Some(c) = &r.commit { " at " code { (t(c)) } } }
            }
            @if let (Some(remote), Some(commit)) = (&r.pushed_to, &r.pushed_commit) {
                dt { "pushed" } dd { code { (t(commit)) } " to " (t(remote)) }
            }
            @if let Some(note) = &r.published_note { dt { "output" } dd { (t(note)) } }
        }
    }
}

fn timeline(page: &TaskPage, r: &Record) -> Markup {
    // Each step with how long it took since the one before (the claim: since claimed).
    let steps: Vec<(&StepDone, Option<Duration>)> = r
        .steps
        .iter()
        .scan(r.claimed_at, |previous, s| {
            let took = previous.and_then(|p| s.at.since(p));
            *previous = Some(s.at);
            Some((s, took))
        })
        .collect();
    html! {
        section.timeline {
            h2 { "Steps" }
            ol.steps {
                @for (s, took) in &steps {
                    li.done {
                        span.step { (s.step.name()) } " " span.at { (when(s.at)) }
                        @if let Some(d) = took.filter(|_| s.step != Step::Claim) {
                            " · " @if d.as_secs() == 0 { "<1s" } @else { (human(d)) }
                        }
                        @if s.attempt != r.attempt { " · attempt " (s.attempt) }
                    }
                }
                @if page.is_running() {
                    li.current { span.step { (r.first_pending().name()) } " in progress" }
                }
                @if let (Some(reason), Some(at)) = (&r.reason, r.finished_at) {
                    li.failed { span.step { "failed" } " " span.at { (when(at)) } " · " (t(reason.lines().next().unwrap_or(""))) }
                }
            }
            @for line in &r.history { p.note { "earlier: " (t(line)) } }
            @for old in &page.earlier {
                p.note {
                    "before a retry: "
                    @if let Some(at) = old.finished_at { (when(at)) " · " }
                    (t(old.reason.as_deref().and_then(|r| r.lines().next()).unwrap_or("(no reason)")))
                }
            }
        }
    }
}

fn fields(page: &TaskPage) -> Markup {
    html! {
        section.fields {
            h2 { "Task" }
            dl {
                dt { "id" } dd { code { (t(&page.id)) } }
                dt { "file" } dd { code { (t(&page.file)) } }
                @if let Some(task) = &page.task {
                    dt { "targets" } dd { @for target in &task.targets { code { (t(target)) } " " } }
                    dt { "agent" } dd { (t(task.agent.as_deref().unwrap_or("default"))) }
                    @if let Some(base) = &task.base {
                        dt { "base" } dd { code { (t(base)) }
                            @if let Some(b) = task.base_branch.as_ref().filter(|b| *b != base) { " (branch " (t(b)) ")" } }
                    }
                    @if !task.verify.is_empty() {
                        dt { "verify" } dd { @for v in &task.verify { code { (t(v)) } " " } }
                    }
                    dt { "priority" } dd { (task.priority) }
                    dt { "timeout" } dd { (t(task.timeout.as_deref().unwrap_or("30m (default)"))) }
                    @if let Some(at) = task.enqueued { dt { "queued" } dd { (when(at)) } }
                }
            }
        }
    }
}

/// The log's heading and items (or why there are none).
pub fn log_section(repo: &str, page: &TaskPage) -> Markup {
    html! {
        h2 {
            "Agent log"
            @if let Some(n) = page.attempt { " · attempt " (n) }
            @if page.attempts.len() > 1 {
                span.attempts {
                    @for n in &page.attempts {
                        " " a href={(super::html::task_href(repo, &page.id)) "?attempt=" (n)} { (n) }
                    }
                }
            }
        }
        @match &page.log {
            Some(lines) => {
                @if lines.begin > 0 { p.note { "The first " (lines.begin / 1024) " KiB are not shown: " code { "git agentos logs " (t(&page.id)) } } }
                div.log id="log" { (log_items(&lines.text)) }
            }
            None => { div.log id="log" {} p.empty { "No agent has run for this task yet." } }
        }
        @if let Some(stderr) = &page.stderr {
            details.stderr { summary { "stderr" } pre { (t(stderr)) } }
        }
    }
}

/// The stream's lines as items.
pub fn log_items(text: &str) -> Markup {
    html! {
        @for line in text.lines() {
            @for item in transcript::items(line) { (item_html(&item)) }
        }
    }
}

fn item_html(item: &Item) -> Markup {
    match item {
        Item::Start {
            session,
            cwd,
            model,
        } => html! {
            div.item.start {
                "started"
                @if let Some(m) = model { " · " (t(m)) }
                @if let Some(s) = session { " · session " code { (t(s)) } }
                @if let Some(c) = cwd { " · in " code { (t(c)) } }
            }
        },
        Item::Text(text) => html! { div.item.text { (t(text)) } },
        Item::Tool { name, detail } => html! {
            div.item.tool { span.name { (t(name)) } " " code { (t(detail)) } }
        },
        Item::ToolResult { refused, .. } if !refused.is_empty() => html! {
            @for line in refused { div.item.denied { "refused: " (t(line)) } }
        },
        Item::ToolResult {
            text, error: true, ..
        } => html! {
            div.item.denied { "refused: " (t(text)) }
        },
        Item::ToolResult { text, .. } => html! { div.item.output { (t(text)) } },
        Item::Notice(text) => html! { div.item.notice { (t(text)) } },
        Item::Result {
            outcome,
            error,
            summary,
            denials,
        } => html! {
            div.item.result.error[*error] {
                "finished: " (t(outcome))
                @if let Some(s) = summary { div.summary { (t(s)) } }
                @for d in denials {
                    div.denied { "denied: " (t(&d.tool_name)) " " (t(d.path.as_deref().unwrap_or(""))) }
                }
            }
        },
        Item::NotJson(text) => html! { div.item.raw { (t(text)) } },
    }
}

/// The pull request a task in review/ (or merged, or closed) waits on: what
/// it waits for, when the next pass is due, the rounds made.
fn pull_request(page: &TaskPage, review: &crate::queue::review::Review) -> Markup {
    html! {
        section.review {
            h2 { "Pull request" }
            p.phase { (t(&review.line())) }
            @if page.state == crate::queue::State::Review {
                @if let Some(round) = &review.round {
                    p.running {
                        "round " (round.number) " at step "
                        span.step { (round.first_pending().map_or("reply", |s| s.name())) }
                        " · answering " (t(&round.answering()))
                    }
                } @else if let Some(due) = review.next_pass_due(page.now) {
                    p.due { "next pass " (due) }
                }
            }
            @if !review.history.is_empty() {
                ul.rounds { @for done in &review.history { li { "round " (t(&done.line())) } } }
            }
        }
    }
}
