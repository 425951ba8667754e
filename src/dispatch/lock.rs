//! The dispatcher lock: exactly one process per repository owns the queue.
//!
//! An exclusive `flock` on `.agentos/dispatcher.lock` in the main working tree, so it
//! is the same lock from every worktree. The kernel drops it when the holder exits,
//! `kill -9` included, so a crash never leaves it stuck. The file also records who
//! holds it, for error messages.
use crate::clock::Timestamp;
use crate::queue::Tree;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

/// Who holds the lock, as the holder wrote it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub command: String,
    pub since: Timestamp,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} (`git agentos {}`, since {})",
            self.pid, self.command, self.since
        )
    }
}

/// A held dispatcher lock; dropping it releases the lock.
#[derive(Debug)]
pub struct DispatcherLock {
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it (its record, when readable).
    Held(Option<Holder>),
    Io(std::io::Error),
}

fn open(tree: &Tree) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(tree.lock_path())
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

impl DispatcherLock {
    /// Take the lock without waiting (beyond a few milliseconds, so that a `status`
    /// probing the lock never makes a dispatcher fail).
    pub fn acquire(tree: &Tree, command: &str) -> Result<DispatcherLock, LockError> {
        let mut file = open(tree).map_err(LockError::Io)?;
        let deadline = Instant::now() + Duration::from_millis(100);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Held(read_holder(&mut file)))
                }
                Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
            }
        }
        let holder = Holder {
            pid: std::process::id(),
            command: command.to_string(),
            since: Timestamp::now(),
        };
        let record = serde_json::to_string(&holder).unwrap_or_default();
        file.set_len(0).map_err(LockError::Io)?;
        file.seek(SeekFrom::Start(0)).map_err(LockError::Io)?;
        file.write_all(record.as_bytes()).map_err(LockError::Io)?;
        file.flush().map_err(LockError::Io)?;
        Ok(DispatcherLock { _file: file })
    }

    /// Who holds the lock now, or None when it is free. Holds it for an instant
    /// when free; [`DispatcherLock::acquire`] tolerates that. Opens the file for
    /// reading only, so probing never looks like a write to a file watcher (the
    /// board learns that a dispatcher ended from its closing the file).
    pub fn probe(tree: &Tree) -> std::io::Result<Option<Holder>> {
        let mut file = match File::open(tree.lock_path()) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match file.try_lock() {
            Ok(()) => Ok(None),
            Err(TryLockError::WouldBlock) => Ok(Some(read_holder(&mut file).unwrap_or(Holder {
                pid: 0,
                command: "unknown".into(),
                since: Timestamp::EPOCH,
            }))),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_holder_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        std::fs::create_dir_all(&tree.dir).expect("mkdir");
        let first = DispatcherLock::acquire(&tree, "run").expect("first holder");
        match DispatcherLock::acquire(&tree, "watch") {
            Err(LockError::Held(Some(holder))) => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.command, "run");
            }
            other => panic!("second acquire should fail with the holder, got {other:?}"),
        }
        assert!(DispatcherLock::probe(&tree).expect("probe").is_some());
        drop(first);
        assert!(DispatcherLock::probe(&tree).expect("probe").is_none());
        DispatcherLock::acquire(&tree, "watch").expect("free again");
    }
}
