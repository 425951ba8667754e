//! The board's pages as compile-time templates (maud): the layout, a
//! repository's section (its columns and friction, the part that live updates
//! replace), the cards, the forms of the actions and the error pages. Every
//! text that git agentos did not write goes through `t`, which makes control
//! characters visible; maud escapes it for HTML.
use super::chart::Friction;
use super::columns::{label, Card, Column, Columns};
use super::repos::Repo;
use crate::clock::Timestamp;
use crate::dispatch::lock::Holder;
use crate::term::untrusted;
use maud::{html, Markup, DOCTYPE};
use std::borrow::Cow;
use std::time::Duration;

/// Untrusted text, control characters shown.
pub fn t(text: &str) -> Cow<'_, str> {
    untrusted(text)
}

/// What every page needs to know: the secret for its forms.
pub struct Ctx<'a> {
    pub secret: &'a str,
}

/// A whole page: `events` is the address of its live updates.
pub fn layout(title: &str, events: Option<&str>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (t(title)) " · git agentos" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/board.css";
                script src="/assets/board.js" defer {}
            }
            body data-events=[events] {
                header.top {
                    a.brand href="/" { "git agentos" }
                    span.live title="live updates" { "live" }
                }
                main { (main) }
            }
        }
    }
}

/// The address of a task's page.
pub fn task_href(repo: &str, id: &str) -> String {
    format!("/r/{repo}/task/{id}")
}

/// `1h2m`, `3m5s`, `12s`.
pub fn human(d: Duration) -> String {
    if d.as_secs() == 0 {
        return "0s".into();
    }
    crate::task::human(Duration::from_secs(d.as_secs()))
}

/// `2026-11-20 12:00:05 UTC`.
pub fn when(at: Timestamp) -> String {
    let text = at.to_string();
    format!("{} UTC", text.get(..19).unwrap_or(&text).replace('T', " "))
}

/// A POST form for one action on a task; `back` is where the answer sends the
/// browser (`board` or `task`).
pub fn action(ctx: &Ctx, repo: &str, id: &str, verb: &str, back: &str) -> Markup {
    let label = match verb {
        "retry" => "Retry",
        _ => "Cancel",
    };
    html! {
        form class={"action " (verb)} method="post" action={(task_href(repo, id)) "/" (verb)} {
            input type="hidden" name="token" value=(ctx.secret);
            input type="hidden" name="back" value=(back);
            button type="submit" { (label) }
        }
    }
}

/// The board: a section per repository.
pub fn board_page(ctx: &Ctx, sections: &[(Repo, Option<Markup>)], events: &str) -> Markup {
    layout(
        "board",
        Some(events),
        html! {
            div id="board" { (board_sections(ctx, sections)) }
        },
    )
}

/// Every repository's section; `live` is the part that updates (None: the
/// repository cannot be shown).
pub fn board_sections(ctx: &Ctx, sections: &[(Repo, Option<Markup>)]) -> Markup {
    html! {
        @if sections.is_empty() {
            p.problem { "No repositories in the fleet: link one as $AGENTOS_HOME/fleet/<name>." }
        }
        @for (repo, live) in sections {
            section.repo id={"repo-" (repo.name)} {
                header.repo-head {
                    h2 { (t(&repo.name)) }
                    span.path { (t(&repo.origin.display().to_string())) }
                }
                @match (&repo.tree, live) {
                    (Ok(_), Some(live)) => {
                        (add_form(ctx, &repo.name))
                        div.repo-live id={"live-" (repo.name)} { (live) }
                    }
                    (Err(problem), _) => p.problem { (t(problem)) },
                    (Ok(_), None) => p.problem { "cannot read its state folders" },
                }
            }
        }
    }
}

fn add_form(ctx: &Ctx, repo: &str) -> Markup {
    html! {
        details.add {
            summary { "New task" }
            form method="post" action={"/r/" (repo) "/add"} {
                input type="hidden" name="token" value=(ctx.secret);
                label { "Title" input name="title" required; }
                label {
                    "Targets " small { "paths or globs the change may touch, one per line" }
                    textarea name="targets" rows="2" required placeholder="README.md" {}
                }
                label { "Description" textarea name="body" rows="4" {} }
                button type="submit" { "Queue it" }
            }
        }
    }
}

/// A repository's live part: the dispatcher, the columns, the friction.
pub fn repo_live(ctx: &Ctx, repo: &str, columns: &Columns, friction: &Markup) -> Markup {
    html! {
        p.dispatcher {
            (dispatcher(columns.dispatcher.as_ref()))
            @if let Some(pause) = &columns.pause {
                " · " span.paused { "queue " (pause) } " · " code { "git agentos resume" } " ends it"
            }
        }
        div.columns {
            @for column in &columns.columns { (column_html(ctx, repo, column)) }
        }
        (friction)
    }
}

fn dispatcher(holder: Option<&Holder>) -> Markup {
    match holder {
        Some(h) => html! {
            span.on { "dispatcher running" } " · pid " (h.pid) " · "
            code { "git agentos " (t(&h.command)) } " · since " (when(h.since))
        },
        None => html! {
            span.off { "no dispatcher running" } " · "
            code { "git agentos watch" } " (or " code { "run" } ") processes the queue"
        },
    }
}

fn column_html(ctx: &Ctx, repo: &str, column: &Column) -> Markup {
    let name = column.state.name();
    html! {
        section class={"column state-" (name)} data-state=(name) {
            h3 { (label(column.state)) " " span.count { (column.total) } }
            @if column.cards.is_empty() { p.empty { "—" } }
            @for card in &column.cards { (card_html(ctx, repo, card)) }
            @if column.total > column.cards.len() {
                p.more { "and " (column.total - column.cards.len()) " earlier" }
            }
        }
    }
}

fn card_html(ctx: &Ctx, repo: &str, card: &Card) -> Markup {
    html! {
        article.card data-id=(card.id) {
            @if card.linkable {
                a.title href=(task_href(repo, &card.id)) { (t(&card.title)) }
            } @else {
                span.title { (t(&card.title)) }
            }
            div.meta {
                code { (t(&card.id)) } " · " (t(&card.agent))
                @if card.priority != 0 { " · priority " (card.priority) }
            }
            @if !card.marks.is_empty() {
                div.marks {
                    @for mark in &card.marks { span class={"mark " (mark.kind.class())} { (t(&mark.text)) } }
                }
            }
            @if let Some(run) = &card.running {
                div.running {
                    span.step { (run.step) } " · "
                    span data-elapsed-ms=(run.elapsed.as_millis()) { (human(run.elapsed)) }
                    @if run.attempt > 1 { " · attempt " (run.attempt) }
                }
                @if let Some(latest) = &run.latest { div.latest { (t(latest)) } }
            }
            @if let Some(reason) = &card.reason { div.reason { (t(reason)) } }
            @if let Some(outcome) = &card.outcome { div.outcome { (t(outcome)) } }
            @if let Some(url) = card.pr_url.as_deref().and_then(super::markdown::safe_href) {
                a.pr href=(url) rel="noreferrer noopener" { "pull request" }
            }
            @if card.can_retry || card.can_cancel {
                div.actions {
                    @if card.can_retry { (action(ctx, repo, &card.id, "retry", "board")) }
                    @if card.can_cancel { (action(ctx, repo, &card.id, "cancel", "board")) }
                }
            }
        }
    }
}

/// The friction block: the chart, its legend and the worst tasks.
pub fn friction_html(repo: &str, friction: &Friction) -> Markup {
    html! {
        section.friction {
            h3 { "Friction, last " (super::chart::DAYS) " days " span.count { (friction.total) } }
            @if friction.total == 0 {
                p.empty { "Nothing went wrong." }
            } @else {
                div.chart-box {
                    (friction.svg())
                    ul.legend {
                        @for (i, (kind, n)) in friction.kinds.iter().enumerate() {
                            li { span class={"swatch k" (i)} {} (t(kind)) " " span.count { (n) } }
                        }
                    }
                }
                h4 { "Worst tasks" }
                ol.worst {
                    @for o in &friction.worst {
                        li {
                            @if crate::task::is_slug(&o.task) {
                                a href=(task_href(repo, &o.task)) { code { (t(&o.task)) } }
                            } @else { code { (t(&o.task)) } }
                            " " span.count { (o.count) } " " (t(&o.kinds.join(", ")))
                        }
                    }
                }
            }
            @if friction.unreadable > 0 {
                p.note { (friction.unreadable) " line(s) of the log did not parse" }
            }
        }
    }
}

/// An error page (refused, not found, an action that failed) with its hints.
pub fn message_page(heading: &str, message: &str, hints: &[String]) -> Markup {
    layout(
        heading,
        None,
        html! {
            section.message {
                h1 { (heading) }
                p { (t(message)) }
                @for hint in hints { p.hint { "hint: " (t(hint)) } }
                p { a href="/" { "back to the board" } }
            }
        },
    )
}
