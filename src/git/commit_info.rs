//! HEAD's commit as the post-commit hook reads it: its message decoded by its
//! `encoding` header, trailers unfolded as `git interpret-trailers` does, the
//! changed files as bytes (a name need not be UTF-8), and the change's patch id
//! (`git patch-id --stable`), which an amend, a rebase or a cherry-pick keeps.
use super::error::library;
use super::{GitError, Repo};
use std::path::Path;

/// HEAD's commit, as the post-commit hook needs it.
#[derive(Debug, Clone, Default)]
pub struct CommitInfo {
    pub sha: String,
    pub subject: String,
    pub trailers: Vec<(String, String)>,
    /// Paths the commit changed (both sides of renames).
    pub files: Vec<ChangedFile>,
    pub branch: Option<String>,
    /// The author's email and time: what names an empty change.
    pub author: String,
    /// What could not be read as it is (an unknown encoding, bytes that are not
    /// valid in it), said so that nothing is dropped silently.
    pub unreadable: Vec<String>,
}

/// A changed path: its bytes, and how it is shown (UTF-8, or with `\xNN` for
/// each byte that is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub raw: Vec<u8>,
    pub shown: String,
}

impl ChangedFile {
    pub fn new(raw: &[u8]) -> ChangedFile {
        ChangedFile {
            raw: raw.to_vec(),
            shown: escape_bytes(raw),
        }
    }

    pub fn path(&self) -> &Path {
        use std::os::unix::ffi::OsStrExt;
        Path::new(std::ffi::OsStr::from_bytes(&self.raw))
    }

    pub fn is_utf8(&self) -> bool {
        std::str::from_utf8(&self.raw).is_ok()
    }
}

/// Bytes as text: valid UTF-8 as it is, every other byte as `\xNN`.
fn escape_bytes(mut bytes: &[u8]) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                out.push_str(text);
                return out;
            }
            Err(e) => {
                let (good, bad) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let n = e.error_len().unwrap_or(bad.len()).max(1);
                for b in &bad[..n] {
                    out.push_str(&format!("\\x{b:02X}"));
                }
                bytes = &bad[n..];
            }
        }
    }
}

/// A commit message decoded by the encoding its commit names (UTF-8 when none),
/// and what could not be decoded.
fn decode(bytes: &[u8], encoding: Option<&str>) -> (String, Option<String>) {
    let label = encoding.unwrap_or("UTF-8");
    match encoding_rs::Encoding::for_label(label.as_bytes()) {
        Some(enc) => {
            let (text, had_errors) = enc.decode_without_bom_handling(bytes);
            let note = had_errors.then(|| {
                format!("its message is not valid {label}: unreadable bytes shown as U+FFFD")
            });
            (text.into_owned(), note)
        }
        None => (
            String::from_utf8_lossy(bytes).into_owned(),
            Some(format!(
                "its message names the encoding `{label}`, which git agentos cannot read: read as UTF-8"
            )),
        ),
    }
}

/// A trailer value with its continuation lines joined, as git unfolds them.
fn unfold(value: &str) -> String {
    value
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// git's subject: the first paragraph, its lines joined by spaces.
fn subject(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Repo {
    /// A commit as the post-commit hook sees it: `sha`, the commit that fired
    /// the hook (HEAD may have moved on since: a rebase, a script committing in
    /// a row), or HEAD's when None. Its branch is HEAD's when HEAD is on a
    /// branch that contains the commit.
    pub fn commit_info(&self, sha: Option<&str>) -> Result<CommitInfo, GitError> {
        let head = self.repo.head().map_err(|e| library("read HEAD", &e))?;
        let head_commit = head
            .peel_to_commit()
            .map_err(|e| library("read HEAD's commit", &e))?;
        let commit = match sha {
            None => head_commit.clone(),
            Some(sha) => git2::Oid::from_str(sha)
                .and_then(|oid| self.repo.find_commit(oid))
                .map_err(|e| library(&format!("read commit {sha}"), &e))?,
        };
        let on_branch = commit.id() == head_commit.id()
            || self
                .repo
                .graph_descendant_of(head_commit.id(), commit.id())
                .unwrap_or(false);
        let branch = (head.is_branch() && on_branch)
            .then(|| head.shorthand().ok().map(str::to_string))
            .flatten();
        let tree = commit.tree().map_err(|e| library("read HEAD's tree", &e))?;
        let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let diff = self
            .repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
            .map_err(|e| library("diff HEAD with its parent", &e))?;
        let mut files: Vec<ChangedFile> = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(raw) = file.path_bytes() {
                    if !files.iter().any(|f| f.raw == raw) {
                        files.push(ChangedFile::new(raw));
                    }
                }
            }
        }
        let encoding = commit.message_encoding().ok().flatten();
        let (message, note) = decode(commit.message_bytes(), encoding);
        let trailers = git2::message_trailers_strs(&message)
            .map(|t| t.iter().map(|(k, v)| (k.to_string(), unfold(v))).collect())
            .unwrap_or_default();
        let author = commit.author();
        Ok(CommitInfo {
            sha: commit.id().to_string(),
            subject: subject(&message),
            trailers,
            files,
            branch,
            author: format!(
                "{} {}",
                String::from_utf8_lossy(author.email_bytes()),
                author.when().seconds()
            ),
            unreadable: note.into_iter().collect(),
        })
    }

    /// The patch id of a commit's change (`git patch-id --stable` of its diff
    /// against its first parent); None for a commit that changes nothing.
    pub fn patch_id(&self, sha: &str) -> Result<Option<String>, GitError> {
        let diff = super::run::git_bytes(
            &self.root,
            &[
                "diff-tree",
                "-p",
                "--root",
                "-m",
                "--first-parent",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                sha,
            ],
            None,
        )?;
        if diff.is_empty() {
            return Ok(None);
        }
        let out = super::run::git_bytes(&self.root, &["patch-id", "--stable"], Some(&diff))?;
        Ok(String::from_utf8_lossy(&out)
            .split_whitespace()
            .next()
            .map(str::to_string))
    }

    /// The top folder of the working tree this repository was found from (a
    /// linked worktree's own folder, not the main one's).
    pub fn work_dir(&self) -> Option<&Path> {
        self.repo.workdir()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_decode_by_their_encoding() {
        let (text, note) = decode(b"Caf\xe9", Some("latin1"));
        assert_eq!((text.as_str(), note), ("Café", None));
        let (text, note) = decode(b"Caf\xe9", None);
        assert_eq!(text, "Caf\u{fffd}");
        assert!(note.is_some_and(|n| n.contains("not valid UTF-8")));
        let (_, note) = decode(b"x", Some("klingon"));
        assert!(note.is_some_and(|n| n.contains("`klingon`")));
    }

    #[test]
    fn trailers_unfold_and_names_escape() {
        assert_eq!(
            unfold("Document the\n  long feature"),
            "Document the long feature"
        );
        assert_eq!(escape_bytes(b"caf\xe9.csv"), "caf\\xE9.csv");
        assert_eq!(escape_bytes("é".as_bytes()), "é");
        assert_eq!(subject("\nOne\ntwo\n\nbody"), "One two");
    }
}
