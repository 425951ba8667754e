//! The queue on disk: todo/doing/done/failed, atomic moves, claim records, ordering.
//!
//! Where a task file is *is* its state. Every move is one atomic rename made durable;
//! every record is written whole (temp file, fsync, rename, fsync the folder).
use crate::durable;
use crate::layout::{State, Tree};
use crate::task::{self, Task, TaskFileError};
use crate::timestamp::Timestamp;
use crate::todo_index::{Keep, Stamp, TodoIndex};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A task file found in one of the state folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file stem.
    pub id: String,
    pub state: State,
    pub path: PathBuf,
    /// For todo/<agent>/<id>.md: the agent the folder names.
    pub folder_agent: Option<String>,
}

impl Entry {
    /// Where this entry's record (claim record, journal, result) lives.
    pub fn record_path(&self) -> PathBuf {
        sidecar(&self.path, "record.json")
    }
    /// Where a failed entry's reason lives.
    pub fn reason_path(&self) -> PathBuf {
        sidecar(&self.path, "reason")
    }
}

fn sidecar(task_path: &Path, ext: &str) -> PathBuf {
    let stem = task_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    task_path.with_file_name(format!("{stem}.{ext}"))
}

fn is_task_file_name(name: &str) -> bool {
    !name.starts_with('.') && name.ends_with(".md") && name.len() > 3
}

fn task_entry(path: PathBuf, state: State, folder_agent: Option<String>) -> Option<Entry> {
    let name = path.file_name()?.to_str()?.to_string();
    if !is_task_file_name(&name) {
        return None;
    }
    Some(Entry {
        id: name[..name.len() - 3].to_string(),
        state,
        path,
        folder_agent,
    })
}

fn read_dir_sorted(dir: &Path) -> io::Result<Vec<fs::DirEntry>> {
    match fs::read_dir(dir) {
        Ok(rd) => {
            let mut entries: Vec<fs::DirEntry> = rd.collect::<io::Result<_>>()?;
            entries.sort_by_cached_key(|e| e.file_name());
            Ok(entries)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The task files in one state folder (for todo/, one level of agent subfolders too),
/// in path order. Hidden files and files not ending in `.md` are not tasks.
pub fn entries(tree: &Tree, state: State) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for de in read_dir_sorted(&tree.state_dir(state))? {
        let name = de.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let file_type = de.file_type()?;
        if state == State::Todo && file_type.is_dir() {
            for inner in read_dir_sorted(&de.path())? {
                if inner.file_type()?.is_dir() {
                    continue;
                }
                out.extend(task_entry(inner.path(), state, Some(name.clone())));
            }
        } else if !file_type.is_dir() {
            out.extend(task_entry(de.path(), state, None));
        }
    }
    Ok(out)
}

/// Every task id in every state folder (for duplicate checks and new ids).
pub fn all_ids(tree: &Tree) -> io::Result<HashSet<String>> {
    let mut ids = HashSet::new();
    for state in State::ALL {
        ids.extend(entries(tree, state)?.into_iter().map(|e| e.id));
    }
    Ok(ids)
}

/// Find a task by id in any state folder.
pub fn find(tree: &Tree, id: &str) -> io::Result<Option<Entry>> {
    for state in [State::Doing, State::Done, State::Failed] {
        let path = tree.state_dir(state).join(format!("{id}.md"));
        if fs::symlink_metadata(&path).is_ok() {
            return Ok(Some(Entry {
                id: id.to_string(),
                state,
                path,
                folder_agent: None,
            }));
        }
    }
    Ok(entries(tree, State::Todo)?.into_iter().find(|e| e.id == id))
}

/// A valid queued task, ready to be claimed.
#[derive(Debug, Clone)]
pub struct Ready {
    pub entry: Entry,
    pub task: Task,
    /// The agent that runs it: `agent` field, else the todo/ subfolder, else "default".
    pub agent: String,
    /// Enqueue time: the `enqueued` field, else the file's modification time.
    pub enqueued: Timestamp,
}

/// The todo/ folder read and checked.
#[derive(Debug, Default)]
pub struct Inspection {
    /// Valid tasks in dispatch order: priority (higher first), then enqueue order.
    pub ready: Vec<Ready>,
    /// Files that can never run, with the reason.
    pub invalid: Vec<(Entry, TaskFileError)>,
}

/// Read and check every file in todo/ (without moving anything). Unchanged files
/// come from the todo index; the rest are read and parsed on every core. The
/// duplicate check and the ordering follow in path order.
///
/// [`Ready::task`] has no body: load the file for it.
pub fn inspect_todo(tree: &Tree) -> io::Result<Inspection> {
    let mut seen: HashSet<String> = HashSet::new();
    for state in [State::Doing, State::Done, State::Failed] {
        seen.extend(entries(tree, state)?.into_iter().map(|e| e.id));
    }
    let todo = entries(tree, State::Todo)?;
    let index = TodoIndex::open(&tree.todo_index_path());
    let todo_dir = tree.state_dir(State::Todo);
    let names: Vec<String> = todo
        .iter()
        .map(|e| {
            e.path
                .strip_prefix(&todo_dir)
                .unwrap_or(&e.path)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let checked = parallel_map(
        &todo.iter().zip(&names).collect::<Vec<_>>(),
        |(entry, name)| check_cached(&index, entry, name),
    );
    let mut out = Inspection::default();
    let mut keeps = Vec::with_capacity(todo.len());
    for ((entry, checked), name) in todo.into_iter().zip(checked).zip(&names) {
        keeps.push((name.as_str(), checked.keep));
        let result = checked.task.and_then(|task| {
            if !seen.insert(entry.id.clone()) {
                return Err(task::Problem {
                    field: None,
                    line: None,
                    what: format!("the task id `{}` is already used by another task", entry.id),
                    fix: "ids are unique across todo/, doing/, done/ and failed/: rename the file"
                        .into(),
                });
            }
            resolve_agent(&entry, task, checked.mtime)
        });
        match result {
            Ok(ready) => out.ready.push(ready),
            Err(problem) => {
                let err = TaskFileError {
                    file: entry.path.clone(),
                    problem,
                };
                out.invalid.push((entry, err));
            }
        }
    }
    index.save(keeps.into_iter());
    out.ready = dispatch_order(out.ready);
    Ok(out)
}

/// Priority (higher first), then enqueue order, then id. Sorts a permutation so
/// the (large) tasks themselves move once.
fn dispatch_order(ready: Vec<Ready>) -> Vec<Ready> {
    let mut order: Vec<usize> = (0..ready.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&ready[a], &ready[b]);
        b.task
            .priority
            .cmp(&a.task.priority)
            .then(a.enqueued.cmp(&b.enqueued))
            .then(a.entry.id.cmp(&b.entry.id))
    });
    let mut slots: Vec<Option<Ready>> = ready.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// `f` over `items` on all available cores, results in order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || items.len() < 256 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// One todo/ file checked on its own (no duplicate check, no agent yet).
struct Checked {
    task: Result<Task, task::Problem>,
    mtime: Option<std::time::SystemTime>,
    keep: Keep,
}

fn check_cached(index: &TodoIndex, entry: &Entry, name: &str) -> Checked {
    let meta = fs::symlink_metadata(&entry.path).ok();
    let mtime = meta.as_ref().and_then(|m| m.modified().ok());
    if let Some(stamp) = meta.as_ref().and_then(Stamp::of) {
        if let Some(task) = index.get(name, &stamp) {
            return Checked {
                task,
                mtime,
                keep: Keep::Hit,
            };
        }
    }
    let (task, meta) = check_file(entry);
    let keep = index.fresh(name, meta.as_ref().and_then(Stamp::of), &task);
    Checked {
        task,
        mtime: meta.and_then(|m| m.modified().ok()).or(mtime),
        keep,
    }
}

/// Read, parse and validate one file, and check its id.
fn check_file(entry: &Entry) -> (Result<Task, task::Problem>, Option<fs::Metadata>) {
    let (text, meta) = match task::read_text_with_meta(&entry.path) {
        Ok(read) => read,
        Err(e) => return (Err(e.problem), None),
    };
    let result = task::parse(&text).and_then(|task| {
        task::check_id(&entry.id)?;
        task::validate(&task)?;
        Ok(task)
    });
    (result, Some(meta))
}

/// Which agent runs the task, and when it was queued.
fn resolve_agent(
    entry: &Entry,
    task: Task,
    mtime: Option<std::time::SystemTime>,
) -> Result<Ready, task::Problem> {
    let agent = match (&task.agent, &entry.folder_agent) {
        (Some(field), Some(folder)) if field != folder => {
            return Err(task::Problem {
                field: Some("agent".into()),
                line: None,
                what: format!("the file is in todo/{folder}/ but says `agent = \"{field}\"`"),
                fix: format!("move it to todo/{field}/, or remove the `agent` line"),
            })
        }
        (Some(field), _) => field.clone(),
        (None, Some(folder)) => {
            if !task::is_slug(folder) {
                return Err(task::Problem {
                    field: None,
                    line: None,
                    what: format!("the folder todo/{folder}/ is not a valid agent name"),
                    fix: "name agent folders with lower-case letters, digits, `.`, `_` and `-`"
                        .into(),
                });
            }
            folder.clone()
        }
        (None, None) => "default".to_string(),
    };
    let enqueued = match task.enqueued {
        Some(t) => t,
        None => mtime
            .map(Timestamp::from_system_time)
            .unwrap_or(Timestamp(0)),
    };
    Ok(Ready {
        entry: entry.clone(),
        task,
        agent,
        enqueued,
    })
}

/// Write a new task into todo/ under a fresh id made from its title (`-2`, `-3`…
/// when taken). The file appears whole or not at all. Returns the id.
pub fn enqueue_new(tree: &Tree, task: &Task) -> io::Result<String> {
    let todo = tree.state_dir(State::Todo);
    durable::ensure_dir(&todo)?;
    let text = task::write(task);
    let taken = all_ids(tree)?;
    let stem = task::slugify(&task.title);
    for n in 1u32.. {
        let id = if n == 1 {
            stem.clone()
        } else {
            format!("{stem}-{n}")
        };
        if taken.contains(&id) {
            continue;
        }
        match durable::create_new(&todo.join(format!("{id}.md")), text.as_bytes()) {
            Ok(()) => return Ok(id),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free task id"))
}

/// A free file name in `dir` for a file that was called `stem.md`: `stem.md`, else
/// `stem~2.md`, `stem~3.md`… (`~` never appears in an id, so no task is shadowed).
fn free_name(dir: &Path, stem: &str) -> PathBuf {
    let first = dir.join(format!("{stem}.md"));
    if fs::symlink_metadata(&first).is_err() {
        return first;
    }
    dir.join(format!("{}.md", next_free_suffix(dir, stem)))
}

/// True when a file other than `entry` carries its id, in any state folder.
fn id_used_elsewhere(tree: &Tree, entry: &Entry) -> io::Result<bool> {
    for state in State::ALL {
        if entries(tree, state)?
            .iter()
            .any(|e| e.id == entry.id && e.path != entry.path)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `stem~2`, `stem~3`… whichever is free first in `dir`.
fn next_free_suffix(dir: &Path, stem: &str) -> String {
    (2..)
        .map(|n| format!("{stem}~{n}"))
        .find(|s| fs::symlink_metadata(dir.join(format!("{s}.md"))).is_err())
        .unwrap_or_else(|| format!("{stem}~"))
}

/// Move a file that can never run to failed/, unchanged, with its reason beside it.
/// The reason is written first, so a crash in between leaves the file in todo/ to be
/// rejected again, never a failed task without a reason. A symlink is moved as the
/// link itself; what it points to is never touched.
pub fn reject(tree: &Tree, entry: &Entry, reason: &str) -> io::Result<Entry> {
    let failed_dir = tree.state_dir(State::Failed);
    durable::ensure_dir(&failed_dir)?;
    // A rejected duplicate never takes the plain name: its id belongs to another task.
    let dest = if id_used_elsewhere(tree, entry)? {
        failed_dir.join(format!("{}.md", next_free_suffix(&failed_dir, &entry.id)))
    } else {
        free_name(&failed_dir, &entry.id)
    };
    let moved = Entry {
        id: dest
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        state: State::Failed,
        path: dest,
        folder_agent: None,
    };
    let text = format!(
        "{reason}\n\nrejected: {}\noriginal file: {}\n",
        Timestamp::now(),
        entry
            .path
            .strip_prefix(&tree.repo_root)
            .unwrap_or(&entry.path)
            .display()
    );
    durable::write(&moved.reason_path(), text.as_bytes())?;
    durable::rename(&entry.path, &moved.path)?;
    Ok(moved)
}

/// The steps of a task's life, in order; each is journalled when it completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Claim,
    Preflight,
    Worktree,
    Agent,
    Commit,
    Verify,
    Publish,
    Finish,
}

/// One completed step in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDone {
    pub step: Step,
    pub at: Timestamp,
    pub attempt: u32,
}

/// The claim record and journal of a task, beside its file as `<id>.record.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Record {
    pub id: String,
    pub agent: String,
    /// 1 for the first attempt; a resume after a crash counts as a new attempt.
    pub attempt: u32,
    /// The dispatcher that holds the claim now.
    pub pid: u32,
    pub claimed_at: Option<Timestamp>,
    pub steps: Vec<StepDone>,
    /// One line per earlier attempt that did not finish, and why.
    pub history: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// The commit the task started from (the base, resolved at preflight).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
    /// The process group of the agent of the current attempt, once spawned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_pgid: Option<i32>,
    /// The agent's result event: outcome, turns, cost, session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_result: Option<crate::agent::stream::AgentResult>,
    /// Files the agent's tools wrote (as the agent named them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent_writes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The task branch's commit after the commit step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Where the branch was pushed, and the commit the remote confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_commit: Option<String>,
    /// The pull request that carries the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    /// Why the task's output is its branch and not a pull request, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_note: Option<String>,
    /// The verification report of the latest verify step (repository-relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// The last attempt was stopped by a signal (a clean stop; not counted as a crash).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl Record {
    pub fn has(&self, step: Step) -> bool {
        self.steps.iter().any(|s| s.step == step)
    }
    pub fn mark(&mut self, step: Step) {
        if !self.has(step) {
            self.steps.push(StepDone {
                step,
                at: Timestamp::now(),
                attempt: self.attempt,
            });
        }
    }
    /// The last step completed, if any.
    pub fn last_step(&self) -> Option<Step> {
        self.steps.iter().map(|s| s.step).max()
    }
}

/// Read a record; a missing one is None, an unreadable one an error.
pub fn read_record(path: &Path) -> io::Result<Option<Record>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Write a record durably.
pub fn write_record(path: &Path, record: &Record) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(record).map_err(io::Error::other)?;
    text.push('\n');
    durable::write(path, text.as_bytes())
}

/// Claim a ready task: move it to doing/ by one atomic rename, then durably write
/// its claim record. Returns None when another process moved it first.
pub fn claim(tree: &Tree, ready: &Ready) -> io::Result<Option<(Entry, Record)>> {
    let doing_dir = tree.state_dir(State::Doing);
    durable::ensure_dir(&doing_dir)?;
    let dest = doing_dir.join(format!("{}.md", ready.entry.id));
    if fs::symlink_metadata(&ready.entry.path).is_err() {
        return Ok(None);
    }
    if fs::symlink_metadata(&dest).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("`{}` is already claimed", dest.display()),
        ));
    }
    match durable::rename(&ready.entry.path, &dest) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let entry = Entry {
        id: ready.entry.id.clone(),
        state: State::Doing,
        path: dest,
        folder_agent: None,
    };
    let mut record = Record {
        id: entry.id.clone(),
        agent: ready.agent.clone(),
        attempt: 1,
        pid: std::process::id(),
        claimed_at: Some(Timestamp::now()),
        ..Record::default()
    };
    record.mark(Step::Claim);
    write_record(&entry.record_path(), &record)?;
    Ok(Some((entry, record)))
}

/// Move a claimed task to done/ or failed/ with its record (and, when failed, its
/// reason). The record lands first; the rename of the task file is the commit point.
pub fn finish(
    tree: &Tree,
    entry: &Entry,
    record: &Record,
    to: State,
    task_text: Option<&str>,
) -> io::Result<Entry> {
    let dir = tree.state_dir(to);
    durable::ensure_dir(&dir)?;
    // A finish that a crash cut short (the output written, the claimed file not yet
    // removed) left this task's own copy there: replace it, never add a second.
    let own = dir.join(format!("{}.md", entry.id));
    let earlier = Entry {
        id: entry.id.clone(),
        state: to,
        path: own.clone(),
        folder_agent: None,
    };
    let is_ours = own.exists()
        && read_record(&earlier.record_path())
            .ok()
            .flatten()
            .is_some_and(|r| r.id == record.id && r.claimed_at == record.claimed_at);
    let dest = Entry {
        path: if is_ours {
            own
        } else {
            free_name(&dir, &entry.id)
        },
        ..earlier
    };
    write_record(&dest.record_path(), record)?;
    if let Some(reason) = record.reason.as_deref().filter(|_| to == State::Failed) {
        durable::write(&dest.reason_path(), format!("{reason}\n").as_bytes())?;
    }
    match task_text {
        // The output copy (done/ with its result appended) is written whole before
        // the claimed file goes away.
        Some(text) => {
            durable::write(&dest.path, text.as_bytes())?;
            fs::remove_file(&entry.path)?;
            durable::sync_dir(&tree.state_dir(entry.state))?;
        }
        None => durable::rename(&entry.path, &dest.path)?,
    }
    match fs::remove_file(entry.record_path()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, Tree) {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        tree.ensure_runtime().expect("runtime");
        (dir, tree)
    }

    fn put(tree: &Tree, rel: &str, text: &str) {
        let path = tree.state_dir(State::Todo).join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    #[test]
    fn orders_by_priority_then_enqueue_time() {
        let (_d, tree) = tree();
        put(
            &tree,
            "b.md",
            "+++\ntitle = \"b\"\ntargets = [\"x\"]\nenqueued = 2026-01-01T00:00:02Z\n+++\n",
        );
        put(
            &tree,
            "a.md",
            "+++\ntitle = \"a\"\ntargets = [\"x\"]\nenqueued = 2026-01-01T00:00:03Z\n+++\n",
        );
        put(&tree, "ops/c.md", "+++\ntitle = \"c\"\ntargets = [\"x\"]\npriority = 5\nenqueued = 2026-01-01T00:00:09Z\n+++\n");
        let ins = inspect_todo(&tree).expect("inspect");
        let ids: Vec<&str> = ins.ready.iter().map(|r| r.entry.id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a"]);
        assert_eq!(ins.ready[0].agent, "ops");
        assert_eq!(ins.ready[1].agent, "default");
    }

    #[test]
    fn duplicates_and_mismatched_agents_are_invalid() {
        let (_d, tree) = tree();
        put(
            &tree,
            "a.md",
            "+++\ntitle = \"a\"\ntargets = [\"x\"]\n+++\n",
        );
        put(
            &tree,
            "ops/a.md",
            "+++\ntitle = \"a again\"\ntargets = [\"x\"]\n+++\n",
        );
        put(
            &tree,
            "ops/b.md",
            "+++\ntitle = \"b\"\ntargets = [\"x\"]\nagent = \"docs\"\n+++\n",
        );
        let ins = inspect_todo(&tree).expect("inspect");
        assert_eq!(ins.ready.len(), 1);
        let reasons: Vec<String> = ins.invalid.iter().map(|(_, e)| e.to_string()).collect();
        assert!(reasons[0].contains("already used"), "{reasons:?}");
        assert!(
            reasons[1].contains("todo/ops/") && reasons[1].contains("agent"),
            "{reasons:?}"
        );
    }

    #[test]
    fn claim_then_finish_moves_the_file_and_its_record() {
        let (_d, tree) = tree();
        put(
            &tree,
            "a.md",
            "+++\ntitle = \"a\"\ntargets = [\"x\"]\n+++\nbody\n",
        );
        let ready = inspect_todo(&tree).expect("inspect").ready.remove(0);
        let (entry, mut record) = claim(&tree, &ready).expect("claim").expect("claimed");
        assert!(
            claim(&tree, &ready).expect("second claim").is_none(),
            "a task is claimed once"
        );
        assert_eq!(
            read_record(&entry.record_path()).expect("read"),
            Some(record.clone())
        );
        record.reason = Some("agent never started".into());
        let failed = finish(&tree, &entry, &record, State::Failed, None).expect("finish");
        assert_eq!(
            fs::read_to_string(&failed.path).expect("read"),
            "+++\ntitle = \"a\"\ntargets = [\"x\"]\n+++\nbody\n"
        );
        assert!(fs::read_to_string(failed.reason_path())
            .expect("reason")
            .contains("never started"));
        assert!(!entry.path.exists() && !entry.record_path().exists());
    }

    #[test]
    fn a_finish_cut_short_by_a_crash_is_redone_in_place_not_duplicated() {
        let (_d, tree) = tree();
        put(
            &tree,
            "a.md",
            "+++\ntitle = \"a\"\ntargets = [\"x\"]\n+++\n",
        );
        let ready = inspect_todo(&tree).expect("inspect").ready.remove(0);
        let (entry, record) = claim(&tree, &ready).expect("claim").expect("claimed");
        let claimed_text = fs::read_to_string(&entry.path).expect("read");
        let done =
            finish(&tree, &entry, &record, State::Done, Some("first output")).expect("finish");
        // The crash: the output is in done/, the claimed file still in doing/.
        fs::write(&entry.path, &claimed_text).expect("restore");
        write_record(&entry.record_path(), &record).expect("record");
        let again =
            finish(&tree, &entry, &record, State::Done, Some("second output")).expect("finish");
        assert_eq!(again.path, done.path);
        assert_eq!(
            fs::read_to_string(&done.path).expect("read"),
            "second output"
        );
        assert_eq!(entries(&tree, State::Done).expect("entries").len(), 1);
        assert!(entries(&tree, State::Doing).expect("entries").is_empty());
        // A file of the same name from a different claim is never replaced.
        let mut stranger = record.clone();
        stranger.claimed_at = Some(crate::timestamp::Timestamp(1));
        fs::write(&entry.path, &claimed_text).expect("restore");
        write_record(&entry.record_path(), &stranger).expect("record");
        let other = finish(&tree, &entry, &stranger, State::Done, Some("other")).expect("finish");
        assert_ne!(other.path, done.path);
        assert_eq!(
            fs::read_to_string(&done.path).expect("read"),
            "second output"
        );
    }

    #[test]
    fn reject_keeps_bytes_and_never_overwrites() {
        let (_d, tree) = tree();
        put(&tree, "x.md", "garbage");
        let first = entries(&tree, State::Todo).expect("entries").remove(0);
        let moved = reject(&tree, &first, "bad").expect("reject");
        put(&tree, "x.md", "garbage 2");
        let second = entries(&tree, State::Todo).expect("entries").remove(0);
        let moved2 = reject(&tree, &second, "bad again").expect("reject");
        assert_ne!(moved.path, moved2.path);
        assert_eq!(fs::read_to_string(&moved.path).expect("read"), "garbage");
        assert_eq!(fs::read_to_string(&moved2.path).expect("read"), "garbage 2");
    }
}
