//! Where the manual goes and whether it is there: the default folder
//! (`$XDG_DATA_HOME/man`, else `~/.local/share/man`), writing the pages (only the
//! ones that changed; pages of commands that no longer exist removed), whether
//! `man` searches that folder, and the status `doctor` reports.
use super::pages::{pages, Page};
use crate::path_error::PathError;
use clap::Command;
use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

/// Why the manual cannot be placed or read.
#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("cannot tell where the manual goes: neither XDG_DATA_HOME nor HOME is set")]
    NoHome,
    #[error(transparent)]
    Io(#[from] PathError),
}

/// The manual folder `install` writes into unless told otherwise:
/// `$XDG_DATA_HOME/man` (when it is an absolute path, as the XDG spec asks),
/// else `~/.local/share/man`. man-db searches it without configuration when
/// `~/.local/bin` is on PATH.
pub fn default_dir() -> Result<PathBuf, ManualError> {
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    if let Some(data) = xdg {
        return Ok(data.join("man"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/man"))
        .ok_or(ManualError::NoHome)
}

/// The folder section-1 pages go into: `dir/man1`, or `dir` itself when it is
/// already a `man1` folder.
pub fn section_dir(dir: &Path) -> PathBuf {
    if dir.file_name().is_some_and(|n| n == "man1") {
        dir.to_path_buf()
    } else {
        dir.join("man1")
    }
}

/// The MANPATH entry that holds a section folder (`…/man` for `…/man/man1`).
pub fn manpath_entry(man1: &Path) -> &Path {
    man1.parent().unwrap_or(man1)
}

/// What [`install`] did.
#[derive(Debug)]
pub struct Written {
    /// The section folder the pages are in.
    pub dir: PathBuf,
    /// Every page of the manual.
    pub pages: usize,
    /// Pages written because they were new or differed.
    pub written: Vec<String>,
    /// Pages of commands that no longer exist, removed.
    pub removed: Vec<String>,
    /// Whether `man` searches the folder (None: `manpath` could not be run).
    pub on_manpath: Option<bool>,
}

/// Write every page into `section_dir(dir)`: a page that is already identical
/// is left alone, a changed one is replaced whole (never half written), and a
/// `git-agentos*.1` page this command line no longer has is removed.
pub fn install(cli: &Command, dir: &Path) -> Result<Written, ManualError> {
    let man1 = section_dir(dir);
    fs::create_dir_all(&man1).map_err(PathError::at("create", &man1))?;
    let pages = pages(cli);
    let mut written = Vec::new();
    for page in &pages {
        let path = man1.join(page.file_name());
        if fs::read(&path).is_ok_and(|old| old == page.roff) {
            continue;
        }
        crate::durable::write_with_permissions(
            &path,
            &page.roff,
            Some(fs::Permissions::from_mode(0o644)),
        )
        .map_err(PathError::at("write", &path))?;
        written.push(page.file_name());
    }
    let mut removed = Vec::new();
    for name in obsolete(&man1, &pages)? {
        let path = man1.join(&name);
        fs::remove_file(&path).map_err(PathError::at("remove", &path))?;
        removed.push(name);
    }
    Ok(Written {
        on_manpath: on_manpath(manpath_entry(&man1)),
        dir: man1,
        pages: pages.len(),
        written,
        removed,
    })
}

/// The `git-agentos*.1` files in `man1` that are not pages of this manual.
fn obsolete(man1: &Path, pages: &[Page]) -> Result<Vec<String>, ManualError> {
    let ours: HashSet<String> = pages.iter().map(Page::file_name).collect();
    let entries = match fs::read_dir(man1) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(PathError::new("read", man1, e).into()),
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n == "git-agentos.1" || (n.starts_with("git-agentos-") && n.ends_with(".1")))
        .filter(|n| !ours.contains(n))
        .collect();
    out.sort();
    Ok(out)
}

/// Whether `man` searches `entry` (a MANPATH entry such as `~/.local/share/man`),
/// by asking `manpath`; None when it cannot be run.
pub fn on_manpath(entry: &Path) -> Option<bool> {
    let out = Process::new("manpath")
        .arg("-q")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let want = entry.canonicalize().unwrap_or_else(|_| entry.to_path_buf());
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.trim().split(':').any(|p| {
        let p = Path::new(p);
        p == want || p.canonicalize().is_ok_and(|c| c == want)
    }))
}

/// The file `man` opens for `page` (`man -w`), if it finds one.
pub fn man_finds(page: &str) -> Option<PathBuf> {
    let out = Process::new("man")
        .args(["-w", page])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .next()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
}

/// Whether the manual is installed, and current for this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// No page of it in the folder.
    Missing,
    /// Every page is exactly what this build writes.
    Current,
    /// Pages from another build: those that differ, those missing, those of
    /// commands that no longer exist, and the version the top page names.
    Stale {
        version: Option<String>,
        outdated: Vec<String>,
        missing: Vec<String>,
        obsolete: Vec<String>,
    },
    /// `man` opens a page that install-man did not write (a compressed one, or a
    /// package's), so it cannot be compared.
    Foreign { path: PathBuf },
}

/// The manual's status, for `doctor`: what, where, and whether `man` looks there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The section folder looked at: where `man` finds git-agentos(1), else the
    /// default one.
    pub dir: PathBuf,
    pub state: State,
    /// Whether `man` searches the folder (None: `manpath` could not be run).
    pub on_manpath: Option<bool>,
    /// The file `man git-agentos` opens, if any.
    pub man_opens: Option<PathBuf>,
    /// This build's version.
    pub version: String,
}

/// The manual's status: the folder `man` finds git-agentos(1) in (else the
/// default folder), whether every page there is the one this build writes, and
/// whether `man` searches it. Runs `man -w` and `manpath`; reads only the pages.
pub fn status(cli: &Command) -> Result<Status, ManualError> {
    let man_opens = man_finds("git-agentos");
    let dir = match &man_opens {
        Some(path) if path.file_name().is_some_and(|n| n == "git-agentos.1") => path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| path.clone()),
        _ => section_dir(&default_dir()?),
    };
    let mut status = status_at(cli, &dir)?;
    if let (State::Missing, Some(path)) = (&status.state, &man_opens) {
        status.state = State::Foreign { path: path.clone() };
    }
    status.man_opens = man_opens;
    Ok(status)
}

/// The status of the manual in one folder (a MANPATH entry or its `man1`),
/// without asking `man` where it looks for pages.
pub fn status_at(cli: &Command, dir: &Path) -> Result<Status, ManualError> {
    let man1 = section_dir(dir);
    let pages = pages(cli);
    let mut outdated = Vec::new();
    let mut missing = Vec::new();
    let mut version = None;
    for page in &pages {
        let path = man1.join(page.file_name());
        match fs::read(&path) {
            Ok(bytes) if bytes == page.roff => {}
            Ok(bytes) => {
                if page.name == "git-agentos" {
                    version = version_of(&bytes);
                }
                outdated.push(page.file_name());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(page.file_name()),
            Err(e) => return Err(PathError::new("read", &path, e).into()),
        }
    }
    let obsolete = obsolete(&man1, &pages)?;
    let state = if outdated.is_empty() && missing.is_empty() && obsolete.is_empty() {
        State::Current
    } else if outdated.is_empty() && missing.len() == pages.len() {
        State::Missing
    } else {
        State::Stale {
            version,
            outdated,
            missing,
            obsolete,
        }
    };
    Ok(Status {
        on_manpath: on_manpath(manpath_entry(&man1)),
        dir: man1,
        state,
        man_opens: None,
        version: cli.get_version().unwrap_or_default().to_string(),
    })
}

/// The version a page's `.TH` line names (`"git-agentos 0.1.0"`).
fn version_of(roff: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(roff);
    let title = text.lines().find(|l| l.starts_with(".TH "))?;
    let source = title.replace("\\-", "-");
    let after = &source[source.find("\"git-agentos ")? + "\"git-agentos ".len()..];
    let version: String = after.chars().take_while(|c| *c != '"').collect();
    Some(version.trim().to_string()).filter(|v| !v.is_empty())
}

impl Status {
    /// True when the pages are current and `man` finds them.
    pub fn is_ok(&self) -> bool {
        self.state == State::Current && self.on_manpath != Some(false)
    }

    /// One line on what is installed where.
    pub fn summary(&self) -> String {
        let dir = self.dir.display();
        match &self.state {
            State::Missing => format!("not installed (looked in {dir})"),
            State::Current => format!("installed in {dir}, current for {}", self.version),
            State::Stale {
                version,
                outdated,
                missing,
                obsolete,
            } => {
                let from = version
                    .as_deref()
                    .map(|v| format!(" (pages of {v})"))
                    .unwrap_or_default();
                format!(
                    "installed in {dir}{from} but not current for {}: {} changed, {} missing, {} of commands that no longer exist",
                    self.version,
                    outdated.len(),
                    missing.len(),
                    obsolete.len()
                )
            }
            State::Foreign { path } => format!(
                "man opens {}, which install-man did not write; cannot tell whether it is current",
                path.display()
            ),
        }
    }

    /// What to do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        match (&self.state, self.on_manpath) {
            (State::Missing | State::Stale { .. }, _) => Some(
                "run `git agentos install-man` (add `--dir D` for another manual folder)".into(),
            ),
            (_, Some(false)) => Some(manpath_hint(manpath_entry(&self.dir))),
            _ => None,
        }
    }
}

/// How to make `man` search `entry`.
pub fn manpath_hint(entry: &Path) -> String {
    format!(
        "add this line to ~/.profile (or your shell's rc file): export MANPATH=\"{0}:$MANPATH\" (the trailing `:$MANPATH` keeps the system's pages)",
        entry.display()
    )
}
