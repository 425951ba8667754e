//! Whether a commit can have anything for the hook to do, decided in a few
//! milliseconds before any heavy work (before libgit2 opens the repository):
//! the main working tree found from `.git` alone, `.agentos/triggers/` listed,
//! and, only when no trigger is there, the commit's message read with one
//! `git cat-file` for an `Agentos-` trailer. The shim makes the same decision
//! in sh for a plain repository; this one covers what the shim passes on (a
//! linked worktree, a hook manager that runs our block its own way).
use std::path::Path;

/// True when the commit `commit` (HEAD's when None) in the repository holding
/// `dir` certainly asks nothing of the hook: no `.agentos/` at all, or no
/// trigger file and no line starting `Agentos-` in its message (and not made
/// in a task's worktree, whose commits are remembered as its output). False
/// whenever that cannot be told cheaply (the full intake then decides).
pub fn nothing_to_do(dir: &Path, commit: Option<&str>) -> bool {
    let Some(root) = crate::git::find_root(dir) else {
        return false;
    };
    let state = root.join(".agentos");
    if !state.is_dir() {
        return true;
    }
    // A commit in a task's worktree is remembered as the task's output.
    let here = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if here.starts_with(state.join("worktrees")) {
        return false;
    }
    let triggers = std::fs::read_dir(state.join("triggers"));
    let any_trigger = triggers.is_ok_and(|mut entries| {
        entries
            .any(|e| e.is_ok_and(|e| e.file_name().to_str().is_some_and(|n| n.ends_with(".toml"))))
    });
    if any_trigger {
        return false;
    }
    let commit = commit.unwrap_or("HEAD");
    if commit.starts_with('-') {
        return false;
    }
    let Ok(text) = crate::git::run::git_bytes(dir, &["cat-file", "commit", commit], None) else {
        return false;
    };
    let asks = text
        .split(|b| *b == b'\n')
        .any(|line| line.len() >= 8 && line[..8].eq_ignore_ascii_case(b"agentos-"));
    !asks
}
