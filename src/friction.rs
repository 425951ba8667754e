//! The friction log, `.agentos/friction.jsonl`: one JSON line per thing that went
//! wrong (a failed task, a hook error…), appended whole and durably.
use crate::layout::Tree;
use crate::timestamp::Timestamp;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Serialize)]
pub struct Event<'a> {
    pub time: Timestamp,
    pub kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<&'a str>,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
}

/// Append one event. Each line is written with a single `write` on a file opened
/// for appending, under an exclusive lock, so concurrent writers never interleave.
pub fn record(tree: &Tree, event: &Event) -> std::io::Result<()> {
    let mut line = serde_json::to_string(event).map_err(std::io::Error::other)?;
    line.push('\n');
    std::fs::create_dir_all(&tree.dir)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(tree.dir.join("friction.jsonl"))?;
    file.lock()?;
    file.write_all(line.as_bytes())?;
    file.sync_data()?;
    file.unlock()
}
