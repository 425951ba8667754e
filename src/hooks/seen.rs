//! `.agentos/hook.seen`: the changes the hook has queued work for, one
//! `<change>\t<source>` line each, and the changes agents made in their
//! worktrees (`<change>\toutput:<task>`), so that the same change never queues
//! twice and a task's output is known when it comes back. The file is held
//! under an exclusive lock from the check to the append, and a change is
//! appended only after its task file is written.
use crate::queue::Tree;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

const FILE: &str = "hook.seen";

pub(super) struct Seen {
    file: File,
    lines: Vec<String>,
    pub path: PathBuf,
}

/// One field of a line: no tab or newline can split it.
fn field(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

impl Seen {
    /// Open and lock the ledger (waiting for another hook that holds it).
    /// The ledger is opened without following a link; only its last 64 MiB
    /// are read (about 600,000 changes).
    pub fn open(tree: &Tree) -> std::io::Result<Seen> {
        let path = tree.dir.join(FILE);
        let mut file = crate::nofollow::Dir::open(&tree.dir)?.read_append(FILE)?;
        file.lock()?;
        let (bytes, _) = crate::nofollow::read_tail(&mut file, 64 * 1024 * 1024)?;
        let lines = String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect();
        Ok(Seen { file, lines, path })
    }

    fn line(change: &str, source: &str) -> String {
        format!("{}\t{}", field(change), field(source))
    }

    pub fn has(&self, change: &str, source: &str) -> bool {
        let line = Self::line(change, source);
        self.lines.contains(&line)
    }

    /// Remember a change for a source, durably.
    pub fn remember(&mut self, change: &str, source: &str) -> std::io::Result<()> {
        if self.has(change, source) {
            return Ok(());
        }
        let line = Self::line(change, source);
        self.file.write_all(format!("{line}\n").as_bytes())?;
        self.file.sync_data()?;
        self.lines.push(line);
        Ok(())
    }

    /// The task whose agent made this change in its worktree, if one did.
    pub fn output_of(&self, change: &str) -> Option<String> {
        let prefix = format!("{}\toutput:", field(change));
        self.lines
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
    }

    pub fn remember_output(&mut self, change: &str, task: &str) -> std::io::Result<()> {
        self.remember(change, &format!("output:{task}"))
    }
}
