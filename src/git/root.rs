//! Finding the main working tree from `.git` alone, without libgit2 or a git
//! process, for what must cost a few milliseconds (a Tab press, the hook's
//! decision that a commit has nothing for it).
use std::fs;
use std::path::{Path, PathBuf};

/// The top folder of the repository's main working tree that holds `start`,
/// read from `.git` alone: a folder means this is it; a file (a linked worktree)
/// points to its git dir, whose `commondir` leads to the main repository.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    for dir in start.ancestors() {
        let dot_git = dir.join(".git");
        match fs::symlink_metadata(&dot_git) {
            Ok(meta) if meta.is_dir() => return Some(dir.to_path_buf()),
            Ok(meta) if meta.is_file() => {
                return Some(main_root(dir, &dot_git).unwrap_or_else(|| dir.to_path_buf()))
            }
            _ => {}
        }
    }
    None
}

/// The main working tree of a linked worktree at `dir` (None for a submodule,
/// whose git dir has no `commondir`: it is its own repository).
fn main_root(dir: &Path, dot_git: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(dot_git).ok()?;
    let git_dir = dir.join(text.strip_prefix("gitdir:")?.trim());
    let common = fs::read_to_string(git_dir.join("commondir")).ok()?;
    let common = git_dir.join(common.trim()).canonicalize().ok()?;
    if common.file_name()? != ".git" {
        return None;
    }
    common.parent().map(Path::to_path_buf)
}
