//! Intake from git: the post-commit hook (installed as a one-line shim between
//! markers, beside whatever hook was there) and what it does after each commit:
//! enqueue a task per `Agentos-Task:` trailer and per matching trigger, once per
//! change, then wake (or autostart) the dispatcher. It never dispatches and never
//! fails the commit. The shim starts the entry in the background, so a commit
//! waits for nothing; each run leaves a line in `.agentos/runs/hooks.log`.
pub mod post_commit;
pub mod templates;
pub mod triggers;

use crate::git::{GitError, Repo};
use crate::path_error::PathError;
use std::path::PathBuf;

/// Why the hook cannot be installed, removed or read.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Io(#[from] PathError),
}

const START: &str = "# >>> git agentos: post-commit (managed by `git agentos hooks`) >>>";
const END: &str = "# <<< git agentos: post-commit <<<";
const SHIM: &str = include_str!("../../hooks/post-commit");

/// The hook block, with this binary's path as the fallback when `git-agentos` is
/// not on the PATH git gives hooks.
fn block() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "git-agentos".into());
    format!(
        "{START}\n{}{END}\n",
        SHIM.replace("{{exe}}", &exe.replace('\'', "'\\''"))
    )
}

/// Where the post-commit hook lives, and whether `core.hooksPath` put it there.
pub fn hook_path(repo: &Repo) -> Result<(PathBuf, bool), HookError> {
    let (dir, from_config) = repo.hooks_dir()?;
    Ok((dir.join("post-commit"), from_config))
}

/// Remove our block (if any) from a hook's text.
fn without_block(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        match line.trim_end() {
            l if l == START => inside = true,
            l if l == END => inside = false,
            _ if !inside => out.push_str(line),
            _ => {}
        }
    }
    out
}

/// Install (or refresh) the shim. An existing hook keeps every line: the block goes
/// right after its `#!` line, so an `exit` in the user's script cannot skip it.
pub fn install(repo: &Repo) -> Result<PathBuf, HookError> {
    let (path, _) = hook_path(repo)?;
    let existing = std::fs::read_to_string(&path).ok();
    let base = existing.as_deref().map(without_block).unwrap_or_default();
    let text = if base.trim().is_empty() {
        format!("#!/bin/sh\n{}", block())
    } else if base.starts_with("#!") {
        let (shebang, rest) = base.split_once('\n').unwrap_or((&base, ""));
        format!("{shebang}\n{}{rest}", block())
    } else {
        format!("#!/bin/sh\n{}{base}", block())
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(PathError::at("create", dir))?;
    }
    crate::durable::write(&path, text.as_bytes()).map_err(PathError::at("write", &path))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(PathError::at("make executable", &path))?;
    Ok(path)
}

/// Remove our lines; a hook left with nothing but its `#!` line is removed.
/// Returns the hook's path when something was removed.
pub fn uninstall(repo: &Repo) -> Result<Option<PathBuf>, HookError> {
    let (path, _) = hook_path(repo)?;
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    if !text.contains(START) {
        return Ok(None);
    }
    let rest = without_block(&text);
    let only_shebang = rest
        .lines()
        .all(|l| l.trim().is_empty() || (l.starts_with("#!") && rest.starts_with(l)));
    if only_shebang {
        std::fs::remove_file(&path).map_err(PathError::at("remove", &path))?;
    } else {
        // Keep the hook's own permissions (a hook that is not executable never runs).
        let permissions = std::fs::metadata(&path)
            .map_err(PathError::at("read", &path))?
            .permissions();
        crate::durable::write(&path, rest.as_bytes()).map_err(PathError::at("write", &path))?;
        std::fs::set_permissions(&path, permissions)
            .map_err(PathError::at("restore the permissions of", &path))?;
    }
    Ok(Some(path))
}

/// What is installed where.
pub struct HookStatus {
    pub path: PathBuf,
    pub from_hooks_path: bool,
    pub installed: bool,
    /// The hook also runs lines that are not ours.
    pub chained: bool,
    pub executable: bool,
}

pub fn status(repo: &Repo) -> Result<HookStatus, HookError> {
    let (path, from_hooks_path) = hook_path(repo)?;
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let rest = without_block(&text);
    use std::os::unix::fs::PermissionsExt;
    Ok(HookStatus {
        installed: text.contains(START),
        chained: rest
            .lines()
            .any(|l| !l.trim().is_empty() && !l.starts_with("#!")),
        executable: std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false),
        path,
        from_hooks_path,
    })
}
