//! The friction chart, drawn on the server as SVG: events per day over the last
//! 30 days, each day's bar stacked by kind, with a legend and the tasks that met
//! the most friction in that window.
use crate::clock::Timestamp;
use crate::friction::report::{summarize, Offender};
use crate::friction::Event;
use maud::{html, Markup};
use std::collections::BTreeMap;
use std::time::Duration;

/// How many days the chart covers, today included.
pub const DAYS: usize = 30;
/// Kinds with a colour of their own; the rest share the last one ("other").
const COLOURS: usize = 8;
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 150.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 20.0;

/// The friction of one repository over the window.
#[derive(Debug)]
pub struct Friction {
    /// The days, oldest first (`YYYY-MM-DD`, UTC), each with its count per kind
    /// (indexes into `kinds`).
    pub days: Vec<(String, Vec<(usize, usize)>)>,
    /// The kinds, most frequent first, with their totals; past [`COLOURS`] - 1
    /// they are folded into "other".
    pub kinds: Vec<(String, usize)>,
    pub worst: Vec<Offender>,
    pub total: usize,
    /// Lines of the log that did not parse.
    pub unreadable: usize,
}

/// The last [`DAYS`] days of `events` as of `now`.
pub fn friction(events: &[Event], unreadable: usize, now: Timestamp) -> Friction {
    let days: Vec<String> = (0..DAYS)
        .rev()
        .map(|back| now.before(Duration::from_secs(86_400 * back as u64)).day())
        .collect();
    let first = days.first().cloned().unwrap_or_default();
    let recent: Vec<Event> = events
        .iter()
        .filter(|e| e.time.day() >= first && e.time <= now)
        .cloned()
        .collect();
    let summary = summarize(&recent, unreadable, now);
    let mut kinds: Vec<(String, usize)> = summary.by_kind.clone();
    if kinds.len() > COLOURS {
        let other: usize = kinds[COLOURS - 1..].iter().map(|(_, n)| n).sum();
        kinds.truncate(COLOURS - 1);
        kinds.push(("other".into(), other));
    }
    let index_of = |kind: &str| {
        kinds
            .iter()
            .position(|(k, _)| k == kind)
            .unwrap_or(kinds.len().saturating_sub(1))
    };
    let mut per_day: BTreeMap<&str, BTreeMap<usize, usize>> = BTreeMap::new();
    let day_names: Vec<String> = recent.iter().map(|e| e.time.day()).collect();
    for (event, day) in recent.iter().zip(&day_names) {
        *per_day
            .entry(day.as_str())
            .or_default()
            .entry(index_of(&event.kind))
            .or_default() += 1;
    }
    Friction {
        days: days
            .iter()
            .map(|day| {
                let counts = per_day
                    .get(day.as_str())
                    .map(|m| m.iter().map(|(k, n)| (*k, *n)).collect())
                    .unwrap_or_default();
                (day.clone(), counts)
            })
            .collect(),
        kinds,
        worst: summary.worst_tasks,
        total: summary.total,
        unreadable: summary.unreadable_lines,
    }
}

impl Friction {
    /// The chart: one `g.bar` per day that had friction, one `rect.seg` per kind
    /// in it, a `title` on each bar saying what it counts.
    pub fn svg(&self) -> Markup {
        let most = self
            .days
            .iter()
            .map(|(_, counts)| counts.iter().map(|(_, n)| n).sum::<usize>())
            .max()
            .unwrap_or(0)
            .max(1);
        let slot = WIDTH / DAYS as f64;
        let plot = HEIGHT - TOP - BOTTOM;
        let scale = plot / most as f64;
        let label_days = [0, DAYS / 2, DAYS - 1];
        html! {
            svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (WIDTH) " " (HEIGHT)}
                role="img" aria-label={"friction events per day, last " (DAYS) " days"} {
                line.axis x1="0" x2=(WIDTH) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) {}
                text.tick x="2" y=(TOP - 3.0) { (most) " per day" }
                @for (i, (day, counts)) in self.days.iter().enumerate() {
                    @if !counts.is_empty() {
                        @let x = i as f64 * slot + slot * 0.15;
                        g.bar data-day=(day) {
                            title { (day) ": " (self.describe(counts)) }
                            @for (y, height, kind) in stack(counts, HEIGHT - BOTTOM, scale) {
                                rect class={"seg k" (kind)} x=(fmt(x)) y=(fmt(y))
                                    width=(fmt(slot * 0.7)) height=(fmt(height)) {}
                            }
                        }
                    }
                    @if label_days.contains(&i) {
                        @let anchor = if i == 0 { "start" } else if i == DAYS - 1 { "end" } else { "middle" };
                        @let x = if i == 0 { 0.0 } else if i == DAYS - 1 { WIDTH } else { i as f64 * slot + slot / 2.0 };
                        text.tick x=(fmt(x)) y=(HEIGHT - 5.0) text-anchor=(anchor) { (day.get(5..).unwrap_or(day)) }
                    }
                }
            }
        }
    }

    /// `3 (verify-failed 2, timeout 1)`.
    fn describe(&self, counts: &[(usize, usize)]) -> String {
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        let parts: Vec<String> = counts
            .iter()
            .map(|(k, n)| {
                let kind = self
                    .kinds
                    .get(*k)
                    .map_or("other", |(name, _)| name.as_str());
                format!("{kind} {n}")
            })
            .collect();
        format!("{total} ({})", parts.join(", "))
    }
}

/// Each kind's segment of a bar, from the baseline up: (top, height, kind).
fn stack(counts: &[(usize, usize)], baseline: f64, scale: f64) -> Vec<(f64, f64, usize)> {
    let mut y = baseline;
    counts
        .iter()
        .map(|(kind, n)| {
            let height = *n as f64 * scale;
            y -= height;
            (y, height, *kind)
        })
        .collect()
}

/// A coordinate with at most two decimals.
fn fmt(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: &str, kind: &str, task: &str) -> Event {
        let mut e = Event::new(kind, "verify", "boom").task(task, 1);
        e.time = Timestamp::parse(&format!("{day}T10:00:00Z")).expect("time");
        e
    }

    #[test]
    fn bars_per_day_stacked_by_kind() {
        let now = Timestamp::parse("2026-11-20T12:00:00Z").expect("now");
        let events = vec![
            at("2026-10-01", "timeout", "old"), // before the window
            at("2026-10-22", "timeout", "a"),   // the window's first day
            at("2026-11-18", "verify-failed", "a"),
            at("2026-11-18", "verify-failed", "b"),
            at("2026-11-18", "timeout", "a"),
            at("2026-11-20", "retry", "c"),
            at("2026-11-21", "retry", "future"), // after now
        ];
        let f = friction(&events, 1, now);
        assert_eq!(f.days.len(), DAYS);
        assert_eq!(f.days[0].0, "2026-10-22");
        assert_eq!(f.days[DAYS - 1].0, "2026-11-20");
        assert_eq!(f.total, 5);
        assert_eq!(f.worst[0].task, "a");
        assert_eq!(f.worst[0].count, 3);
        let svg = f.svg().into_string();
        assert_eq!(svg.matches("<g class=\"bar\"").count(), 3, "{svg}");
        assert_eq!(svg.matches("<rect class=\"seg").count(), 4, "{svg}");
        assert!(
            svg.contains("<title>2026-11-18: 3 (timeout 1, verify-failed 2)</title>"),
            "{svg}"
        );
        assert!(svg.contains("3 per day"), "{svg}");
    }

    #[test]
    fn many_kinds_fold_into_other_and_names_are_escaped() {
        let now = Timestamp::parse("2026-11-20T12:00:00Z").expect("now");
        let events: Vec<Event> = (0..10)
            .map(|k| at("2026-11-19", &format!("<k{k}>"), "t"))
            .collect();
        let f = friction(&events, 0, now);
        assert_eq!(f.kinds.len(), COLOURS);
        assert_eq!(f.kinds[COLOURS - 1], ("other".to_string(), 3));
        let svg = f.svg().into_string();
        assert!(
            !svg.contains("<k0>") && svg.contains("&lt;k0&gt; 1"),
            "{svg}"
        );
    }
}
