//! A cache of parsed todo/ files, keyed by each file's stat data, so that `list` and
//! `status` over thousands of queued tasks cost one `stat` per file instead of an
//! open, read and parse.
//!
//! Like git's index it guards against "racy" entries: a file whose status changed
//! within the last two seconds is never taken from the cache. The cache is only an
//! optimisation: a missing or unreadable one is rebuilt, and nothing depends on it.
//!
//! Format: a version line, then one line per file, tab-separated:
//! `name  len  ino  mtime_s  mtime_ns  ctime_s  ctime_ns  json`, where json is the
//! parsed task without its body, or its problem. Lines are decoded only on a hit.
use crate::task::{Problem, Task};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// v2: tasks are stored without a `body` field. v3: a glob target that does not
/// compile makes the task invalid (a v2 index may hold it as valid). v4: with the
/// scheduling fields. v5: fields at their default left out (half the bytes to
/// read and parse).
const HEADER: &str = "git-agentos todo index v5";

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp([i64; 6]);

impl Stamp {
    pub fn of(meta: &Metadata) -> Option<Stamp> {
        meta.is_file().then(|| {
            Stamp([
                meta.len() as i64,
                meta.ino() as i64,
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec(),
            ])
        })
    }

    /// The stamp and modification time of `name` in the folder `dir`, the link
    /// itself for a link (a stat relative to the folder, not a walk of the whole
    /// path for each of thousands of files). None for what is not a regular file.
    pub fn at(dir: &std::fs::File, name: &str) -> Option<(Stamp, std::time::SystemTime)> {
        use nix::sys::stat::{fstatat, SFlag};
        let st = fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW).ok()?;
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            return None;
        }
        let mtime = std::time::UNIX_EPOCH.checked_add(std::time::Duration::new(
            u64::try_from(st.st_mtime).ok()?,
            u32::try_from(st.st_mtime_nsec).ok()?,
        ))?;
        let stamp = Stamp([
            st.st_size,
            st.st_ino as i64,
            st.st_mtime,
            st.st_mtime_nsec,
            st.st_ctime,
            st.st_ctime_nsec,
        ]);
        Some((stamp, mtime))
    }

    /// Changed so recently that a later change could share the same timestamps.
    fn is_racy(&self, now_secs: i64) -> bool {
        now_secs - self.0[4] < 2 || now_secs - self.0[2] < 2
    }
}

/// What a scan found for one file, for the next version of the index.
pub enum Keep {
    /// Taken from the index unchanged.
    Hit,
    /// Parsed afresh: the line to store.
    Fresh(String),
    /// Not to be cached (racy, unreadable, or a name the format cannot hold).
    Skip,
}

/// One line of the index as read: where its parts are in the text.
struct Line {
    name: std::ops::Range<usize>,
    stamp: Stamp,
    /// The whole line, its newline included.
    whole: std::ops::Range<usize>,
    json_at: usize,
}

/// The index as read at the start of a scan.
pub struct TodoIndex {
    path: PathBuf,
    raw: String,
    /// Sorted by name (the index is written in path order, so sorting is a check);
    /// looked up by binary search, with no copy of the names.
    lines: Vec<Line>,
    now_secs: i64,
}

impl TodoIndex {
    /// An index over [`MAX_INDEX_BYTES`] is not read (the cache starts over).
    pub fn open(path: &Path) -> TodoIndex {
        let raw = read_capped(path).unwrap_or_default();
        let mut lines = Vec::new();
        if raw.starts_with(HEADER) {
            lines.reserve(raw.len() / 128);
            let mut offset = 0;
            for line in raw.split_inclusive('\n') {
                let start = offset;
                offset += line.len();
                if let Some((name_len, stamp, json_at)) = parse_line(line) {
                    lines.push(Line {
                        name: start..start + name_len,
                        stamp,
                        whole: start..offset,
                        json_at: start + json_at,
                    });
                }
            }
            lines.sort_unstable_by(|a, b| raw[a.name.clone()].cmp(&raw[b.name.clone()]));
            lines.dedup_by(|a, b| raw[a.name.clone()] == raw[b.name.clone()]);
        }
        // The real time, not the clock a test may pin: this guards against
        // file-system timestamps too coarse to tell two writes apart.
        let now_secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        TodoIndex {
            path: path.to_path_buf(),
            raw,
            lines,
            now_secs,
        }
    }

    fn line(&self, name: &str) -> Option<&Line> {
        self.lines
            .binary_search_by(|line| self.raw[line.name.clone()].cmp(name))
            .ok()
            .map(|i| &self.lines[i])
    }

    /// The cached result for a file whose stamp still matches.
    pub fn get(&self, name: &str, stamp: &Stamp) -> Option<Result<Box<Task>, Problem>> {
        let line = self.line(name)?;
        if line.stamp != *stamp || stamp.is_racy(self.now_secs) {
            return None;
        }
        serde_json::from_str(self.raw[line.json_at..line.whole.end].trim_end()).ok()
    }

    /// The line to store for a freshly parsed file, or Skip.
    pub fn fresh(
        &self,
        name: &str,
        stamp: Option<Stamp>,
        result: &Result<Box<Task>, Problem>,
    ) -> Keep {
        let Some(stamp) = stamp else {
            return Keep::Skip;
        };
        if stamp.is_racy(self.now_secs) || name.contains(['\t', '\n', '\r']) {
            return Keep::Skip;
        }
        // A task's body is never serialized: the index keeps the rest.
        match serde_json::to_string(result) {
            Ok(json) => {
                let s = stamp.0;
                Keep::Fresh(format!(
                    "{name}\t{}\t{}\t{}\t{}\t{}\t{}\t{json}\n",
                    s[0], s[1], s[2], s[3], s[4], s[5]
                ))
            }
            Err(_) => Keep::Skip,
        }
    }

    /// Write the index back when it changed. `found` is every file of this scan with
    /// what it found. Failure to write is ignored: the cache is an optimisation.
    pub fn save<'a>(self, found: impl Iterator<Item = (&'a str, Keep)>) {
        let found: Vec<(&str, Keep)> = found.collect();
        let hits = found.iter().filter(|(_, k)| matches!(k, Keep::Hit)).count();
        let changed =
            hits != self.lines.len() || found.iter().any(|(_, k)| matches!(k, Keep::Fresh(_)));
        if !changed {
            return;
        }
        let mut out = String::with_capacity(self.raw.len().max(HEADER.len() + 1));
        out.push_str(HEADER);
        out.push('\n');
        for (name, keep) in found {
            match keep {
                Keep::Hit => {
                    if let Some(line) = self.line(name) {
                        out.push_str(&self.raw[line.whole.clone()]);
                    }
                }
                Keep::Fresh(line) => out.push_str(&line),
                Keep::Skip => {}
            }
        }
        let _ = crate::durable::write_fast(&self.path, out.as_bytes());
    }
}

/// A line's name length, stamp and where its json starts.
fn parse_line(line: &str) -> Option<(usize, Stamp, usize)> {
    let mut fields = line.splitn(8, '\t');
    let name = fields.next()?.len();
    let mut stamp = [0i64; 6];
    for slot in &mut stamp {
        *slot = fields.next()?.parse().ok()?;
    }
    let json = fields.next()?;
    Some((name, Stamp(stamp), line.len() - json.len()))
}

/// The largest todo.index read; a larger one (no queue needs it; a cloned
/// repository may commit any size) is ignored and rebuilt.
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// The index's text, when it is a file within [`MAX_INDEX_BYTES`]. Read into
/// one buffer of the file's size (growing one while reading 4 MB copies it
/// several times).
fn read_capped(path: &Path) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_INDEX_BYTES {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(MAX_INDEX_BYTES).read_to_end(&mut bytes).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_over_the_cap_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("todo.index");
        std::fs::write(&path, HEADER).expect("write");
        assert_eq!(read_capped(&path).as_deref(), Some(HEADER));
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        file.set_len(MAX_INDEX_BYTES + 1).expect("sparse");
        assert_eq!(read_capped(&path), None);
        assert!(TodoIndex::open(&path).raw.is_empty());
    }
}
