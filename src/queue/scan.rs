//! Reading the state folders: the task files in each, finding one by id, and
//! todo/ checked and put in dispatch order (through the todo index).
use super::layout::{State, Tree};
use super::todo_index::{Keep, Stamp, TodoIndex};
use super::Entry;
use crate::clock::Timestamp;
use crate::task::{self, Task, TaskFileError};
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::Path;

fn is_task_file_name(name: &str) -> bool {
    !name.starts_with('.') && name.ends_with(".md") && name.len() > 3
}

fn task_entry(
    dir: &Path,
    name: &OsStr,
    state: State,
    folder_agent: Option<String>,
) -> Option<Entry> {
    let name = name.to_str()?;
    if !is_task_file_name(name) {
        return None;
    }
    Some(Entry {
        id: name[..name.len() - 3].to_string(),
        state,
        path: dir.join(name),
        folder_agent,
    })
}

/// The names in a folder with their types, in name order (none when the folder
/// does not exist). The types come from the listing itself, not a stat each.
fn read_dir_sorted(dir: &Path) -> io::Result<Vec<(OsString, fs::FileType)>> {
    match fs::read_dir(dir) {
        Ok(rd) => {
            let mut entries = rd
                .map(|e| {
                    let e = e?;
                    Ok((e.file_name(), e.file_type()?))
                })
                .collect::<io::Result<Vec<_>>>()?;
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            Ok(entries)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The task files in one state folder (for todo/, one level of agent subfolders too),
/// in path order. Hidden files and files not ending in `.md` are not tasks.
pub fn entries(tree: &Tree, state: State) -> io::Result<Vec<Entry>> {
    let dir = tree.state_dir(state);
    let mut out = Vec::new();
    for (name, file_type) in read_dir_sorted(&dir)? {
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        if state == State::Todo && file_type.is_dir() {
            let folder = name.to_string_lossy().into_owned();
            let sub = dir.join(&name);
            for (inner, inner_type) in read_dir_sorted(&sub)? {
                if !inner_type.is_dir() {
                    out.extend(task_entry(&sub, &inner, state, Some(folder.clone())));
                }
            }
        } else if !file_type.is_dir() {
            out.extend(task_entry(&dir, &name, state, None));
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
    for state in [State::Doing, State::Review, State::Done, State::Failed] {
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
    pub task: Box<Task>,
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
    for state in [State::Doing, State::Review, State::Done, State::Failed] {
        seen.extend(entries(tree, state)?.into_iter().map(|e| e.id));
    }
    // The index is read while the folder is listed (two independent reads).
    let (todo, index) = std::thread::scope(|scope| {
        let index = scope.spawn(|| TodoIndex::open(&tree.todo_index_path()));
        let todo = entries(tree, State::Todo);
        let index = index
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (todo, index)
    });
    let todo = todo?;
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
    let dir = fs::File::open(&todo_dir).ok();
    let checked = parallel_map(
        &todo.iter().zip(&names).collect::<Vec<_>>(),
        |(entry, name)| check_cached(&index, dir.as_ref(), entry, name),
    );
    let mut out = Inspection {
        ready: Vec::with_capacity(todo.len()),
        invalid: Vec::new(),
    };
    // A later file with an id already taken (by another state, or earlier in
    // todo/) is the duplicate.
    let mut taken: HashSet<&str> = seen.iter().map(String::as_str).collect();
    let duplicate: Vec<bool> = todo.iter().map(|e| !taken.insert(&e.id)).collect();
    drop(taken);
    let mut keeps = Vec::with_capacity(todo.len());
    for (((entry, checked), name), duplicate) in
        todo.into_iter().zip(checked).zip(&names).zip(duplicate)
    {
        keeps.push((name.as_str(), checked.keep));
        let result = checked.task.and_then(|task| {
            if duplicate {
                return Err(task::Problem {
                    field: None,
                    line: None,
                    what: format!("the task id `{}` is already used by another task", entry.id),
                    fix: "ids are unique across todo/, doing/, done/ and failed/: rename the file"
                        .into(),
                });
            }
            let (agent, enqueued) = resolve_agent(&entry, &task, checked.mtime)?;
            Ok((task, agent, enqueued))
        });
        match result {
            Ok((task, agent, enqueued)) => out.ready.push(Ready {
                entry,
                task,
                agent,
                enqueued,
            }),
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
/// the (large) tasks themselves move once, and not at all when the files'
/// order is already the dispatch order (the usual case: ids and times grow together).
fn dispatch_order(ready: Vec<Ready>) -> Vec<Ready> {
    let before = |a: &Ready, b: &Ready| {
        b.task
            .priority
            .cmp(&a.task.priority)
            .then(a.enqueued.cmp(&b.enqueued))
            .then(a.entry.id.cmp(&b.entry.id))
    };
    if ready.is_sorted_by(|a, b| before(a, b).is_le()) {
        return ready;
    }
    let mut order: Vec<usize> = (0..ready.len()).collect();
    order.sort_by(|&a, &b| before(&ready[a], &ready[b]));
    permute(ready, order)
}

/// `items` rearranged so that position i holds what was at `order[i]`, in place:
/// each cycle of the permutation is followed with swaps (no second vector of
/// large items, whose fresh pages cost more than the moves).
fn permute<T>(mut items: Vec<T>, mut order: Vec<usize>) -> Vec<T> {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start || from == at {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
    items
}

/// `f` over `items` on all available cores, results in order. Each thread writes
/// its results straight into their slots of one vector (the results are large:
/// a vector per thread gathered into another would touch twice the memory).
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || items.len() < 256 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut slots: Vec<Option<R>> = Vec::with_capacity(items.len());
    slots.resize_with(items.len(), || None);
    std::thread::scope(|scope| {
        for (part, out) in items.chunks(chunk).zip(slots.chunks_mut(chunk)) {
            let f = &f;
            scope.spawn(move || {
                for (item, slot) in part.iter().zip(out) {
                    *slot = Some(f(item));
                }
            });
        }
    });
    // Every slot is filled (a panicking thread re-panics at the scope's end);
    // the vector is reused in place.
    slots.into_iter().flatten().collect()
}

/// One todo/ file checked on its own (no duplicate check, no agent yet).
struct Checked {
    task: Result<Box<Task>, task::Problem>,
    mtime: Option<std::time::SystemTime>,
    keep: Keep,
}

fn check_cached(index: &TodoIndex, dir: Option<&fs::File>, entry: &Entry, name: &str) -> Checked {
    let stat = dir.and_then(|dir| Stamp::at(dir, name));
    if let Some((stamp, mtime)) = stat {
        if let Some(task) = index.get(name, &stamp) {
            return Checked {
                task,
                mtime: Some(mtime),
                keep: Keep::Hit,
            };
        }
    }
    let (task, meta) = check_file(entry);
    let task = task.map(Box::new);
    let keep = index.fresh(name, meta.as_ref().and_then(Stamp::of), &task);
    Checked {
        task,
        mtime: meta
            .and_then(|m| m.modified().ok())
            .or(stat.map(|(_, mtime)| mtime)),
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
    task: &Task,
    mtime: Option<std::time::SystemTime>,
) -> Result<(String, Timestamp), task::Problem> {
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
    Ok((agent, enqueued))
}

#[cfg(test)]
mod tests {
    #[test]
    fn permute_puts_each_item_where_the_order_says() {
        // Cycles of every length, fixed points, and the reverse.
        let orders: [Vec<usize>; 4] = [
            vec![0, 1, 2, 3, 4, 5],
            vec![5, 4, 3, 2, 1, 0],
            vec![1, 2, 0, 3, 5, 4],
            vec![3, 0, 4, 1, 5, 2],
        ];
        for order in orders {
            let items: Vec<String> = (0..order.len()).map(|i| format!("item {i}")).collect();
            let expected: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
            assert_eq!(super::permute(items, order.clone()), expected, "{order:?}");
        }
    }
}
