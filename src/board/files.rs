//! Reading what the state folders hold, for the board: never through a symbolic
//! link (a task file, record, report or stream that is a link, or sits in a
//! linked folder, is not read), never more than a cap, and the agent's stream
//! by complete lines from an offset, so a page can follow it.
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The most of a record, reason or report the board reads.
pub const TEXT_CAP: u64 = 1024 * 1024;
/// The most of an agent's stream a page shows at first (its end).
pub const LOG_CAP: u64 = 2 * 1024 * 1024;

/// Open a regular file that is not a symbolic link.
fn open_plain(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// The text of a file (at most `cap` bytes of it), or None when it is missing,
/// a link, not a regular file or unreadable. Invalid UTF-8 is replaced.
pub fn read_text(path: &Path, cap: u64) -> Option<String> {
    let mut bytes = Vec::new();
    open_plain(path)
        .ok()?
        .take(cap)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `base/<part>/<part>…` when each part is a real folder (not a link).
pub fn real_dir(base: &Path, parts: &[&str]) -> Option<PathBuf> {
    let mut path = base.to_path_buf();
    for part in parts {
        path.push(part);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_dir() {
            return None;
        }
    }
    Some(path)
}

/// Complete lines of a stream read from `from`, and the offset after the last.
#[derive(Debug, Default, PartialEq)]
pub struct Lines {
    pub text: String,
    pub end: u64,
    /// The offset where `text` begins (above `from` when the start was cut).
    pub begin: u64,
}

/// The complete lines of `path` from byte `from` on (when `from` is None: the
/// last [`LOG_CAP`] bytes' complete lines). A file shorter than `from` was
/// replaced: None, so the reader starts over.
pub fn read_lines(path: &Path, from: Option<u64>) -> Option<Lines> {
    lines_from(path, from, LOG_CAP)
}

/// The complete lines among the last `cap` bytes of `path`.
pub fn read_tail(path: &Path, cap: u64) -> Option<Lines> {
    lines_from(path, None, cap)
}

fn lines_from(path: &Path, from: Option<u64>, cap: u64) -> Option<Lines> {
    let mut file = open_plain(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = match from {
        Some(offset) if offset > len => return None,
        Some(offset) => offset,
        None => len.saturating_sub(cap),
    };
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.take(len - start).read_to_end(&mut bytes).ok()?;
    // Started mid-file to stay under the cap: drop the partial first line.
    let skip = if from.is_none() && start > 0 {
        bytes
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| i + 1)
    } else {
        0
    };
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let complete = complete.max(skip);
    Some(Lines {
        text: String::from_utf8_lossy(&bytes[skip..complete]).into_owned(),
        end: start + complete as u64,
        begin: start + skip as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "root:x:0:0").expect("write");
        let link = dir.path().join("task.md");
        std::os::unix::fs::symlink(&secret, &link).expect("link");
        assert_eq!(read_text(&link, TEXT_CAP), None);
        assert_eq!(read_text(&secret, 4).as_deref(), Some("root"));
        std::fs::create_dir(dir.path().join("real")).expect("mkdir");
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("linked"))
            .expect("link");
        assert!(real_dir(dir.path(), &["real"]).is_some());
        assert!(real_dir(dir.path(), &["linked"]).is_none());
        assert!(real_dir(dir.path(), &["missing"]).is_none());
    }

    #[test]
    fn a_stream_is_read_by_complete_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("agent.jsonl");
        std::fs::write(&log, "one\ntwo\nthr").expect("write");
        let first = read_lines(&log, None).expect("read");
        assert_eq!((first.text.as_str(), first.end), ("one\ntwo\n", 8));
        std::fs::write(&log, "one\ntwo\nthree\n").expect("write");
        let next = read_lines(&log, Some(first.end)).expect("read");
        assert_eq!((next.text.as_str(), next.end), ("three\n", 14));
        std::fs::write(&log, "new\n").expect("write");
        assert_eq!(read_lines(&log, Some(14)), None, "replaced: start over");
    }
}
