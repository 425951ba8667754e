//! Installing the post-commit hook beside whatever hook a person already has.
//!
//! An executable POSIX shell script (`#!` naming sh, bash, dash…) that is a
//! regular UTF-8 file gets our lines inserted after its `#!` line, between
//! markers, and keeps its mode. Every other hook (Python, a program, a symbolic
//! link, a file that is not executable or has no `#!` line) is never edited: it
//! is renamed to `post-commit.before-agentos` in the same folder, and our own
//! hook takes its place and `exec`s it with the same arguments and stdin, so its
//! exit code is the hook's. Uninstall removes our lines, or renames the chained
//! hook back: the same bytes, mode and link as before. A script with more than
//! one name (a hard link) is rewritten in place, so it stays one file; one whose
//! block lost its closing marker is refused, never cut to the end.
//!
//! A hook manager (pre-commit, husky, lefthook) that installs itself after us
//! moves our hook aside (`post-commit.legacy`, `.old`) and runs it from its own:
//! status, install and uninstall find it there. With a relative
//! `core.hooksPath`, each worktree has its own hooks folder (git reads the path
//! from the worktree's top folder): install and uninstall act in every worktree.
use super::{HookError, START};
use crate::git::Repo;
use crate::path_error::PathError;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const END: &str = "# <<< git agentos: post-commit <<<";
const SHIM: &str = include_str!("../../hooks/post-commit");
/// The line that marks a hook file as wholly ours.
const OWN: &str = "# This file is git agentos's own: `git agentos hooks uninstall` removes it";
/// What a chained hook is renamed to, in the hooks folder.
pub const CHAINED: &str = "post-commit.before-agentos";

/// Interpreters whose scripts can take our lines as they are.
const POSIX_SHELLS: [&str; 9] = [
    "sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "posh", "yash",
];

/// The hook block, with this binary's path as the fallback when `git-agentos` is
/// not on the PATH git gives hooks.
fn block() -> String {
    let exe = crate::exe::path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "git-agentos".into());
    format!(
        "{START}\n{}{END}\n",
        SHIM.replace("{{exe}}", &exe.replace('\'', "'\\''"))
    )
}

/// Our own hook: the block, then the person's hook (if one was moved aside) run
/// in the foreground with the same arguments and stdin. Like git, it does not run
/// a hook that is not executable. Only shell built-ins run in the foreground (no
/// `dirname`), so a commit waits for no extra process.
fn own_hook() -> String {
    format!(
        "#!/bin/sh\n{}{OWN}\n# and puts back the hook it chains ({CHAINED}), if any.\n\
         case \"$0\" in */*) hook=\"${{0%/*}}/{CHAINED}\" ;; *) hook={CHAINED} ;; esac\n\
         if [ -f \"$hook\" ] && [ -x \"$hook\" ]; then exec \"$hook\" \"$@\"; fi\n",
        block()
    )
}

/// Where the post-commit hook of this worktree lives, and whether
/// `core.hooksPath` put it there.
pub fn hook_path(repo: &Repo) -> Result<(PathBuf, bool), HookError> {
    let (dir, from_config) = repo.hooks_dir()?;
    Ok((dir.join("post-commit"), from_config))
}

/// Every post-commit hook path a commit may run: this worktree's first, then
/// the other worktrees' when a relative `core.hooksPath` gives each its own.
fn hook_paths(repo: &Repo) -> Result<Vec<PathBuf>, HookError> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in repo.all_hooks_dirs()? {
        let path = dir.join("post-commit");
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    Ok(paths)
}

/// Where our hook is for `path`: at it, or moved aside beside it by a hook
/// manager (a `post-commit.<name>` file that holds our marker lines).
fn ours_at(path: &Path) -> Result<PathBuf, PathError> {
    if matches!(examine(path)?, Found::Own | Found::EditedScript(_)) {
        return Ok(path.to_path_buf());
    }
    Ok(moved_aside(path).unwrap_or_else(|| path.to_path_buf()))
}

/// A hook of ours that another tool moved aside beside `path`.
fn moved_aside(path: &Path) -> Option<PathBuf> {
    let dir = path.parent()?;
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("post-commit.") && n != CHAINED)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .find(|p| matches!(examine(p), Ok(Found::Own | Found::EditedScript(_))))
}

/// True when our block in `text` is whole: an opening marker line and, after
/// it, the closing one.
fn block_is_whole(text: &str) -> bool {
    let mut lines = text.lines().map(str::trim_end);
    lines.any(|l| l == START) && lines.any(|l| l == END)
}

/// Refuse a script whose block lost its closing marker: where our lines end
/// cannot be told, and cutting to the end would take the person's lines.
fn check_block(path: &Path, text: &str) -> Result<(), HookError> {
    if block_is_whole(text) {
        return Ok(());
    }
    Err(HookError::BrokenBlock {
        hook: path.to_path_buf(),
    })
}

/// Write a person's script: in place when it has more than one name (a hard
/// link to a script shared by several repositories stays that one file),
/// otherwise whole by a rename; its mode kept either way.
fn write_script(path: &Path, text: &str) -> Result<(), PathError> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).map_err(PathError::at("read", path))?;
    if meta.nlink() > 1 {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(PathError::at("write", path))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(PathError::at("write", path))?;
        return Ok(());
    }
    crate::durable::write_with_permissions(path, text.as_bytes(), Some(meta.permissions()))
        .map_err(PathError::at("write", path))
}

/// The chained hook's path beside `hook`.
fn chained_path(hook: &Path) -> PathBuf {
    hook.with_file_name(CHAINED)
}

/// What is at the hook's path.
enum Found {
    Nothing,
    /// Our own hook (chaining the person's, if it was moved aside).
    Own,
    /// A shell script with our lines in it.
    EditedScript(String),
    /// A shell script we may add our lines to.
    Script(String),
    /// Anything else: chain it.
    Other,
}

fn examine(path: &Path) -> Result<Found, PathError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(PathError::new("read", path, e)),
    };
    if !meta.file_type().is_file() {
        return Ok(Found::Other);
    }
    let bytes = fs::read(path).map_err(PathError::at("read", path))?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(Found::Other);
    };
    if text.lines().any(|l| l == OWN) {
        return Ok(Found::Own);
    }
    if text.lines().any(|l| l == START) {
        return Ok(Found::EditedScript(text));
    }
    let shell = interpreter(text.as_bytes()).is_some_and(|i| POSIX_SHELLS.contains(&i.as_str()));
    if shell && text.contains('\n') && executable(path) {
        return Ok(Found::Script(text));
    }
    Ok(Found::Other)
}

/// True when git may run the file: a file (through a link) that passes the
/// test git makes (`access(X_OK)`); a folder is never run.
fn executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file())
        && nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
}

/// The interpreter a `#!` line names (its file name; through `env`, the program
/// `env` starts).
fn interpreter(bytes: &[u8]) -> Option<String> {
    let line = bytes.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let program = words.next()?;
    let name = program.rsplit('/').next().unwrap_or(program);
    if name == "env" {
        return words
            .find(|w| !w.starts_with('-') && !w.contains('='))
            .map(str::to_string);
    }
    Some(name.to_string())
}

/// Remove our block from a hook's text.
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

/// How the hook was installed.
pub enum Installed {
    /// Our own hook, where there was none.
    Own,
    /// Our own hook; the person's was moved aside to this path and runs after ours.
    Chaining(PathBuf),
    /// Our lines, added to the person's shell script.
    InScript,
    /// Ours (a hook, or lines in a script), moved to this path by a hook
    /// manager, whose own hook may run it.
    MovedAside(PathBuf),
}

/// Install (or refresh) the hook; see the module's text for how. Returns what
/// was done in this worktree.
pub fn install(repo: &Repo) -> Result<(PathBuf, Installed), HookError> {
    let mut done = None;
    for path in hook_paths(repo)? {
        let at = ours_at(&path)?;
        let installed = install_at(&at)?;
        let installed = if at == path {
            installed
        } else {
            Installed::MovedAside(at.clone())
        };
        done.get_or_insert((path, installed));
    }
    done.ok_or_else(|| {
        HookError::Io(PathError::new(
            "find",
            Path::new("post-commit"),
            std::io::ErrorKind::NotFound.into(),
        ))
    })
}

fn install_at(path: &Path) -> Result<Installed, HookError> {
    let path = path.to_path_buf();
    let chained = chained_path(&path);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(PathError::at("create", dir))?;
    }
    let installed = match examine(&path)? {
        Found::Script(text) | Found::EditedScript(text) => {
            if text.lines().any(|l| l.trim_end() == START) {
                check_block(&path, &text)?;
            }
            let base = without_block(&text);
            let (shebang, rest) = base.split_once('\n').unwrap_or((&base, ""));
            write_script(&path, &format!("{shebang}\n{}{rest}", block()))?;
            return Ok(Installed::InScript);
        }
        Found::Own => Installed::Own,
        Found::Nothing => Installed::Own,
        Found::Other => {
            if fs::symlink_metadata(&chained).is_ok() {
                return Err(HookError::ChainTaken {
                    hook: path,
                    chained,
                });
            }
            crate::durable::rename(&path, &chained).map_err(PathError::at("move", &path))?;
            Installed::Own
        }
    };
    let written = crate::durable::write_with_permissions(
        &path,
        own_hook().as_bytes(),
        Some(fs::Permissions::from_mode(0o755)),
    );
    if let Err(e) = written {
        // Never leave the person without their hook.
        if fs::symlink_metadata(&path).is_err() && fs::symlink_metadata(&chained).is_ok() {
            let _ = crate::durable::rename(&chained, &path);
        }
        return Err(PathError::new("write", &path, e).into());
    }
    let installed = match installed {
        Installed::Own if fs::symlink_metadata(&chained).is_ok() => Installed::Chaining(chained),
        other => other,
    };
    Ok(installed)
}

/// What uninstall did.
pub enum Uninstalled {
    /// Our hook is gone; there was nothing before it.
    Removed(PathBuf),
    /// The person's hook is back where it was.
    Restored(PathBuf),
    /// Our lines are gone from the person's shell script.
    Unedited(PathBuf),
    /// Nothing of ours was installed; a hook we once moved aside may be left.
    NotInstalled { stray: Option<PathBuf> },
}

/// Remove our lines, or our hook, putting back the hook it chained, from
/// every worktree's hook (and from where a hook manager moved it). Returns what
/// was done in this worktree.
pub fn uninstall(repo: &Repo) -> Result<Uninstalled, HookError> {
    let mut done = None;
    for path in hook_paths(repo)? {
        let at = ours_at(&path)?;
        let undone = uninstall_at(&at)?;
        done.get_or_insert(undone);
    }
    Ok(done.unwrap_or(Uninstalled::NotInstalled { stray: None }))
}

fn uninstall_at(path: &Path) -> Result<Uninstalled, HookError> {
    let path = path.to_path_buf();
    let chained = chained_path(&path);
    let chained_meta = fs::symlink_metadata(&chained).ok();
    let chained_exists = chained_meta.is_some();
    match examine(&path)? {
        Found::Own if chained_meta.as_ref().is_some_and(|m| m.is_dir()) => {
            // A folder cannot be renamed over our file: ours goes first.
            fs::remove_file(&path).map_err(PathError::at("remove", &path))?;
            crate::durable::rename(&chained, &path).map_err(PathError::at("move", &chained))?;
            Ok(Uninstalled::Restored(path))
        }
        Found::Own if chained_exists => {
            crate::durable::rename(&chained, &path).map_err(PathError::at("move", &chained))?;
            Ok(Uninstalled::Restored(path))
        }
        Found::Own => {
            fs::remove_file(&path).map_err(PathError::at("remove", &path))?;
            Ok(Uninstalled::Removed(path))
        }
        Found::EditedScript(text) => {
            check_block(&path, &text)?;
            write_script(&path, &without_block(&text))?;
            Ok(Uninstalled::Unedited(path))
        }
        Found::Nothing | Found::Script(_) | Found::Other => Ok(Uninstalled::NotInstalled {
            stray: chained_exists.then_some(chained),
        }),
    }
}

/// A hook of the person's, described.
pub struct TheirHook {
    pub path: PathBuf,
    /// "a python3 script", "a link to ../x.sh, a sh script", "a program"…
    pub kind: String,
    pub executable: bool,
}

/// What is installed where, and what will run after a commit.
pub struct HookStatus {
    pub path: PathBuf,
    pub from_hooks_path: bool,
    /// None when not installed.
    pub installed: Option<Installed>,
    /// git runs the hook file (it is executable).
    pub executable: bool,
    /// The person's hook: chained by ours, or there alone when ours is not installed.
    pub theirs: Option<TheirHook>,
}

pub fn status(repo: &Repo) -> Result<HookStatus, HookError> {
    let (path, from_hooks_path) = hook_path(repo)?;
    let chained = chained_path(&path);
    let exists = fs::symlink_metadata(&path).is_ok();
    let found = examine(&path)?;
    if matches!(found, Found::Nothing | Found::Script(_) | Found::Other) {
        if let Some(aside) = moved_aside(&path) {
            return Ok(HookStatus {
                executable: exists && executable(&path),
                theirs: exists.then(|| describe(&path)),
                installed: Some(Installed::MovedAside(aside)),
                path,
                from_hooks_path,
            });
        }
    }
    let (installed, theirs) = match found {
        Found::Own if fs::symlink_metadata(&chained).is_ok() => (
            Some(Installed::Chaining(chained.clone())),
            Some(describe(&chained)),
        ),
        Found::Own => (Some(Installed::Own), None),
        Found::EditedScript(_) => (Some(Installed::InScript), None),
        Found::Nothing => (None, None),
        Found::Script(_) | Found::Other => (None, Some(describe(&path))),
    };
    Ok(HookStatus {
        executable: exists && executable(&path),
        path,
        from_hooks_path,
        installed,
        theirs,
    })
}

/// Say what a hook file is, following a link.
fn describe(path: &Path) -> TheirHook {
    let link = fs::read_link(path).ok();
    let folder = fs::metadata(path).is_ok_and(|m| m.is_dir());
    let what = match fs::read(path) {
        _ if folder => "a folder, which git cannot run".to_string(),
        Err(_) if link.is_some() => "which does not exist".to_string(),
        Err(e) => format!("unreadable ({e})"),
        Ok(bytes) => match interpreter(&bytes) {
            Some(i) => format!("a {i} script"),
            None if bytes.contains(&0) || std::str::from_utf8(&bytes).is_err() => {
                "a program".to_string()
            }
            None => "a script without a `#!` line (git runs it with /bin/sh)".to_string(),
        },
    };
    TheirHook {
        kind: match link {
            Some(target) => format!("a link to {}, {what}", target.display()),
            None => what,
        },
        executable: executable(path),
        path: path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreters_are_read_from_the_shebang() {
        assert_eq!(interpreter(b"#!/bin/sh\n").as_deref(), Some("sh"));
        assert_eq!(
            interpreter(b"#! /usr/bin/env -S python3 -u\n").as_deref(),
            Some("python3")
        );
        assert_eq!(
            interpreter(b"#!/usr/bin/env LANG=C bash\n").as_deref(),
            Some("bash")
        );
        assert_eq!(interpreter(b"echo hi\n"), None);
    }

    #[test]
    fn the_block_comes_out_exactly() {
        let text = "#!/bin/sh\necho one\n";
        let (shebang, rest) = text.split_once('\n').unwrap_or((text, ""));
        let edited = format!("{shebang}\n{}{rest}", block());
        assert_eq!(without_block(&edited), text);
    }
}
