//! After each commit: enqueue a task per `Agentos-Task:` trailer and per matching
//! trigger, once per change (at most [`MAX_TASKS_PER_COMMIT`] from one commit),
//! and say whether to autostart the dispatcher (run.rs does). It never
//! dispatches and never fails the commit; its errors and notes go to the
//! friction log.
//!
//! A commit an agent made is never looked at: one made in a worktree under
//! `.agentos/worktrees/`, or with `AGENTOS_TASK_ID` in the environment (every
//! agent runs with it). Its change is remembered as that task's output, so when
//! a person brings it to a branch later (a cherry-pick, a rebase) its trailers
//! queue nothing and a trigger that led to the task does not fire on it.
use super::requests;
use super::seen::Seen;
use super::triggers::{self, load_triggers, Trigger};
use crate::clock::Timestamp;
use crate::config;
use crate::git::{ChangedFile, CommitInfo, Repo};
use crate::queue::{self, Tree};
use crate::task::{self, Task, MAX_TASK_BYTES};

/// At most this many files in `{{files}}` when the whole list makes the task too big.
const SHORT_FILES: usize = 200;

/// At most this many tasks are queued from one commit (its trailers and
/// triggers together); the rest are dropped, and the friction log names them.
pub const MAX_TASKS_PER_COMMIT: usize = 20;

/// What one post-commit run did.
#[derive(Debug, Default)]
pub struct Intake {
    /// The commit it looked at.
    pub commit: Option<String>,
    /// Why the commit was not looked at: an agent made it.
    pub ignored: Option<String>,
    pub enqueued: Vec<String>,
    pub skipped_seen: Vec<String>,
    /// Requests and triggers refused because the commit is a task's output.
    pub refused: Vec<String>,
    pub errors: Vec<String>,
    /// What a person should know that is not an error: text that could not be
    /// read as it is, a list shortened, a chain refused.
    pub notes: Vec<String>,
    /// Tasks were queued and `autostart` is on: start `watch` if none runs.
    pub autostart: bool,
    pub started_dispatcher: bool,
}

/// A task the commit asks for.
struct Wanted {
    /// How the log names it: `trailer:<title>` or `trigger:<name>`.
    name: String,
    /// What the change is remembered with.
    key: String,
    task: Task,
}

/// Who made a commit that must not queue work, and why we think so.
struct Agent {
    task: Option<String>,
    why: String,
}

/// An agent's commit: made in a worktree under `.agentos/worktrees/`, or with
/// `AGENTOS_TASK_ID` in the environment.
fn made_by_agent(repo: &Repo, tree: &Tree) -> Option<Agent> {
    let worktrees = tree.dir.join("worktrees");
    let worktrees = worktrees.canonicalize().unwrap_or(worktrees);
    if let Some(dir) = repo.work_dir() {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if let Ok(rest) = dir.strip_prefix(&worktrees) {
            let task = rest
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .filter(|t| task::is_slug(t));
            let why = match &task {
                Some(t) => format!("made in the worktree of task {t}"),
                None => format!("made in a git agentos worktree ({})", dir.display()),
            };
            return Some(Agent { task, why });
        }
    }
    let id = std::env::var("AGENTOS_TASK_ID")
        .ok()
        .filter(|v| !v.is_empty())?;
    Some(Agent {
        why: format!("made by an agent (AGENTOS_TASK_ID={id})"),
        task: task::is_slug(&id).then_some(id),
    })
}

/// The key of a commit's change: its patch id, or for a commit that changes
/// nothing, its author and author time.
fn change_of(repo: &Repo, commit: &CommitInfo) -> Result<String, String> {
    match repo.patch_id(&commit.sha) {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Ok(format!("empty {}", commit.author)),
        Err(e) => Err(format!("patch id of {}: {e}", commit.sha)),
    }
}

/// The post-commit entry for `commit` (the commit that fired the hook; HEAD's
/// when None): enqueue, then wake. Errors are collected, never raised.
pub fn post_commit(repo: &Repo, tree: &Tree, commit: Option<&str>) -> Intake {
    let mut intake = Intake::default();
    let commit = match repo.commit_info(commit) {
        Ok(c) => c,
        Err(e) => {
            intake.errors.push(e.to_string());
            return intake;
        }
    };
    intake.commit = Some(commit.sha.clone());
    if let Some(agent) = made_by_agent(repo, tree) {
        intake.ignored = Some(agent.why);
        if let Some(task) = agent.task {
            let remembered = change_of(repo, &commit).and_then(|change| {
                Seen::open(tree)
                    .and_then(|mut seen| seen.remember_output(&change, &task))
                    .map_err(|e| format!("{}: {e}", tree.dir.join("hook.seen").display()))
            });
            intake.errors.extend(remembered.err());
        }
        return intake;
    }
    let requests = requests::requests(&commit);
    let mut fired: Vec<(String, Trigger, Vec<&ChangedFile>)> = Vec::new();
    for trigger in load_triggers(tree) {
        match trigger {
            Ok((name, trigger)) => match triggers::matching(tree, &name, &trigger, &commit) {
                Ok(matched) if matched.is_empty() => {}
                Ok(matched) => fired.push((name, trigger, matched)),
                Err(e) => intake.errors.push(e),
            },
            Err(e) => intake.errors.push(e.to_string()),
        }
    }
    if requests.is_empty() && fired.is_empty() {
        return intake;
    }
    let short = &commit.sha[..commit.sha.len().min(12)];
    for note in &commit.unreadable {
        intake.notes.push(format!("commit {short}: {note}"));
    }
    let change = match change_of(repo, &commit) {
        Ok(change) => change,
        Err(e) => {
            intake.errors.push(e);
            return intake;
        }
    };
    let mut seen = match Seen::open(tree) {
        Ok(seen) => seen,
        Err(e) => {
            let ledger = tree.dir.join("hook.seen");
            intake.errors.push(format!("{}: {e}", ledger.display()));
            return intake;
        }
    };
    let mark = requests::marked_output(tree, &requests);
    let output_of = mark.clone().or_else(|| seen.output_of(&change));
    let chain = output_of.map(|id| {
        let triggered_by = crate::queue::find(tree, &id)
            .ok()
            .flatten()
            .and_then(|entry| task::load(&entry.path).ok())
            .map(|t| t.triggered_by)
            .unwrap_or_default();
        (id, triggered_by)
    });
    let mut wanted = Vec::new();
    for request in requests {
        if mark.as_deref() == Some(request.task.title.as_str()) {
            continue;
        }
        match &chain {
            Some((id, _)) => {
                intake.notes.push(format!(
                    "commit {short} is the output of task {id}: its trailer `Agentos-Task: {}` queues nothing (an agent cannot queue work by committing)",
                    request.task.title
                ));
                intake.refused.push(request.name());
            }
            None => wanted.push(Wanted {
                name: request.name(),
                key: request.key(),
                task: request.task,
            }),
        }
    }
    for (name, trigger, matched) in fired {
        let before = chain.as_ref().map(|c| c.1.clone()).unwrap_or_default();
        if let Some((id, _)) = chain.as_ref().filter(|c| c.1.contains(&name)) {
            intake.notes.push(format!(
                "commit {short} is the output of task {id}, which trigger `{name}` queued (through {}): a trigger never fires on the output of a task it queued",
                before.join(" → ")
            ));
            intake.refused.push(format!("trigger:{name}"));
            continue;
        }
        let odd: Vec<&str> = matched
            .iter()
            .filter(|f| !f.is_utf8())
            .map(|f| f.shown.as_str())
            .collect();
        if !odd.is_empty() {
            intake.notes.push(format!(
                "commit {short}: trigger `{name}` matched {} file name(s) that are not UTF-8, shown with \\xNN escapes: {}",
                odd.len(),
                odd.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            ));
        }
        match trigger_task(tree, &name, &trigger, &commit, &matched, &mut intake.notes) {
            Ok(mut task) => {
                task.triggered_by = before;
                task.triggered_by.push(name.clone());
                wanted.push(Wanted {
                    name: format!("trigger:{name}"),
                    key: format!("trigger:{name}"),
                    task,
                });
            }
            Err(e) => intake.errors.push(e),
        }
    }
    if wanted.len() > MAX_TASKS_PER_COMMIT {
        let dropped: Vec<String> = wanted
            .drain(MAX_TASKS_PER_COMMIT..)
            .map(|w| w.name)
            .collect();
        let shown: Vec<&str> = dropped.iter().take(10).map(String::as_str).collect();
        let more = dropped.len() - shown.len();
        intake.errors.push(format!(
            "commit {short} asks for {} tasks; at most {MAX_TASKS_PER_COMMIT} are queued from one commit, so {} were dropped: {}{}",
            MAX_TASKS_PER_COMMIT + dropped.len(),
            dropped.len(),
            shown.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
    for one in wanted {
        queue_one(tree, &mut seen, &change, &commit, one, &mut intake);
    }
    drop(seen);
    if !intake.enqueued.is_empty() {
        match config::load(tree) {
            Ok(cfg) => {
                intake.notes.extend(cfg.refused);
                intake.autostart = cfg.autostart;
            }
            Err(e) => intake.errors.push(e.to_string()),
        }
    }
    intake
}

/// A trigger's task; when the whole `{{files}}` list makes it too big for a task
/// file, the list is shortened (and a note says so); when even that is too big,
/// an error says why.
fn trigger_task(
    tree: &Tree,
    name: &str,
    trigger: &Trigger,
    commit: &CommitInfo,
    matched: &[&ChangedFile],
    notes: &mut Vec<String>,
) -> Result<Task, String> {
    // Room for the fields the hook adds (base, branch, time, change).
    let limit = MAX_TASK_BYTES as usize - 4096;
    let task = triggers::trigger_task(tree, name, trigger, commit, matched, None)?;
    let size = task::write(&task).len();
    if size <= limit {
        return Ok(task);
    }
    let short = triggers::trigger_task(tree, name, trigger, commit, matched, Some(SHORT_FILES))?;
    let short_size = task::write(&short).len();
    if short_size > limit {
        return Err(format!(
            "trigger `{name}`: the task is {short_size} bytes even with {{{{files}}}} shortened to {SHORT_FILES} of {} files, over the 1 MiB limit of a task file: not written",
            matched.len()
        ));
    }
    notes.push(format!(
        "trigger `{name}`: the task would be {size} bytes, over the 1 MiB limit of a task file: {{{{files}}}} shortened to the first {SHORT_FILES} of {} files",
        matched.len()
    ));
    Ok(short)
}

/// Check one wanted task and write it, unless its change was queued before; the
/// change is remembered only once the task file is written.
fn queue_one(
    tree: &Tree,
    seen: &mut Seen,
    change: &str,
    commit: &CommitInfo,
    wanted: Wanted,
    intake: &mut Intake,
) {
    let Wanted {
        name,
        key,
        mut task,
    } = wanted;
    task.base = Some(commit.sha.clone());
    task.base_branch = commit.branch.clone();
    task.enqueued = Some(Timestamp::now());
    task.source_change = Some(change.to_string());
    if let Err(problem) = task::validate(&task) {
        intake.errors.push(format!("{name}: {problem}"));
        return;
    }
    let size = task::write(&task).len();
    if size as u64 > MAX_TASK_BYTES {
        intake.errors.push(format!(
            "{name}: the task is {size} bytes, over the 1 MiB limit of a task file: not written"
        ));
        return;
    }
    if seen.has(change, &key) {
        intake.skipped_seen.push(name);
        return;
    }
    match queue::enqueue_new(tree, &task) {
        Ok(id) => {
            if let Err(e) = seen.remember(change, &key) {
                intake.errors.push(format!("{}: {e}", seen.path.display()));
            }
            intake.enqueued.push(id);
        }
        Err(e) => intake.errors.push(format!(
            "{name}: cannot write into {}: {e}",
            tree.dir.join("todo").display()
        )),
    }
}
