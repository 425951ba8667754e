//! Installing the post-commit hook beside whatever hook a person already has.
//!
//! An executable POSIX shell script (`#!` naming sh, bash, dash…) that is a
//! regular UTF-8 file gets our lines inserted after its `#!` line, between
//! markers, and keeps its mode. Every other hook (Python, a program, a symbolic
//! link, a file that is not executable or has no `#!` line) is never edited: it
//! is renamed to `post-commit.before-agentos` in the same folder, and our own
//! hook takes its place and `exec`s it with the same arguments and stdin, so its
//! exit code is the hook's. Uninstall removes our lines, or renames the chained
//! hook back: the same bytes, mode and link as before.
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
    let exe = std::env::current_exe()
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
         if [ -x \"$hook\" ]; then exec \"$hook\" \"$@\"; fi\n",
        block()
    )
}

/// Where the post-commit hook lives, and whether `core.hooksPath` put it there.
pub fn hook_path(repo: &Repo) -> Result<(PathBuf, bool), HookError> {
    let (dir, from_config) = repo.hooks_dir()?;
    Ok((dir.join("post-commit"), from_config))
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

/// True when git may run the file: the same test git makes (`access(X_OK)`).
fn executable(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
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
}

/// Install (or refresh) the hook; see the module's text for how.
pub fn install(repo: &Repo) -> Result<(PathBuf, Installed), HookError> {
    let (path, _) = hook_path(repo)?;
    let chained = chained_path(&path);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(PathError::at("create", dir))?;
    }
    let installed = match examine(&path)? {
        Found::Script(text) | Found::EditedScript(text) => {
            let base = without_block(&text);
            let (shebang, rest) = base.split_once('\n').unwrap_or((&base, ""));
            let text = format!("{shebang}\n{}{rest}", block());
            let mode = fs::symlink_metadata(&path)
                .map_err(PathError::at("read", &path))?
                .permissions();
            crate::durable::write_with_permissions(&path, text.as_bytes(), Some(mode))
                .map_err(PathError::at("write", &path))?;
            return Ok((path, Installed::InScript));
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
    Ok((path, installed))
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

/// Remove our lines, or our hook, putting back the hook it chained.
pub fn uninstall(repo: &Repo) -> Result<Uninstalled, HookError> {
    let (path, _) = hook_path(repo)?;
    let chained = chained_path(&path);
    let chained_exists = fs::symlink_metadata(&chained).is_ok();
    match examine(&path)? {
        Found::Own if chained_exists => {
            crate::durable::rename(&chained, &path).map_err(PathError::at("move", &chained))?;
            Ok(Uninstalled::Restored(path))
        }
        Found::Own => {
            fs::remove_file(&path).map_err(PathError::at("remove", &path))?;
            Ok(Uninstalled::Removed(path))
        }
        Found::EditedScript(text) => {
            let mode = fs::symlink_metadata(&path)
                .map_err(PathError::at("read", &path))?
                .permissions();
            crate::durable::write_with_permissions(
                &path,
                without_block(&text).as_bytes(),
                Some(mode),
            )
            .map_err(PathError::at("write", &path))?;
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
    let (installed, theirs) = match examine(&path)? {
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
    let what = match fs::read(path) {
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
