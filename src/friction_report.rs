//! Reading the friction log back: counts by kind and step, the worst offenders,
//! the trend by day, and the recurring kinds that become tasks in `todo/`.
use crate::friction::Event;
use crate::layout::{State, Tree};
use crate::timestamp::Timestamp;
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
        *by_day
            .entry(e.time.to_string()[..10].to_string())
            .or_insert(0) += 1;
        let age = now.0 - e.time.0;
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
        return Some(Timestamp(now.0 - d.as_nanos() as i128));
    }
    Timestamp::parse(t).or_else(|| Timestamp::parse(&format!("{t}T00:00:00Z")))
}

/// The id of the task that a recurring (kind, step) becomes.
pub fn task_id(kind: &str, step: &str) -> String {
    let step = if step == "-" { "" } else { step };
    let id = crate::task::slugify(&format!("friction {kind} {step}"));
    id.trim_end_matches('-').to_string()
}

/// The ledger of (kind, step) pairs already turned into tasks, one id a line.
fn ledger(tree: &Tree) -> std::path::PathBuf {
    tree.dir.join("friction-enqueued")
}

fn enqueued_before(tree: &Tree) -> Vec<String> {
    std::fs::read_to_string(ledger(tree))
        .map(|t| t.lines().map(|l| l.trim().to_string()).collect())
        .unwrap_or_default()
}

/// The targets of the task a recurring friction becomes: the targets of the tasks
/// that met it (where the fix most likely lies), else the agents' settings.
fn targets_for(tree: &Tree, count: &Count) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    for id in &count.tasks {
        let Ok(Some(entry)) = crate::queue::find(tree, id) else {
            continue;
        };
        if let Ok(task) = crate::task::load(&entry.path) {
            for t in task.targets {
                if !targets.contains(&t) {
                    targets.push(t);
                }
            }
        }
    }
    if targets.is_empty() {
        targets.push(".agentos/agents/**".into());
    }
    targets
}

fn evidence(count: &Count, events: &[Event]) -> String {
    let mut body = format!(
        "git agentos met `{}` at step `{}` {} times between {} and {}.\n\n",
        count.kind, count.step, count.count, count.first, count.last
    );
    if !count.tasks.is_empty() {
        body.push_str(&format!("Tasks: {}.\n\n", count.tasks.join(", ")));
    }
    body.push_str("The latest events from .agentos/friction.jsonl:\n\n");
    let mut matching: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == count.kind && e.step.as_deref().unwrap_or("-") == count.step)
        .collect();
    matching.sort_by_key(|e| std::cmp::Reverse(e.time));
    for e in matching.iter().take(10) {
        let one_line: String = e
            .message
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(300)
            .collect();
        body.push_str(&format!(
            "- {} {}: {one_line}\n",
            e.time,
            e.task.as_deref().unwrap_or("(no task)")
        ));
    }
    body.push_str(
        "\nFind the common cause and remove it (the task's instructions, the agent's \
         settings in .agentos/agents/, a verify command, the code itself), so this stops \
         recurring.\n",
    );
    body
}

/// Turn each (kind, step) seen at least `threshold` times into one task in todo/,
/// never the same one twice. Returns the ids created.
pub fn enqueue(
    tree: &Tree,
    events: &[Event],
    threshold: usize,
    base_branch: Option<String>,
) -> std::io::Result<Vec<String>> {
    let summary = summarize(events, 0, Timestamp::now());
    let before = enqueued_before(tree);
    let ids = crate::queue::all_ids(tree)?;
    let mut created = Vec::new();
    for count in summary
        .recurring
        .iter()
        .filter(|c| c.count >= threshold.max(1))
    {
        // Friction about friction tasks would loop.
        if count.kind == "cancelled" {
            continue;
        }
        let id = task_id(&count.kind, &count.step);
        if before.contains(&id) || ids.contains(&id) {
            continue;
        }
        let task = crate::task::Task {
            title: format!(
                "Reduce friction: {} at step {} ({} times)",
                count.kind, count.step, count.count
            ),
            targets: targets_for(tree, count),
            base_branch: base_branch.clone(),
            enqueued: Some(Timestamp::now()),
            require_all: Some(false),
            labels: vec!["friction".into()],
            body: evidence(count, events),
            ..Default::default()
        };
        let todo = tree.state_dir(State::Todo);
        crate::durable::ensure_dir(&todo)?;
        match crate::durable::create_new(
            &todo.join(format!("{id}.md")),
            crate::task::write(&task).as_bytes(),
        ) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(ledger(tree))?;
        std::io::Write::write_all(&mut file, format!("{id}\n").as_bytes())?;
        file.sync_data()?;
        created.push(id);
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, step: &str, task: &str, day: i128) -> Event {
        let mut e = Event::new(kind, step, "boom").task(task, 1);
        e.time = Timestamp(1_800_000_000 * 1_000_000_000 + day * DAY);
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
        let now = Timestamp(1_800_000_000 * 1_000_000_000 + 13 * DAY);
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
            "friction-verify-failed-verify"
        );
        assert_eq!(task_id("hook-error", "-"), "friction-hook-error");
    }
}
