//! The modes guard: Landlock leaves `chmod` and `chown` alone (no ABI handles
//! them, and seccomp sees only a call's number and registers, never the path it
//! names, so it could refuse every `chmod` or none), so a sandboxed command can
//! make a hook not executable (git then skips it: a secret scanner gone) or a
//! startup file writable by everyone. The modes, owners and groups of what
//! matters most are read before each step in which commands run (the agent, the
//! verify commands) and after it; a change fails the task (friction `escape`)
//! and is put back.
//!
//! Watched: the main checkout's top folder, every file git tracks there and the
//! folders holding them; the repository's git folder, each entry directly in it
//! and every hook (also under `core.hooksPath`); the home folder, each entry
//! directly in it whose name starts with `.`, and each entry of `~/.ssh`. A path
//! whose file was replaced meanwhile (another inode: an editor saving by a
//! rename, a `git commit` writing its index) is not judged; links are never
//! followed.
use super::StepOutcome;
use crate::git::Repo;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What is compared: the file (device, inode), its mode, owner and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    mode: u32,
    uid: u32,
    gid: u32,
}

impl Stamp {
    /// Of `path` itself (a link is not followed: it has no mode of its own).
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        (!meta.file_type().is_symlink()).then(|| Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        })
    }
}

/// The stamps read before a step.
pub(super) struct ModesSnapshot(Vec<(PathBuf, Stamp)>);

/// The paths watched, found once per step.
pub(super) struct ModesGuard {
    paths: Vec<PathBuf>,
    root: PathBuf,
    home: Option<PathBuf>,
}

impl ModesGuard {
    pub(super) fn new(repo: &Repo) -> ModesGuard {
        let real = |p: PathBuf| p.canonicalize().unwrap_or(p);
        let root = repo.root().to_path_buf();
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| real(PathBuf::from(h)));
        let mut paths = vec![root.clone()];
        for file in repo.tracked_files() {
            paths.extend(
                file.ancestors()
                    .take_while(|a| *a != root)
                    .map(Path::to_path_buf),
            );
        }
        let git_dir = real(repo.common_dir());
        paths.push(git_dir.clone());
        paths.extend(entries(&git_dir));
        if let Ok((hooks, _)) = repo.hooks_dir() {
            let hooks = real(hooks);
            paths.push(hooks.clone());
            paths.extend(entries(&hooks));
        }
        if let Some(home) = &home {
            paths.push(home.clone());
            paths.extend(entries(home).into_iter().filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.as_encoded_bytes().first() == Some(&b'.'))
            }));
            paths.extend(entries(&home.join(".ssh")));
        }
        paths.sort();
        paths.dedup();
        ModesGuard { paths, root, home }
    }

    /// Read the watched paths now.
    pub(super) fn snapshot(&self) -> ModesSnapshot {
        ModesSnapshot(
            self.paths
                .iter()
                .filter_map(|p| Stamp::of(p).map(|s| (p.clone(), s)))
                .collect(),
        )
    }

    /// The guard's verdict after a step that `who` ran: the task's failure when
    /// a watched file's mode, owner or group changed since `before`, each put
    /// back (or said to be not).
    pub(super) fn changed_since(&self, before: ModesSnapshot, who: &str) -> Option<StepOutcome> {
        let mut changes = Vec::new();
        for (path, was) in before.0 {
            let Some(now) = Stamp::of(&path) else {
                continue;
            };
            if (now.dev, now.ino) != (was.dev, was.ino) || now == was {
                continue;
            }
            let mut what = Vec::new();
            if now.mode != was.mode {
                what.push(format!("mode {:04o} → {:04o}", was.mode, now.mode));
            }
            if (now.uid, now.gid) != (was.uid, was.gid) {
                what.push(format!(
                    "owner {}:{} → {}:{}",
                    was.uid, was.gid, now.uid, now.gid
                ));
            }
            let back = match restore(&path, &was) {
                Ok(()) => "put back".to_string(),
                Err(e) => format!("NOT put back: {e}"),
            };
            changes.push(format!(
                "`{}` {} ({back})",
                self.shown(&path),
                what.join(", ")
            ));
        }
        (!changes.is_empty()).then(|| {
            StepOutcome::Failed(format!(
                "{who} changed the permissions of files outside its worktree, which the sandbox \
                 cannot refuse: {}; see the README's Sandbox section",
                changes.join("; ")
            ))
        })
    }

    /// `path` as a person knows it: from the repository's top or from `~`.
    fn shown(&self, path: &Path) -> String {
        if let Ok(rel) = path.strip_prefix(&self.root) {
            return if rel.as_os_str().is_empty() {
                path.display().to_string()
            } else {
                rel.display().to_string()
            };
        }
        match self.home.as_deref().map(|h| path.strip_prefix(h)) {
            Some(Ok(rel)) if rel.as_os_str().is_empty() => "~".into(),
            Some(Ok(rel)) => format!("~/{}", rel.display()),
            _ => path.display().to_string(),
        }
    }
}

/// The entries directly in `dir` (none when it cannot be read).
fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Put `was`'s mode, owner and group back on the file `path` still names,
/// through a descriptor opened without following a link (a path that became a
/// link, or another file, is left alone).
fn restore(path: &Path, was: &Stamp) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path);
    let same = |meta: &std::fs::Metadata| (meta.dev(), meta.ino()) == (was.dev, was.ino);
    let permissions = std::fs::Permissions::from_mode(was.mode);
    match file {
        Ok(file) => {
            if !same(&file.metadata()?) {
                return Err(std::io::Error::other("it was replaced meanwhile"));
            }
            std::os::unix::fs::fchown(&file, Some(was.uid), Some(was.gid))?;
            file.set_permissions(permissions)
        }
        // Unreadable now (mode 000 for its owner): by path, once it is checked.
        Err(_) => {
            let meta = std::fs::symlink_metadata(path)?;
            if meta.file_type().is_symlink() || !same(&meta) {
                return Err(std::io::Error::other("it was replaced meanwhile"));
            }
            std::os::unix::fs::lchown(path, Some(was.uid), Some(was.gid))?;
            std::fs::set_permissions(path, permissions)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_changed_mode_fails_and_is_put_back_and_a_replaced_file_is_not_judged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hook = dir.path().join("pre-commit");
        let edited = dir.path().join("edited");
        std::fs::write(&hook, "#!/bin/sh\n").expect("write");
        std::fs::write(&edited, "a").expect("write");
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let guard = ModesGuard {
            paths: vec![hook.clone(), edited.clone()],
            root: dir.path().to_path_buf(),
            home: None,
        };
        assert!(guard.changed_since(guard.snapshot(), "x").is_none());
        let before = guard.snapshot();
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o000)).expect("chmod");
        // Saved by an editor: a new file renamed into its place, another mode.
        let saved = dir.path().join("edited.new");
        std::fs::write(&saved, "b").expect("write");
        std::fs::set_permissions(&saved, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::fs::rename(&saved, &edited).expect("rename");
        let Some(StepOutcome::Failed(reason)) = guard.changed_since(before, "the agent") else {
            panic!("a changed mode passed");
        };
        assert!(
            reason.starts_with("the agent changed the permissions")
                && reason.contains("`pre-commit` mode 0755 → 0000 (put back)")
                && !reason.contains("edited"),
            "{reason}"
        );
        let mode = std::fs::metadata(&hook).expect("meta").mode() & 0o7777;
        assert_eq!(mode, 0o755);
    }
}
