//! The friction log, `.agentos/friction.jsonl`: one JSON line per thing that went
//! wrong or cost time (a failed verification, an agent error, a timeout, a retry, a
//! resume after a crash, a hook error, a GitHub retry, a long silence), appended
//! whole and durably. `git agentos friction` reads it back and turns what recurs
//! into tasks: report.rs summarises it, enqueue.rs turns what recurs into tasks.
pub mod enqueue;
pub mod report;

use crate::clock::Timestamp;
use crate::queue::Tree;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub time: Timestamp,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
}

impl Event {
    pub fn new(kind: &str, step: &str, message: &str) -> Event {
        Event {
            time: Timestamp::now(),
            kind: kind.to_string(),
            task: None,
            step: (!step.is_empty()).then(|| step.to_string()),
            message: crate::forge::redact(message),
            attempt: None,
        }
    }

    pub fn task(mut self, id: &str, attempt: u32) -> Event {
        self.task = Some(id.to_string());
        self.attempt = Some(attempt);
        self
    }
}

pub fn path(tree: &Tree) -> PathBuf {
    tree.dir.join("friction.jsonl")
}

/// Append one event. The line is written by a single `write` on a file opened for
/// appending, under an exclusive lock, then synced: concurrent writers (threads or
/// processes) never interleave or lose a line.
pub fn record(tree: &Tree, event: &Event) -> std::io::Result<()> {
    let mut line = serde_json::to_string(event).map_err(std::io::Error::other)?;
    line.push('\n');
    std::fs::create_dir_all(&tree.dir)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path(tree))?;
    file.lock()?;
    // A line torn by a crash mid-write must not swallow this one.
    let len = file.metadata()?.len();
    if len > 0 {
        use std::os::unix::fs::FileExt;
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1)?;
        if last[0] != b'\n' {
            line.insert(0, '\n');
        }
    }
    file.write_all(line.as_bytes())?;
    file.sync_data()?;
    file.unlock()
}

/// Record, and warn (through the log) if the log cannot be written: never fatal.
pub fn note(tree: &Tree, event: Event) {
    if let Err(e) = record(tree, &event) {
        tracing::warn!(
            "cannot append to {}: {e} ({}: {})",
            path(tree).display(),
            event.kind,
            event.message
        );
    }
}

/// How much of the log's end is read: a log larger than this (a cloned
/// repository may commit any size) is read from its last whole line within.
pub const MAX_LOG_BYTES: u64 = 16 * 1024 * 1024;

/// Every event in the log's last [`MAX_LOG_BYTES`], and how many lines could
/// not be read (a line torn by a crash, cut inside a UTF-8 sequence, or edited
/// by hand into something that is not an event is skipped and counted, never
/// fatal). The log is read as bytes, a line at a time.
pub fn read(tree: &Tree) -> std::io::Result<(Vec<Event>, usize)> {
    let bytes = match read_tail(&path(tree), MAX_LOG_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let mut events = Vec::new();
    let mut bad = 0;
    for line in bytes.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let event = std::str::from_utf8(line)
            .ok()
            .and_then(|l| serde_json::from_str::<Event>(l).ok());
        match event {
            Some(e) => events.push(e),
            None => bad += 1,
        }
    }
    Ok((events, bad))
}

/// The last `cap` bytes of `path`, from the first line that starts within
/// them (the whole file when it is smaller); never more held than `cap`.
fn read_tail(path: &std::path::Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len <= cap {
        let mut bytes = Vec::new();
        file.take(cap).read_to_end(&mut bytes)?;
        return Ok(bytes);
    }
    file.seek(SeekFrom::Start(len - cap))?;
    let mut bytes = Vec::new();
    file.take(cap).read_to_end(&mut bytes)?;
    let start = bytes
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |at| at + 1);
    bytes.drain(..start);
    Ok(bytes)
}

/// The kind of friction a task failure is, from the step it failed in and its
/// reason.
pub fn classify_failure(step: &str, reason: &str) -> &'static str {
    let r = reason.to_lowercase();
    if r.contains("the agent replaced the worktree's")
        || r.contains("worktree's git settings")
        || r.contains("rewrote its worktree's record")
        || r.contains("changed the permissions of files outside its worktree")
    {
        "escape"
    } else if r.starts_with("cancelled") {
        "cancelled"
    } else if r.starts_with("gave up after") {
        "crash-loop"
    } else if r.contains("never started") {
        "handoff-failed"
    } else if r.contains("timed out") {
        "timeout"
    } else if ["the agent", "the commit step", "a verify command"]
        .iter()
        .flat_map(|who| ["moved", "created", "deleted"].map(|verb| format!("{who} {verb} `refs/")))
        .any(|start| r.starts_with(&start))
    {
        "escape"
    } else if r.contains("this machine cannot confine them") {
        "sandbox-unavailable"
    } else if step == "agent" {
        "agent-error"
    } else if r.contains("made no change") {
        "no-change"
    } else if step == "verify" || r.starts_with("verify") {
        "verify-failed"
    } else if step == "publish" || r.starts_with("push") || r.starts_with("publish") {
        "publish-failed"
    } else if step == "preflight" || r.starts_with("preflight") {
        "preflight-failed"
    } else {
        "task-error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_over_the_cap_is_read_from_its_last_whole_line_within() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("friction.jsonl");
        std::fs::write(&log, "first line\nsecond\nthird\n").expect("write");
        assert_eq!(
            read_tail(&log, 1024).expect("read"),
            b"first line\nsecond\nthird\n"
        );
        // 10 bytes from the end start inside "second": it is dropped whole.
        assert_eq!(read_tail(&log, 10).expect("read"), b"third\n");
        // A sparse 3 GiB log: only the window is read.
        let big = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("open");
        big.set_len(3 << 30).expect("sparse");
        assert!(read_tail(&log, MAX_LOG_BYTES).expect("read").len() as u64 <= MAX_LOG_BYTES);
    }

    #[test]
    fn escapes_and_a_missing_sandbox_are_their_own_kinds() {
        assert_eq!(
            classify_failure("agent", "the agent moved `refs/heads/main` from a to b"),
            "escape"
        );
        assert_eq!(
            classify_failure(
                "agent",
                "the agent `default` can run commands (…) and this machine cannot confine them: …"
            ),
            "sandbox-unavailable"
        );
    }

    #[test]
    fn failures_are_classified() {
        assert_eq!(
            classify_failure("agent", "agent never started: no system/init"),
            "handoff-failed"
        );
        assert_eq!(
            classify_failure("agent", "agent timed out after 30m"),
            "timeout"
        );
        assert_eq!(
            classify_failure("agent", "the agent exited with code 1"),
            "agent-error"
        );
        assert_eq!(
            classify_failure("verify", "changed src/x.rs outside targets"),
            "verify-failed"
        );
        assert_eq!(
            classify_failure("commit", "the agent made no change: …"),
            "no-change"
        );
        assert_eq!(
            classify_failure("publish", "push: rejected"),
            "publish-failed"
        );
        assert_eq!(
            classify_failure(
                "commit",
                "commit: the agent replaced the worktree's `.git` file (…)"
            ),
            "escape"
        );
    }

    #[test]
    fn torn_lines_are_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = Tree::new(dir.path());
        record(&tree, &Event::new("retry", "", "by hand").task("t", 2)).expect("record");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(path(&tree))
            .expect("open");
        f.write_all(b"{\"time\": tor").expect("write");
        record(&tree, &Event::new("resume", "agent", "after a crash")).expect("record");
        // Torn inside a UTF-8 sequence: that line only.
        f.write_all(b"{\"kind\":\"caf\xc3\n").expect("write");
        record(&tree, &Event::new("retry", "", "after")).expect("record");
        let (events, bad) = read(&tree).expect("read");
        assert_eq!(events.len(), 3);
        assert_eq!(events[1].kind, "resume");
        assert_eq!(events[0].task.as_deref(), Some("t"));
        assert_eq!(bad, 2);
    }
}
