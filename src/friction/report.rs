//! Reading the friction log back: counts by kind and step, the worst offenders,
//! the trend by day.
use super::Event;
use crate::clock::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Serialize)]
pub struct Count {
    pub kind: String,
    pub step: String,
    pub count: usize,
    pub tasks: Vec<String>,
    pub first: Timestamp,
    pub last: Timestamp,
}

#[derive(Debug, Serialize)]
pub struct Offender {
    pub task: String,
    pub count: usize,
    pub kinds: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub total: usize,
    pub by_kind: Vec<(String, usize)>,
    pub by_step: Vec<(String, usize)>,
    /// Every (kind, step) pair, most frequent first.
    pub recurring: Vec<Count>,
    /// Tasks with the most events.
    pub worst_tasks: Vec<Offender>,
    /// Events per day (UTC), oldest first.
    pub by_day: Vec<(String, usize)>,
    /// Events in the last 7 days against the 7 before.
    pub last_week: usize,
    pub week_before: usize,
    pub unreadable_lines: usize,
}

const DAY: i128 = 86_400 * 1_000_000_000;

fn sorted(map: HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

pub fn summarize(events: &[Event], unreadable_lines: usize, now: Timestamp) -> Summary {
    let mut by_kind = HashMap::new();
    let mut by_step = HashMap::new();
    let mut pairs: BTreeMap<(String, String), Count> = BTreeMap::new();
    let mut tasks: HashMap<String, (usize, Vec<String>)> = HashMap::new();
    let mut by_day: BTreeMap<String, usize> = BTreeMap::new();
    let (mut last_week, mut week_before) = (0, 0);
    for e in events {
        let step = e.step.clone().unwrap_or_else(|| "-".into());
        *by_kind.entry(e.kind.clone()).or_insert(0) += 1;
        *by_step.entry(step.clone()).or_insert(0) += 1;
        let c = pairs
            .entry((e.kind.clone(), step.clone()))
            .or_insert_with(|| Count {
                kind: e.kind.clone(),
                step,
                count: 0,
                tasks: Vec::new(),
                first: e.time,
                last: e.time,
            });
        c.count += 1;
        c.first = c.first.min(e.time);
        c.last = c.last.max(e.time);
        if let Some(t) = &e.task {
            if !c.tasks.contains(t) {
                c.tasks.push(t.clone());
            }
            let o = tasks.entry(t.clone()).or_default();
            o.0 += 1;
            if !o.1.contains(&e.kind) {
                o.1.push(e.kind.clone());
            }
        }
        *by_day.entry(e.time.day()).or_insert(0) += 1;
        let age = now.as_nanos() - e.time.as_nanos();
        if age < 7 * DAY {
            last_week += 1;
        } else if age < 14 * DAY {
            week_before += 1;
        }
    }
    let mut recurring: Vec<Count> = pairs.into_values().collect();
    recurring.sort_by(|a, b| b.count.cmp(&a.count).then(b.last.cmp(&a.last)));
    let mut worst_tasks: Vec<Offender> = tasks
        .into_iter()
        .map(|(task, (count, kinds))| Offender { task, count, kinds })
        .collect();
    worst_tasks.sort_by(|a, b| b.count.cmp(&a.count).then(a.task.cmp(&b.task)));
    worst_tasks.truncate(10);
    Summary {
        total: events.len(),
        by_kind: sorted(by_kind),
        by_step: sorted(by_step),
        recurring,
        worst_tasks,
        by_day: by_day.into_iter().collect(),
        last_week,
        week_before,
        unreadable_lines,
    }
}

/// `--since`: a date (`2026-11-01`), a time (RFC 3339) or an age (`7d`, `12h`).
pub fn parse_since(text: &str, now: Timestamp) -> Option<Timestamp> {
    let t = text.trim();
    if let Some(d) = crate::task::parse_duration(t) {
        return Some(now.before(d));
    }
    Timestamp::parse(t).or_else(|| Timestamp::parse(&format!("{t}T00:00:00Z")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::friction::enqueue::task_id;

    fn ev(kind: &str, step: &str, task: &str, day: i128) -> Event {
        let mut e = Event::new(kind, step, "boom").task(task, 1);
        e.time = Timestamp::from_nanos(1_800_000_000 * 1_000_000_000 + day * DAY);
        e
    }

    #[test]
    fn summary_counts_and_trends() {
        let events = vec![
            ev("verify-failed", "verify", "a", 0),
            ev("verify-failed", "verify", "b", 1),
            ev("timeout", "agent", "a", 10),
            ev("verify-failed", "verify", "a", 12),
        ];
        let now = Timestamp::from_nanos(1_800_000_000 * 1_000_000_000 + 13 * DAY);
        let s = summarize(&events, 2, now);
        assert_eq!(s.total, 4);
        assert_eq!(s.by_kind[0], ("verify-failed".to_string(), 3));
        assert_eq!(s.recurring[0].tasks, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(s.worst_tasks[0].task, "a");
        assert_eq!(s.worst_tasks[0].count, 3);
        assert_eq!((s.last_week, s.week_before), (2, 2));
        assert_eq!(s.by_day.len(), 4);
        assert_eq!(s.unreadable_lines, 2);
    }

    #[test]
    fn since_accepts_dates_times_and_ages() {
        let now = Timestamp::parse("2026-11-24T12:00:00Z").expect("ts");
        assert_eq!(
            parse_since("2026-11-01", now),
            Timestamp::parse("2026-11-01T00:00:00Z")
        );
        assert_eq!(
            parse_since("1d", now),
            Timestamp::parse("2026-11-23T12:00:00Z")
        );
        assert!(parse_since("last tuesday", now).is_none());
        assert_eq!(
            task_id("verify-failed", "verify"),
            "friction-verify-failed.verify"
        );
        assert_eq!(task_id("hook-error", "-"), "friction-hook-error");
    }
}
