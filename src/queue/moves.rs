//! Every move between the state folders: enqueue into todo/, claim into doing/,
//! finish into done/ or failed/, reject into failed/. Each is one atomic rename
//! (or a whole new file) made durable. Commands and the hook never touch task
//! files themselves: they call these.
use super::error::QueueError;
use super::layout::{State, Tree};
use super::record::{read_record, write_record, Record, Step};
use super::scan::{all_ids, entries, find, Ready};
use super::Entry;
use crate::clock::Timestamp;
use crate::durable;
use crate::path_error::PathError;
use crate::task::{self, Task};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Write a new task into todo/ under a fresh id made from its title (`-2`, `-3`…
/// when taken). The file appears whole or not at all. Returns the id.
pub fn enqueue_new(tree: &Tree, task: &Task) -> io::Result<String> {
    enqueue_new_except(tree, task, &|_| false)
}

/// [`enqueue_new`], also passing over the ids `in_use` says something else holds
/// (`add` passes those whose `agentos/<id>` branch exists).
pub fn enqueue_new_except(
    tree: &Tree,
    task: &Task,
    in_use: &dyn Fn(&str) -> bool,
) -> io::Result<String> {
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
        if taken.contains(&id) || in_use(&id) {
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

/// The id [`enqueue_new`] would give a task with this title now.
pub fn free_id(tree: &Tree, title: &str) -> io::Result<String> {
    let taken = all_ids(tree)?;
    let stem = task::slugify(title);
    Ok((1u32..)
        .map(|n| match n {
            1 => stem.clone(),
            n => format!("{stem}-{n}"),
        })
        .find(|id| !taken.contains(id))
        .unwrap_or(stem))
}

/// Write a task into todo/ under the id given; the id must be a slug that no
/// task uses. The file appears whole or not at all.
pub fn enqueue_as(tree: &Tree, task: &Task, id: &str) -> Result<(), QueueError> {
    let todo = tree.state_dir(State::Todo);
    let taken_by = |tree: &Tree| {
        find(tree, id)
            .ok()
            .flatten()
            .map_or_else(|| "another task".to_string(), |e| rel(tree, &e.path))
    };
    let taken = all_ids(tree).map_err(PathError::at("read", &tree.dir))?;
    if taken.contains(id) {
        return Err(QueueError::IdTaken {
            id: id.to_string(),
            by: taken_by(tree),
        });
    }
    durable::ensure_dir(&todo).map_err(PathError::at("create", &todo))?;
    let path = todo.join(format!("{id}.md"));
    match durable::create_new(&path, task::write(task).as_bytes()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(QueueError::IdTaken {
            id: id.to_string(),
            by: rel(tree, &path),
        }),
        Err(e) => Err(PathError::new("write", &path, e).into()),
    }
}

/// A path relative to the repository's top folder, for messages.
fn rel(tree: &Tree, path: &Path) -> String {
    path.strip_prefix(&tree.repo_root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Queue a failed task again: failed/ back to todo/. Its record is kept in
/// runs/<id>/ (the retry starts a fresh one); returns the reason it had failed.
pub fn retry(tree: &Tree, entry: &Entry) -> Result<String, QueueError> {
    let id = entry.id.clone();
    match entry.state {
        State::Failed => {}
        State::Todo => return Err(QueueError::Queued { id }),
        State::Doing => return Err(QueueError::Running { id }),
        State::Done => return Err(QueueError::Done { id }),
        State::Review => {
            let url = read_record(&entry.record_path())
                .ok()
                .flatten()
                .and_then(|r| r.pr_url);
            return Err(QueueError::InReview { id, url });
        }
    }
    task::check_id(&entry.id).map_err(|problem| QueueError::NotRetryable {
        file: rel(tree, &entry.path),
        problem,
    })?;
    let todo = tree.state_dir(State::Todo).join(format!("{id}.md"));
    if fs::symlink_metadata(&todo).is_ok() {
        return Err(QueueError::Exists(rel(tree, &todo)));
    }
    let record = entry.record_path();
    if record.exists() {
        let keep = tree.runs_dir().join(&id);
        fs::create_dir_all(&keep).map_err(PathError::at("create", &keep))?;
        let dest = keep.join(format!(
            "record-before-retry-{}.json",
            Timestamp::now().as_nanos()
        ));
        durable::rename(&record, &dest).map_err(PathError::at("move", &record))?;
    }
    let reason = fs::read_to_string(entry.reason_path()).unwrap_or_default();
    durable::rename(&entry.path, &todo).map_err(PathError::at("move", &entry.path))?;
    let _ = fs::remove_file(entry.reason_path());
    Ok(reason)
}

/// Write a task's file again in place (a task in review/ whose targets a
/// person widened): whole, durably, with the mode it had.
pub fn rewrite(entry: &Entry, task: &Task) -> Result<(), QueueError> {
    let permissions = fs::metadata(&entry.path)
        .map_err(PathError::at("read", &entry.path))?
        .permissions();
    durable::write_with_permissions(&entry.path, task::write(task).as_bytes(), Some(permissions))
        .map_err(|e| PathError::new("write", &entry.path, e).into())
}

/// Fail a queued task that never ran: todo/ to failed/ with the reason. `Ok(None)`
/// when it is no longer in todo/ (a dispatcher claimed it meanwhile).
pub fn cancel_queued(
    tree: &Tree,
    entry: &Entry,
    reason: &str,
) -> Result<Option<Entry>, QueueError> {
    let record = Record {
        id: entry.id.clone(),
        agent: entry
            .folder_agent
            .clone()
            .unwrap_or_else(|| "default".into()),
        reason: Some(reason.to_string()),
        finished_at: Some(Timestamp::now()),
        ..Default::default()
    };
    match finish(tree, entry, &record, State::Failed, None) {
        Ok(moved) => Ok(Some(moved)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PathError::new("move", &entry.path, e).into()),
    }
}

/// Where `cancel` leaves word for the dispatcher that a running task is cancelled.
pub fn cancel_marker(entry: &Entry) -> PathBuf {
    entry.path.with_file_name(format!("{}.cancel", entry.id))
}

/// Ask the dispatcher running `entry` to stop it at its next step.
pub fn request_cancel(entry: &Entry) -> Result<(), QueueError> {
    let marker = cancel_marker(entry);
    durable::write(&marker, b"cancelled\n").map_err(|e| PathError::new("write", &marker, e).into())
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

/// Send a claimed task back to todo/ (into todo/<agent>/ when its agent came
/// from the folder it was queued in), unchanged, with no attempt spent: its
/// record is kept in runs/<id>/ as `record-<why>-<time>.json` and the next claim
/// starts afresh. The record moves first, so a crash in between leaves a task
/// in doing/ without one, which the next dispatcher resumes as a new attempt.
pub fn requeue(
    tree: &Tree,
    entry: &Entry,
    record: &Record,
    folder: Option<&str>,
    why: &str,
) -> Result<Entry, QueueError> {
    let keep = tree.runs_dir().join(&entry.id);
    fs::create_dir_all(&keep).map_err(PathError::at("create", &keep))?;
    let saved = keep.join(format!("record-{why}-{}.json", Timestamp::now().as_nanos()));
    write_record(&saved, record).map_err(PathError::at("write", &saved))?;
    let _ = fs::remove_file(entry.record_path());
    let mut dir = tree.state_dir(State::Todo);
    if let Some(agent) = folder {
        dir.push(agent);
    }
    durable::ensure_dir(&dir).map_err(PathError::at("create", &dir))?;
    let dest = dir.join(format!("{}.md", entry.id));
    if fs::symlink_metadata(&dest).is_ok() {
        return Err(QueueError::Exists(rel(tree, &dest)));
    }
    durable::rename(&entry.path, &dest).map_err(PathError::at("move", &entry.path))?;
    Ok(Entry {
        id: entry.id.clone(),
        state: State::Todo,
        path: dest,
        folder_agent: folder.map(str::to_string),
    })
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
/// With `task_text`, that text is written in its place instead (a claimed file that
/// is gone is then no error).
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
        // The output copy (done/ with its result appended, or the task as it was
        // claimed when its file was deleted) is written whole before the claimed
        // file goes away.
        Some(text) => {
            // The copy keeps the mode the task file had (a fresh file would be 0600).
            let permissions = fs::metadata(&entry.path).ok().map(|m| m.permissions());
            durable::write_with_permissions(&dest.path, text.as_bytes(), permissions)?;
            match fs::remove_file(&entry.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            durable::sync_dir(&tree.state_dir(entry.state))?;
        }
        None => durable::rename(&entry.path, &dest.path)?,
    }
    for leftover in [entry.record_path(), cancel_marker(entry)] {
        match fs::remove_file(leftover) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(dest)
}
