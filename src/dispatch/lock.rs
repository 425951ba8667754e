//! The dispatcher lock: exactly one process per repository owns the queue.
//!
//! An exclusive `flock` on `agentos-dispatcher.lock` in the repository's git
//! folder, so it is the same lock from every worktree, and not a file a person
//! deletes by reflex (older versions locked `.agentos/dispatcher.lock`, which
//! people removed as stale, letting a second dispatcher in). The kernel drops it
//! when the holder exits, `kill -9` included, so a crash never leaves it stuck.
//! The file also records who holds it, for error messages. It is opened without
//! following a symbolic link, and the holder checks before each claim that the
//! path still names the file it locked ([`DispatcherLock::still_held`]).
use crate::clock::Timestamp;
use crate::queue::Tree;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
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
    path: PathBuf,
    /// The device and inode of the file locked.
    id: (u64, u64),
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it (its record, when readable).
    Held(Option<Holder>),
    Io(std::io::Error),
}

/// Open the lock file, never through a symbolic link, and only a regular file.
fn open(tree: &Tree) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(tree.lock_path())?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("the lock is not a regular file"));
    }
    Ok(file)
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// True when `pid` is a live git agentos process other than this one: the
/// dispatcher a claim record names may still be running its task.
pub fn is_other_live_dispatcher(pid: u32) -> bool {
    if pid == 0 || pid == std::process::id() {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state …`: a zombie is gone in all but name.
    let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(')')) else {
        return false;
    };
    !rest.trim_start().starts_with('Z') && name.starts_with("git-agentos")
}

impl DispatcherLock {
    /// Take the lock without waiting (beyond a few milliseconds, so that a `status`
    /// probing the lock never makes a dispatcher fail).
    pub fn acquire(tree: &Tree, command: &str) -> Result<DispatcherLock, LockError> {
        let mut file = open(tree).map_err(LockError::Io)?;
        let meta = file.metadata().map_err(LockError::Io)?;
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
        let lock = DispatcherLock {
            _file: file,
            path: tree.lock_path(),
            id: (meta.dev(), meta.ino()),
        };
        // Replaced between the open and the lock: another process may lock the new one.
        if !lock.still_held() {
            return Err(LockError::Held(None));
        }
        Ok(lock)
    }

    /// Where the lock file is.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// True while the lock's path still names the file this dispatcher locked: a
    /// lock file deleted (or replaced) lets another dispatcher in, so the holder
    /// stops claiming.
    pub fn still_held(&self) -> bool {
        std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.is_file() && (m.dev(), m.ino()) == self.id)
    }

    /// Who holds the lock now, or None when it is free. Holds it for an instant
    /// when free; [`DispatcherLock::acquire`] tolerates that. Opens the file for
    /// reading only (and never through a link), so probing never looks like a write to a file watcher (the
    /// board learns that a dispatcher ended from its closing the file).
    pub fn probe(tree: &Tree) -> std::io::Result<Option<Holder>> {
        let opened = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(tree.lock_path());
        let mut file = match opened {
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
        std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
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
        let again = DispatcherLock::acquire(&tree, "watch").expect("free again");
        assert!(again.still_held());
        std::fs::remove_file(tree.lock_path()).expect("a person deletes it");
        assert!(!again.still_held(), "the holder notices");
    }

    #[test]
    fn a_lock_file_that_is_a_link_is_never_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
        let bashrc = dir.path().join(".bashrc");
        std::fs::write(&bashrc, "export PS1\n").expect("write");
        std::os::unix::fs::symlink(&bashrc, tree.lock_path()).expect("link");
        assert!(matches!(
            DispatcherLock::acquire(&tree, "run"),
            Err(LockError::Io(_))
        ));
        assert_eq!(
            std::fs::read_to_string(&bashrc).expect("read"),
            "export PS1\n"
        );
    }
}
