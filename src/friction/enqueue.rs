//! Recurring friction becomes backlog: each (kind, step) seen often enough turns
//! into one task in todo/, with the evidence in its body, never the same twice.
use super::report::{summarize, Count};
use super::Event;
use crate::clock::Timestamp;
use crate::path_error::PathError;
use crate::queue::{self, QueueError, Tree};

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
) -> Result<Vec<String>, QueueError> {
    let summary = summarize(events, 0, Timestamp::now());
    let before = enqueued_before(tree);
    let ids = queue::all_ids(tree).map_err(PathError::at("read", &tree.dir))?;
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
        match queue::enqueue_as(tree, &task, &id) {
            Ok(()) => {}
            Err(QueueError::IdTaken { .. }) => continue,
            Err(e) => return Err(e),
        }
        let ledger = ledger(tree);
        let remember = || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&ledger)?;
            std::io::Write::write_all(&mut file, format!("{id}\n").as_bytes())?;
            file.sync_data()
        };
        remember().map_err(PathError::at("append to", &ledger))?;
        created.push(id);
    }
    Ok(created)
}
