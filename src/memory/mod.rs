//! The memory vault: notes shared by every repository, as plain Markdown files a
//! person can read and edit, in `$AGENTOS_HOME/memory/` (default `~/.agentos`).
//!
//! A note is `<id>.md`: TOML front matter (tags, the repository it came from, when)
//! between `+++` lines, then the text. Each note is its own file, created whole by
//! a no-clobber rename, so concurrent writers never corrupt or lose one; an id
//! carries the time, the first words and a random suffix. search.rs ranks notes
//! against a query; mcp.rs serves them to agents, behind framing.rs, which
//! answers every line a client sends (`git agentos mcp`, on stdio); http.rs is
//! the same server as the dispatcher runs it for its tasks, on loopback HTTP.
mod framing;
pub mod http;
pub mod mcp;
pub mod search;
mod stateless;

use crate::clock::Timestamp;
use crate::path_error::PathError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the vault refuses, or cannot do.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("neither AGENTOS_HOME nor HOME is set")]
    NoHome,
    #[error("the note is empty")]
    Empty,
    #[error("the note is {0} bytes; the limit is 64 KiB")]
    TooLong(usize),
    #[error("`{0}` is not a tag")]
    BadTag(String),
    #[error("the note has {0} tags; the limit is {MAX_TAGS}")]
    TooManyTags(usize),
    #[error("`{0}` is not a note id")]
    BadId(String),
    #[error("there is no note `{id}` in {}", dir.display())]
    NoSuchNote { id: String, dir: PathBuf },
    #[error("cannot find a free note id in {}", dir.display())]
    NoFreeId { dir: PathBuf },
    #[error(transparent)]
    Io(#[from] PathError),
}

/// `$AGENTOS_HOME`, else `~/.agentos`: where git agentos keeps what every
/// repository shares.
pub fn agentos_home() -> Result<PathBuf, MemoryError> {
    match std::env::var_os("AGENTOS_HOME").filter(|v| !v.is_empty()) {
        Some(h) => Ok(PathBuf::from(h)),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|h| PathBuf::from(h).join(".agentos"))
            .ok_or(MemoryError::NoHome),
    }
}

/// The most tags a note may have.
pub const MAX_TAGS: usize = 32;

/// The largest note file read: a note's text is at most 64 KiB, its front
/// matter a few lines.
const NOTE_FILE_CAP: u64 = 256 * 1024;

/// The vault's folder: `<agentos home>/memory`.
pub fn vault_dir() -> Result<PathBuf, MemoryError> {
    Ok(agentos_home()?.join("memory"))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Note {
    pub id: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The repository the note was added from (its top folder), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    pub time: Timestamp,
    #[serde(skip)]
    pub text: String,
}

#[derive(Deserialize)]
struct Front {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repo: Option<String>,
    time: Timestamp,
}

/// The file text of a note. The front matter is written field by field, every
/// string a one-line TOML basic string (a newline is `\n`), so no repository
/// path or tag can hold a line that reads as `+++` or as another field.
pub fn render(note: &Note) -> String {
    let tags: Vec<String> = note
        .tags
        .iter()
        .map(|t| crate::task::toml_string(t))
        .collect();
    let mut front = format!("tags = [{}]\n", tags.join(", "));
    if let Some(repo) = &note.repo {
        front.push_str(&format!("repo = {}\n", crate::task::toml_string(repo)));
    }
    front.push_str(&format!(
        "time = {}\n",
        crate::task::toml_string(&note.time.to_string())
    ));
    format!("+++\n{front}+++\n{}\n", note.text.trim_end())
}

/// Parse a note's file text; `id` is its file name without `.md`. The front
/// matter ends at the first line that is exactly `+++`.
pub fn parse(id: &str, text: &str) -> Result<Note, String> {
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or("it does not start with a `+++` front matter line")?;
    let mut front_len = 0;
    let mut body = None;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "+++" {
            body = Some(&rest[front_len + line.len()..]);
            break;
        }
        front_len += line.len();
    }
    let body = body.ok_or("its front matter has no closing `+++` line")?;
    let front: Front = toml::from_str(&rest[..front_len]).map_err(|e| e.message().to_string())?;
    Ok(Note {
        id: id.to_string(),
        tags: front.tags,
        repo: front.repo,
        time: front.time,
        text: body.trim_end().to_string(),
    })
}

fn note_id(text: &str, time: Timestamp) -> String {
    let words: String = text
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join(" ");
    let mut slug = crate::task::slugify(&words);
    slug.truncate(40);
    let slug = slug.trim_end_matches('-');
    let stamp = time
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect::<String>();
    let random: u32 = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i128(time.as_nanos());
        h.write_u32(std::process::id());
        h.finish() as u32
    };
    let slug = if slug.is_empty() { "note" } else { slug };
    format!("{stamp}-{slug}-{random:08x}")
}

/// Check a tag: a short word (letters, digits, `-`, `_`, `.`, `/`).
fn check_tag(tag: &str) -> Result<String, MemoryError> {
    let t = tag.trim().to_lowercase();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(t)
    } else {
        Err(MemoryError::BadTag(tag.to_string()))
    }
}

/// A note id names a file in the vault, never a path: not empty, no `/`, not
/// hidden, no control character.
pub fn is_note_id(id: &str) -> bool {
    !id.is_empty() && !id.contains('/') && !id.starts_with('.') && !id.chars().any(char::is_control)
}

/// A file in the vault that is not a readable note, and why.
pub type Unreadable = (PathBuf, String);

pub struct Vault {
    pub dir: PathBuf,
}

impl Vault {
    pub fn open() -> Result<Vault, MemoryError> {
        Ok(Vault { dir: vault_dir()? })
    }

    pub fn at(dir: &Path) -> Vault {
        Vault {
            dir: dir.to_path_buf(),
        }
    }

    /// Add a note; returns it.
    pub fn add(
        &self,
        text: &str,
        tags: &[String],
        repo: Option<&Path>,
    ) -> Result<Note, MemoryError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(MemoryError::Empty);
        }
        if text.len() > 64 * 1024 {
            return Err(MemoryError::TooLong(text.len()));
        }
        if tags.len() > MAX_TAGS {
            return Err(MemoryError::TooManyTags(tags.len()));
        }
        let mut clean: Vec<String> = Vec::new();
        let mut known = std::collections::HashSet::new();
        for t in tags {
            let t = check_tag(t)?;
            if known.insert(t.clone()) {
                clean.push(t);
            }
        }
        crate::durable::ensure_dir(&self.dir).map_err(PathError::at("create", &self.dir))?;
        for _ in 0..16 {
            let time = Timestamp::now();
            let note = Note {
                id: note_id(text, time),
                tags: clean.clone(),
                repo: repo.map(|p| p.display().to_string()),
                time,
                text: text.to_string(),
            };
            let path = self.path(&note.id);
            match crate::durable::create_new(&path, render(&note).as_bytes()) {
                Ok(()) => return Ok(note),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(PathError::new("write the note", &path, e).into()),
            }
        }
        Err(MemoryError::NoFreeId {
            dir: self.dir.clone(),
        })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.md"))
    }

    /// Every note, oldest first, and the files that do not parse (with why).
    /// Agents can write the vault, so a note is read only when it is a regular
    /// file (never through a link, never a FIFO or a device, which could block
    /// or never end) of at most 256 KiB; anything else is skipped and listed.
    pub fn load(&self) -> Result<(Vec<Note>, Vec<Unreadable>), MemoryError> {
        let mut notes = Vec::new();
        let mut bad = Vec::new();
        let dir = match crate::nofollow::Dir::open_following(&self.dir) {
            Ok(dir) => dir,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((notes, bad)),
            Err(e) => return Err(PathError::new("read", &self.dir, e).into()),
        };
        let names = dir
            .names()
            .map_err(|e| PathError::new("read", &self.dir, e))?;
        for name in names {
            let path = self.dir.join(&name);
            let name = name.to_string_lossy();
            let Some(id) = name.strip_suffix(".md") else {
                continue;
            };
            if id.starts_with('.') {
                continue;
            }
            let read = dir.read(name.as_ref(), NOTE_FILE_CAP).and_then(|bytes| {
                let bytes = bytes.ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound));
                String::from_utf8(bytes?).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8")
                })
            });
            match read {
                Ok(text) => match parse(id, &text) {
                    Ok(n) => notes.push(n),
                    Err(why) => bad.push((path, why)),
                },
                // Removed since the folder was listed.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => bad.push((path, e.to_string())),
            }
        }
        notes.sort_by(|a, b| a.time.cmp(&b.time).then(a.id.cmp(&b.id)));
        Ok((notes, bad))
    }

    /// Remove a note by id.
    pub fn remove(&self, id: &str) -> Result<(), MemoryError> {
        if !is_note_id(id) {
            return Err(MemoryError::BadId(id.to_string()));
        }
        let path = self.path(id);
        match std::fs::remove_file(&path) {
            Ok(()) => crate::durable::sync_dir(&self.dir)
                .map_err(|e| PathError::new("sync", &self.dir, e).into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(MemoryError::NoSuchNote {
                id: id.to_string(),
                dir: self.dir.clone(),
            }),
            Err(e) => Err(PathError::new("remove", &path, e).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let vault = Vault::at(dir.path());
        let note = vault
            .add(
                "Run `cargo test -q`\nbefore pushing.",
                &["CI".into(), "ci".into()],
                None,
            )
            .expect("add");
        assert_eq!(note.tags, vec!["ci".to_string()]);
        let (notes, bad) = vault.load().expect("load");
        assert!(bad.is_empty());
        assert_eq!(notes, vec![note.clone()]);
        vault.remove(&note.id).expect("rm");
        assert!(vault.load().expect("load").0.is_empty());
        assert!(vault.remove("../x").is_err());
        assert!(vault.add("  ", &[], None).is_err());
        assert!(vault.add("x", &["two words".into()], None).is_err());
    }

    #[test]
    fn any_repository_path_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let vault = Vault::at(dir.path());
        let repo = Path::new("/tmp/a \"b\" 'c'\n+++\ntags = [\"x\"]\n+++\nd\\e\u{7}");
        let note = vault.add("text\n+++\nmore", &[], Some(repo)).expect("add");
        let (notes, bad) = vault.load().expect("load");
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(notes, vec![note]);
        assert_eq!(notes[0].repo.as_deref(), repo.to_str());
    }

    #[test]
    fn concurrent_writers_lose_no_note() {
        let dir = tempfile::tempdir().expect("tempdir");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    for i in 0..20 {
                        Vault::at(&path)
                            .add(&format!("same words {t} {i}"), &[], None)
                            .expect("add");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("join");
        }
        let (notes, bad) = Vault::at(dir.path()).load().expect("load");
        assert!(bad.is_empty());
        assert_eq!(notes.len(), 160);
    }
}
