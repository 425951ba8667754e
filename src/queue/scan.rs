//! Reading the state folders: the task files in each, finding one by id, and
//! todo/ checked and put in dispatch order (through the todo index).
use super::layout::{State, Tree};
use super::todo_index::{Keep, Stamp, TodoIndex};
use super::Entry;
use crate::clock::Timestamp;
use crate::task::{self, Task, TaskFileError};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

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

/// True for what names a task: an id (`[a-z0-9][a-z0-9._-]*`), or the name a
/// rejected copy of a task gets in failed/ (`<id>~2`). Never a path.
pub fn is_task_id(id: &str) -> bool {
    let (stem, copy) = match id.split_once('~') {
        Some((stem, n)) => (stem, Some(n)),
        None => (id, None),
    };
    task::is_slug(stem)
        && copy
            .is_none_or(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Find a task by id in a state folder (`None` for anything that is not an id).
pub fn find(tree: &Tree, id: &str) -> io::Result<Option<Entry>> {
    if !is_task_id(id) {
        return Ok(None);
    }
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
            .unwrap_or(Timestamp::EPOCH),
    };
    Ok(Ready {
        entry: entry.clone(),
        task,
        agent,
        enqueued,
    })
}
