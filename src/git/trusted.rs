//! A task's worktree as the main repository knows it. Its git folder (the
//! "admin" folder, `<git dir>/worktrees/<name>`) is found from git's own records,
//! never from the worktree's `.git` file, which the agent can rewrite: pointed at
//! the main repository it would have the dispatcher commit on the person's
//! branch, pointed at a git folder the agent made it would run that folder's
//! fsmonitor and hooks outside any sandbox. Before the dispatcher uses a
//! worktree it checks that the `.git` file still names its own git folder, that
//! the folder's settings (`config.worktree`) hold nothing that runs a command,
//! that it holds no FIFO, socket or device, and that HEAD is still the task
//! branch; the git CLI then runs with a git folder, work tree and common folder
//! of the dispatcher's choosing, hooks and fsmonitor off.
use super::error::library;
use super::run::git_with;
use super::{task_branch, utf8, GitError, Repo};
use crate::path_error::PathError;
use std::path::{Path, PathBuf};

/// A worktree of this repository, with the git folder git recorded for it.
#[derive(Debug, Clone)]
pub struct TaskWorktree {
    /// The working folder (`.agentos/worktrees/<id>`, or a pool slot).
    pub path: PathBuf,
    /// Its git folder, from the main repository's records.
    pub admin: PathBuf,
}

/// The settings a worktree's own `config.worktree` may hold: those `git
/// sparse-checkout` writes there. Anything else is not the dispatcher's, and
/// some of it (a filter, an fsmonitor, hooksPath…) would run a command.
const WORKTREE_SETTINGS: [&str; 2] = ["core.sparsecheckout", "core.sparsecheckoutcone"];

/// `-c` settings for every git command run on a task's worktree: nothing from
/// the worktree's side may start a process (no hooks, no fsmonitor, no descent
/// into a nested repository whose settings the agent wrote).
pub(super) const HARDENED: [&str; 6] = [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "submodule.recurse=false",
];

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The worktree of `listed` at `path` (a real folder): the record whose path
/// resolves to the same folder. Only records of the same name are resolved
/// (`path` is no link, so its record's path ends in its name), which keeps the
/// lookup cheap beside many worktrees.
pub(super) fn find_listed(listed: &[TaskWorktree], path: &Path) -> Option<TaskWorktree> {
    let want = canonical(path);
    listed
        .iter()
        .filter(|wt| wt.path.file_name() == path.file_name())
        .find(|wt| canonical(&wt.path) == want)
        .map(|wt| TaskWorktree {
            path: path.to_path_buf(),
            admin: wt.admin.clone(),
        })
}

impl Repo {
    /// The folder of git's worktree records, `<git dir>/worktrees`, when it is
    /// a real folder (its path computed from the main repository, never read
    /// from a record).
    pub(super) fn records_dir(&self) -> Result<Option<PathBuf>, GitError> {
        let records = self.main()?.path().join("worktrees");
        let real = std::fs::symlink_metadata(&records).is_ok_and(|m| m.is_dir());
        Ok(real.then_some(records))
    }

    /// Every record under `<git dir>/worktrees/` that is a real folder, with the
    /// working folder its `gitdir` file names (None when that file is missing,
    /// unreadable or a link). Read by hand, as git itself does: libgit2's lookup
    /// also follows the record's `commondir`, which is not ours to follow.
    pub(super) fn worktree_records(&self) -> Result<Vec<(PathBuf, Option<PathBuf>)>, GitError> {
        let Some(records) = self.records_dir()? else {
            return Ok(Vec::new());
        };
        let entries =
            std::fs::read_dir(&records).map_err(|e| PathError::new("read", &records, e))?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            // The entry's own type: a link named like a record is never one.
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let admin = entry.path();
            let path = read_small(&admin.join("gitdir")).and_then(|text| {
                let named = Path::new(text.trim());
                let gitfile = if named.is_absolute() {
                    named.to_path_buf()
                } else {
                    admin.join(named)
                };
                gitfile.parent().map(Path::to_path_buf)
            });
            out.push((admin, path));
        }
        out.sort();
        Ok(out)
    }

    /// The worktrees git records for this repository: (git folder, working folder).
    pub(super) fn listed_worktrees(&self) -> Result<Vec<TaskWorktree>, GitError> {
        Ok(self
            .worktree_records()?
            .into_iter()
            .filter_map(|(admin, path)| Some(TaskWorktree { path: path?, admin }))
            .collect())
    }

    /// The worktree git lists at `path` (a real folder, not a link), if any.
    pub(super) fn listed_at(&self, path: &Path) -> Result<Option<TaskWorktree>, GitError> {
        let is_folder = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
        if !is_folder {
            return Ok(None);
        }
        Ok(find_listed(&self.listed_worktrees()?, path))
    }

    /// The worktree at `path`, checked: listed by git, its `.git` file naming
    /// its own git folder, and nothing in that folder's settings that runs a
    /// command. Its HEAD may be anything (a pool slot is detached).
    pub(super) fn checked_worktree(&self, path: &Path) -> Result<TaskWorktree, GitError> {
        let wt = self.listed_at(path)?.ok_or_else(|| GitError::NotListed {
            path: path.to_path_buf(),
        })?;
        check_git_file(&wt)?;
        check_common_dir(&wt, self.main()?.path())?;
        check_settings(&wt.admin)?;
        check_admin_kinds(&wt.admin)?;
        Ok(wt)
    }

    /// The task's worktree, checked (see [`Repo::checked_worktree`]) and still on
    /// the task branch: what the dispatcher requires before it commits, diffs,
    /// verifies or recycles it.
    pub fn task_worktree(&self, id: &str, path: &Path) -> Result<TaskWorktree, GitError> {
        let wt = self.checked_worktree(path)?;
        let branch = task_branch(id);
        let head = read_small(&wt.admin.join("HEAD")).unwrap_or_default();
        let head = head.trim();
        match head.strip_prefix("ref: refs/heads/") {
            Some(on) if on == branch => Ok(wt),
            Some(other) => Err(GitError::WrongHead {
                branch,
                found: format!("`{other}`"),
            }),
            None => Err(GitError::WrongHead {
                branch,
                found: format!("a detached HEAD (at `{head}`)"),
            }),
        }
    }

    /// Run git on a worktree with the git folder, work tree and common folder the
    /// dispatcher chose, with hooks and fsmonitor off ([`HARDENED`]) and every
    /// filter driver configured anywhere turned off: a `.gitattributes` the
    /// agent wrote may name any of them, and none may run on its files.
    pub(super) fn git_on(&self, wt: &TaskWorktree, args: &[&str]) -> Result<String, GitError> {
        let drivers = worktree_filter_drivers(wt, self.main()?.path())?;
        self.git_on_without(wt, &drivers, args)
    }

    /// [`Repo::git_on`] with the filter drivers already known.
    pub(super) fn git_on_without(
        &self,
        wt: &TaskWorktree,
        drivers: &[String],
        args: &[&str],
    ) -> Result<String, GitError> {
        let common = self.main()?.path().to_path_buf();
        let env = worktree_env(wt, &common)?;
        let off: Vec<String> = drivers
            .iter()
            .flat_map(|d| ["clean", "smudge", "process"].map(|k| format!("filter.{d}.{k}=")))
            .collect();
        let mut full: Vec<&str> = HARDENED.to_vec();
        for setting in &off {
            full.extend(["-c", setting]);
        }
        full.extend_from_slice(args);
        git_with(&wt.path, &full, &env)
    }

    /// True when some configuration (system, global, the repository's, `git
    /// -c`) defines a filter driver: a checkout that turned it off would differ
    /// from a fresh one, so such a repository's worktrees are not recycled.
    pub(super) fn has_filter_drivers(&self) -> bool {
        !filter_drivers(&self.root, &[]).is_ok_and(|d| d.is_empty())
    }
}

/// The filter drivers git sees on a worktree whose common git folder is
/// `common` (for [`Repo::git_on_without`]: looked up once, or while something
/// else runs).
fn worktree_filter_drivers(wt: &TaskWorktree, common: &Path) -> Result<Vec<String>, GitError> {
    filter_drivers(&wt.path, &worktree_env(wt, common)?)
}

/// Check the kinds of the worktree's entries (before git opens anything there:
/// a FIFO would block it) and, meanwhile, look up the filter drivers git sees
/// there (its configuration, no file of the worktree): the drivers once both
/// are through.
pub(super) fn checked_kinds_and_drivers(
    wt: &TaskWorktree,
    common: &Path,
) -> Result<Vec<String>, GitError> {
    let (walked, drivers) = std::thread::scope(|scope| {
        let drivers = scope.spawn(|| worktree_filter_drivers(wt, common));
        let walked = super::scan::check_kinds(&wt.path);
        let drivers = drivers
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (walked, drivers)
    });
    walked?;
    drivers
}

/// The git folder, work tree and common folder the dispatcher chose for a worktree.
fn worktree_env<'a>(
    wt: &'a TaskWorktree,
    common: &'a Path,
) -> Result<[(&'static str, &'a str); 3], GitError> {
    Ok([
        ("GIT_DIR", utf8(&wt.admin)?),
        ("GIT_WORK_TREE", utf8(&wt.path)?),
        ("GIT_COMMON_DIR", utf8(common)?),
    ])
}

/// The names of the filter drivers git sees with `env` (`filter.<name>.*`).
fn filter_drivers(dir: &Path, env: &[(&str, &str)]) -> Result<Vec<String>, GitError> {
    let out = match git_with(
        dir,
        &["config", "--name-only", "--get-regexp", r"^filter\."],
        env,
    ) {
        Ok(out) => out,
        // Exit 1: no such setting.
        Err(GitError::Command { stderr, .. }) if stderr.is_empty() => String::new(),
        Err(e) => return Err(e),
    };
    let mut names: Vec<String> = out
        .lines()
        .filter_map(|key| {
            let rest = key.strip_prefix("filter.")?;
            Some(rest.rsplit_once('.')?.0.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// A small regular file's text, never through a link.
fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 64 * 1024 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// The worktree's `.git` is still the file git wrote: `gitdir: <its git folder>`.
fn check_git_file(wt: &TaskWorktree) -> Result<(), GitError> {
    let dot_git = wt.path.join(".git");
    let tampered = |found: String| GitError::Tampered {
        found,
        admin: wt.admin.clone(),
    };
    let meta = std::fs::symlink_metadata(&dot_git)
        .map_err(|_| tampered("nothing: it was removed".into()))?;
    if meta.file_type().is_symlink() {
        return Err(tampered("a symbolic link".into()));
    }
    if meta.is_dir() {
        return Err(tampered("a git folder of its own".into()));
    }
    let text = read_small(&dot_git).ok_or_else(|| tampered("something unreadable".into()))?;
    let first = text.lines().next().unwrap_or_default().trim();
    let named = first.strip_prefix("gitdir:").map(|p| p.trim());
    let ours = named.is_some_and(|p| {
        let p = Path::new(p);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            wt.path.join(p)
        };
        canonical(&p) == canonical(&wt.admin)
    });
    if ours {
        Ok(())
    } else {
        Err(tampered(format!(
            "`{}`",
            first.chars().take(200).collect::<String>()
        )))
    }
}

/// The record's `commondir` (git writes `../..`) still names the main
/// repository's git folder: another would hand git a configuration (hooks, an
/// fsmonitor) and refs of the agent's making, for the person's next `git` in the
/// worktree. The dispatcher itself never follows it (it passes GIT_COMMON_DIR).
fn check_common_dir(wt: &TaskWorktree, common: &Path) -> Result<(), GitError> {
    let text = read_small(&wt.admin.join("commondir")).unwrap_or_default();
    let named = Path::new(text.trim());
    let ours = !text.trim().is_empty() && canonical(&wt.admin.join(named)) == canonical(common);
    if ours {
        Ok(())
    } else {
        Err(GitError::TamperedRecord {
            file: wt.admin.join("commondir"),
            found: text.trim().chars().take(200).collect(),
        })
    }
}

/// The worktree's git folder holds only files, folders and links: git opens its
/// `index`, `ORIG_HEAD`, `logs/HEAD`… and would block for ever on a FIFO an
/// unsandboxed agent left there (the sandbox gives no agent that folder). The
/// path in the error is the whole path, so it is not taken for the worktree's.
fn check_admin_kinds(admin: &Path) -> Result<(), GitError> {
    super::scan::check_kinds(admin).map_err(|e| match e {
        GitError::SpecialFile { path, what } => GitError::SpecialFile {
            path: admin.join(path),
            what,
        },
        other => other,
    })
}

/// The worktree's own settings (`config.worktree`, read by git when
/// `extensions.worktreeConfig` is on) hold only what `git sparse-checkout` writes.
fn check_settings(admin: &Path) -> Result<(), GitError> {
    let path = admin.join("config.worktree");
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return Ok(());
    };
    if !meta.is_file() {
        return Err(GitError::TamperedConfig {
            key: "(it is not a regular file)".into(),
        });
    }
    let config = git2::Config::open(&path).map_err(|e| GitError::TamperedConfig {
        key: format!("(unreadable: {})", e.message()),
    })?;
    let entries = config
        .entries(None)
        .map_err(|e| library("read config.worktree", &e))?;
    let mut found = None;
    entries
        .for_each(|entry| {
            let name = entry.name().unwrap_or("?").to_ascii_lowercase();
            if found.is_none() && !WORKTREE_SETTINGS.contains(&name.as_str()) {
                found = Some(name);
            }
        })
        .map_err(|e| library("read config.worktree", &e))?;
    match found {
        Some(key) => Err(GitError::TamperedConfig { key }),
        None => Ok(()),
    }
}
