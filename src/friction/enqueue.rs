//! Recurring friction becomes backlog: each (kind, step) seen often enough turns
//! into one task in todo/, with the evidence in its body, never the same twice.
use super::report::{summarize, Count};
use super::Event;
use crate::clock::Timestamp;
use crate::path_error::PathError;
use crate::queue::{self, QueueError, Tree};

/// The id of the task that a recurring (kind, step) becomes:
/// `friction-<kind>.<step>` (`friction-<kind>` without a step), where every byte
/// of the kind and the step other than `a-z`, `0-9` and `-` is written `_xx`
/// (its hex). Different pairs never share an id: `.` only ever separates them.
pub fn task_id(kind: &str, step: &str) -> String {
    fn escape(text: &str, out: &mut String) {
        for b in text.bytes() {
            match b {
                b'a'..=b'z' | b'0'..=b'9' | b'-' => out.push(char::from(b)),
                _ => out.push_str(&format!("_{b:02x}")),
            }
        }
    }
    let mut id = String::from("friction-");
    escape(kind, &mut id);
    if !step.is_empty() && step != "-" {
        id.push('.');
        escape(step, &mut id);
    }
    id
}

/// The id earlier versions gave a pair (which could collide): a ledger line
/// holding it still means "made".
fn legacy_id(kind: &str, step: &str) -> String {
    let step = if step == "-" { "" } else { step };
    let id = crate::task::slugify(&format!("friction {kind} {step}"));
    id.trim_end_matches('-').to_string()
}

/// Text from the log, for a title: control characters (a newline…) written as
/// escapes, so a title stays one line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The ledger of (kind, step) pairs already turned into tasks, one id a line.
fn ledger(tree: &Tree) -> std::path::PathBuf {
    tree.dir.join(LEDGER)
}

const LEDGER: &str = "friction-enqueued";

/// The ledger's ids (read without following a link, at most 16 MiB of it).
fn enqueued_before(tree: &Tree) -> std::io::Result<Vec<String>> {
    let bytes = crate::nofollow::Dir::open(&tree.dir)?.read(LEDGER, 16 * 1024 * 1024)?;
    Ok(String::from_utf8_lossy(&bytes.unwrap_or_default())
        .lines()
        .map(|l| l.trim().to_string())
        .collect())
}

/// The targets of the task a recurring friction becomes: the targets of the tasks
/// that met it (where the fix most likely lies), else the agents' settings. An
/// event's `task` is an id, looked up in the state folders; anything else (a
/// path) is ignored.
fn targets_for(tree: &Tree, count: &Count) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    for id in count.tasks.iter().filter(|id| crate::task::is_slug(id)) {
        let Ok(Some(entry)) = crate::queue::find(tree, id) else {
            continue;
        };
        if let Ok(task) = crate::task::load(&entry.path) {
            for t in task.targets {
                if crate::task::check_target(&t).is_ok() && !targets.contains(&t) {
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

/// What `enqueue` did.
#[derive(Debug, Default)]
pub struct Enqueued {
    /// The ids of the tasks written.
    pub created: Vec<String>,
    /// Recurring friction that could not become a task, and why.
    pub not_queued: Vec<(String, String)>,
}

/// Turn each (kind, step) seen at least `threshold` times into one task in todo/,
/// never the same one twice. A task is written only when it passes the checks
/// `add` makes, and its id is remembered only once it is written; one that
/// cannot be written (or whose id another task has) is reported, not made.
pub fn enqueue(
    tree: &Tree,
    events: &[Event],
    threshold: usize,
    base_branch: Option<String>,
) -> Result<Enqueued, QueueError> {
    let summary = summarize(events, 0, Timestamp::now());
    let before = enqueued_before(tree).map_err(PathError::at("read", &ledger(tree)))?;
    let mut done = Enqueued::default();
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
        if before.contains(&id) || before.contains(&legacy_id(&count.kind, &count.step)) {
            continue;
        }
        let task = crate::task::Task {
            title: format!(
                "Reduce friction: {} at step {} ({} times)",
                one_line(&count.kind),
                one_line(&count.step),
                count.count
            ),
            targets: targets_for(tree, count),
            base_branch: base_branch.clone(),
            enqueued: Some(Timestamp::now()),
            require_all: Some(false),
            labels: vec!["friction".into()],
            body: evidence(count, events),
            ..Default::default()
        };
        let checked = crate::task::check_id(&id).and_then(|()| crate::task::validate(&task));
        if let Err(problem) = checked {
            done.not_queued.push((id, problem.to_string()));
            continue;
        }
        match queue::enqueue_as(tree, &task, &id) {
            Ok(()) => {}
            Err(QueueError::IdTaken { by, .. }) => {
                done.not_queued.push((
                    id,
                    format!(
                        "{by} already has this id; rename or remove it to let this task be queued"
                    ),
                ));
                continue;
            }
            Err(e) => return Err(e),
        }
        let ledger = ledger(tree);
        let remember = || -> std::io::Result<()> {
            let mut file = crate::nofollow::Dir::open(&tree.dir)?.append(LEDGER)?;
            std::io::Write::write_all(&mut file, format!("{id}\n").as_bytes())?;
            file.sync_data()
        };
        remember().map_err(PathError::at("append to", &ledger))?;
        done.created.push(id);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_never_collide_and_are_slugs() {
        assert_eq!(
            task_id("agent-error", "agent"),
            "friction-agent-error.agent"
        );
        assert_ne!(task_id("a-b", "c"), task_id("a", "b-c"));
        assert_ne!(task_id("a.b", ""), task_id("a", "b"));
        assert_ne!(task_id("a_2eb", ""), task_id("a.b", ""));
        assert_eq!(task_id("odd", "two\nlines"), "friction-odd.two_0alines");
        assert!(crate::task::is_slug(&task_id("Ünïcode kind", "a/b c")));
        assert_eq!(one_line("two\nlines"), "two\\nlines");
    }
}
