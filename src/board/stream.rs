//! The pages' live updates as server-sent events. Each open page holds one
//! stream that waits on the board's change counter (see live.rs) and, when it
//! moves, renders the page's parts again and sends those that differ from what
//! it sent last: `swap` events (`<element id>\n<html>`: replace the element's
//! content) and, for a task's log, `append` events with the new lines only.
//! Nothing is sent, and nothing runs, while nothing changes: no keep-alive timer.
use super::html::{board_sections, Ctx};
use super::live::Generation;
use super::task_html;
use super::Board;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::watch;

/// The generation the page was rendered at (`?gen=`): nothing to send until
/// it moves.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Since {
    gen: Option<String>,
}

/// An event that puts `html` into element `id`: `swap` replaces its content,
/// `append` adds to it.
fn event(kind: &'static str, id: &str, html: &str) -> Event {
    // A carriage return would split the event; none comes from the templates.
    Event::default()
        .event(kind)
        .data(format!("{id}\n{}", html.replace('\r', "&#13;")))
}

fn swap(id: &str, html: &str) -> Event {
    event("swap", id, html)
}

fn digest(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Wait for the next change (or, first, for none when the page is current).
async fn next_change(
    rx: &mut watch::Receiver<Generation>,
    first: &mut bool,
    since: &Option<String>,
) -> Option<()> {
    if std::mem::take(first) && since.as_deref() != Some(rx.borrow().code().as_str()) {
        rx.borrow_and_update();
        return Some(());
    }
    rx.changed().await.ok()
}

/// The board's stream: each repository's live part, and the whole board when
/// the fleet changed.
pub async fn board_events(
    State(board): State<Arc<Board>>,
    Query(since): Query<Since>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    struct Seen {
        rx: watch::Receiver<Generation>,
        first: bool,
        fleet: u64,
        sent: HashMap<String, u64>,
    }
    let seen = Seen {
        fleet: board.live.borrow().fleet,
        rx: board.live.clone(),
        first: true,
        sent: HashMap::new(),
    };
    let events = stream::unfold(seen, move |mut seen| {
        let board = board.clone();
        let since = since.gen.clone();
        async move {
            loop {
                next_change(&mut seen.rx, &mut seen.first, &since).await?;
                let fleet = seen.rx.borrow().fleet;
                let whole = fleet != seen.fleet;
                seen.fleet = fleet;
                let b = board.clone();
                let (events, sent) = tokio::task::spawn_blocking(move || {
                    let mut sent = seen.sent;
                    let sections = b.sections();
                    if whole {
                        sent.clear();
                        let html = board_sections(&b.ctx(), &sections).into_string();
                        return (vec![swap("board", &html)], sent);
                    }
                    let mut events = Vec::new();
                    for (repo, live) in sections {
                        let Some(live) = live else { continue };
                        let id = format!("live-{}", repo.name);
                        let html = live.into_string();
                        if sent.insert(id.clone(), digest(&html)) != Some(digest(&html)) {
                            events.push(swap(&id, &html));
                        }
                    }
                    (events, sent)
                })
                .await
                .ok()?;
                seen.sent = sent;
                if !events.is_empty() {
                    return Some((stream::iter(events.into_iter().map(Ok)), seen));
                }
            }
        }
    });
    Sse::new(events.flatten())
}

/// Where a task page's log stands: `?attempt=&offset=` from the page, or the
/// `Last-Event-ID` (`attempt:offset`) of a stream that reconnects.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LogAt {
    gen: Option<String>,
    attempt: Option<u32>,
    offset: Option<u64>,
    /// The page shows the latest attempt, so it follows the next one too.
    latest: bool,
}

/// A task page's stream: its status part when it changes, new log lines as
/// they come, and the whole log part when a new attempt starts.
pub async fn task_events(
    State(board): State<Arc<Board>>,
    Path((repo, id)): Path<(String, String)>,
    Query(mut at): Query<LogAt>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    if let Some((n, offset)) = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(':'))
    {
        at.attempt = n.parse().ok().or(at.attempt);
        at.offset = offset.parse().ok().or(at.offset);
    }
    // 0: the page had no attempt yet.
    at.attempt = at.attempt.filter(|n| *n > 0);
    struct Seen {
        rx: watch::Receiver<Generation>,
        first: bool,
        status: u64,
        at: LogAt,
    }
    let found = board.repo(&repo).map(|(_, tree)| tree);
    let seen = Seen {
        rx: board.live.clone(),
        first: true,
        status: 0,
        at,
    };
    let events = stream::unfold(seen, move |mut seen| {
        let board = board.clone();
        let (repo, id, tree) = (repo.clone(), id.clone(), found.clone());
        async move {
            let tree = tree?;
            loop {
                let since = seen.at.gen.clone();
                next_change(&mut seen.rx, &mut seen.first, &since).await?;
                let (b, repo, id, tree) = (board.clone(), repo.clone(), id.clone(), tree.clone());
                let (events, next) = tokio::task::spawn_blocking(move || {
                    let mut seen = seen;
                    let page = b.task(&tree, &id, None, false).ok()?;
                    let mut events = Vec::new();
                    let ctx = Ctx { secret: &b.secret };
                    let status = task_html::status(&ctx, &repo, &page).into_string();
                    if std::mem::replace(&mut seen.status, digest(&status)) != digest(&status) {
                        events.push(("swap", "task-status", status));
                    }
                    let newer = page
                        .attempt
                        .filter(|n| seen.at.latest && Some(*n) != seen.at.attempt);
                    let appended = match (newer, seen.at.attempt) {
                        (None, Some(n)) => {
                            super::task_page::log_since(&tree, &id, n, seen.at.offset.unwrap_or(0))
                        }
                        _ => None,
                    };
                    match appended {
                        Some(lines) => {
                            if !lines.text.is_empty() {
                                let html = task_html::log_items(&lines.text).into_string();
                                events.push(("append", "log", html));
                            }
                            seen.at.offset = Some(lines.end);
                        }
                        // A new attempt, or the stream was replaced: the log part again.
                        None if newer.is_some() || seen.at.attempt.is_some() => {
                            let page = b.task(&tree, &id, newer.or(seen.at.attempt), true).ok()?;
                            seen.at.attempt = page.attempt;
                            seen.at.offset = page.log.as_ref().map(|l| l.end);
                            let html = task_html::log_section(&repo, &page).into_string();
                            events.push(("swap", "log-section", html));
                        }
                        None => {}
                    }
                    // Each event says where the log stands, for a stream that reopens.
                    let at = format!(
                        "{}:{}",
                        seen.at.attempt.unwrap_or(0),
                        seen.at.offset.unwrap_or(0)
                    );
                    let events: Vec<Event> = events
                        .into_iter()
                        .map(|(kind, id, html)| event(kind, id, &html).id(at.clone()))
                        .collect();
                    Some((events, seen))
                })
                .await
                .ok()??;
                seen = next;
                if !events.is_empty() {
                    return Some((stream::iter(events.into_iter().map(Ok)), seen));
                }
            }
        }
    });
    Sse::new(events.flatten())
}
