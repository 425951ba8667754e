//! The worktree's entries as the dispatcher finds them before git reads any of
//! them: walked with lstat only (nothing opened, no link followed), so a FIFO,
//! socket or device the agent left (even as `.gitignore`) is refused by name
//! instead of blocking git's open() for ever, and files too large to commit or
//! diff are found by their size before anything reads them.
use super::GitError;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// The largest file a task may add or change (GitHub refuses larger ones on
/// push); larger contents are never loaded, and the task fails naming it.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// Walk `root` (its own `.git` is not looked into; a nested one is): the first
/// entry that is not a file, folder or link is an error; the regular files
/// over [`MAX_FILE_BYTES`] are returned (relative to `root`, with their size).
pub(super) fn walk(root: &Path) -> Result<Vec<(PathBuf, u64)>, GitError> {
    walk_with(root, true)
}

/// [`walk`] without the sizes: only that every entry is a file, folder or link,
/// from the kinds the folder listings give (no stat of each file; what git then
/// reads is bounded where it is read).
pub(super) fn check_kinds(root: &Path) -> Result<(), GitError> {
    walk_with(root, false).map(drop)
}

fn walk_with(root: &Path, sizes: bool) -> Result<Vec<(PathBuf, u64)>, GitError> {
    let mut big = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| crate::path_error::PathError::new("read", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| crate::path_error::PathError::new("read", &dir, e))?;
            // The worktree's own `.git` (a file naming its git folder) is the
            // dispatcher's; a `.git` further down (a nested repository the agent
            // made) is walked like the rest: git and libgit2 open its files.
            if dir == root && entry.file_name() == ".git" {
                continue;
            }
            let path = entry.path();
            // The listing's own kind (an lstat only where the file system gives
            // none): a link is never followed.
            let kind = entry
                .file_type()
                .map_err(|e| crate::path_error::PathError::new("lstat", &path, e))?;
            let rel = || path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            if kind.is_dir() {
                stack.push(path.clone());
            } else if kind.is_file() {
                if sizes {
                    // A stat relative to the open folder, not following links.
                    let len = entry
                        .metadata()
                        .map_err(|e| crate::path_error::PathError::new("lstat", &path, e))?
                        .len();
                    if len > MAX_FILE_BYTES {
                        big.push((rel(), len));
                    }
                }
            } else if !kind.is_symlink() {
                let what = if kind.is_fifo() {
                    "a FIFO (named pipe)"
                } else if kind.is_socket() {
                    "a socket"
                } else if kind.is_block_device() || kind.is_char_device() {
                    "a device file"
                } else {
                    "a special file"
                };
                return Err(GitError::SpecialFile { path: rel(), what });
            }
        }
    }
    big.sort();
    Ok(big)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_named_without_being_opened_and_big_files_are_found_by_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("docs")).expect("mkdir");
        std::fs::write(dir.path().join("docs/a.md"), "a\n").expect("write");
        let big = std::fs::File::create(dir.path().join("big.bin")).expect("create");
        big.set_len(MAX_FILE_BYTES + 1).expect("sparse");
        assert_eq!(
            walk(dir.path()).expect("walk"),
            vec![(PathBuf::from("big.bin"), MAX_FILE_BYTES + 1)]
        );
        nix::unistd::mkfifo(
            &dir.path().join("docs/.gitignore"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .expect("mkfifo");
        let err = walk(dir.path()).expect_err("a FIFO");
        assert!(err.to_string().contains("docs/.gitignore"), "{err}");
        assert!(err.to_string().contains("FIFO"), "{err}");
        let err = check_kinds(dir.path()).expect_err("a FIFO, without sizes");
        assert!(err.to_string().contains("docs/.gitignore"), "{err}");
        std::fs::remove_file(dir.path().join("docs/.gitignore")).expect("rm");
        // In a nested repository's git folder too (libgit2 opens its config).
        std::fs::create_dir_all(dir.path().join("sub/.git")).expect("mkdir");
        nix::unistd::mkfifo(
            &dir.path().join("sub/.git/config"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .expect("mkfifo");
        let err = check_kinds(dir.path()).expect_err("a FIFO in a nested .git");
        assert!(err.to_string().contains("sub/.git/config"), "{err}");
    }
}
