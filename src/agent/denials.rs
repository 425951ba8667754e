//! Writes the sandbox refused, read from the text of the agent's tool results.
//!
//! The kernel says nothing to the dispatcher when it refuses a write; the tool
//! that tried reports it, in the text of its result, whether the call failed or
//! not (Bash merges stderr into its output and may still exit 0). So every
//! tool result is scanned for `Permission denied`, `Operation not permitted`,
//! `EACCES`, `EPERM`, `Invalid cross-device link` and `EXDEV`, and the paths
//! they name are kept. The caller keeps only the ones outside the writable set
//! that the file permissions alone would have allowed (see [`refused_by_sandbox`]):
//! ssh's `Permission denied (publickey)`, or a folder a user may not read, are
//! not the sandbox's doing.
use std::path::{Component, Path, PathBuf};

const MARKERS: [&str; 6] = [
    "permission denied",
    "operation not permitted",
    "eacces",
    "eperm",
    "invalid cross-device link",
    "exdev",
];

/// One line of a tool result that reports a refusal, and the paths it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub line: String,
    pub paths: Vec<String>,
}

/// Every line of `text` that reports a refusal, with the paths it names.
pub fn refusals(text: &str) -> Vec<Refusal> {
    text.lines()
        .filter(|line| {
            let lower = line.to_lowercase();
            MARKERS.iter().any(|m| lower.contains(m))
        })
        .map(|line| Refusal {
            line: super::stream::excerpt(line.trim()),
            paths: paths_named(line),
        })
        .filter(|r| !r.paths.is_empty())
        .collect()
}

/// The paths a refusal line names: every quoted one (`'…'`, `"…"`, `` `…` ``);
/// else the word before the last `: Permission denied`-like marker
/// (`bash: line 1: ../x: Permission denied`, `sh: 1: cannot create /x: …`).
fn paths_named(line: &str) -> Vec<String> {
    let mut quoted = Vec::new();
    for quote in ['\'', '"', '`'] {
        let parts: Vec<&str> = line.split(quote).collect();
        for (i, part) in parts.iter().enumerate() {
            if i % 2 == 1 && i + 1 < parts.len() && looks_like_path(part) {
                quoted.push(strip_temp_suffix(part));
            }
        }
    }
    if !quoted.is_empty() {
        return quoted;
    }
    let lower = line.to_lowercase();
    let Some(at) = MARKERS.iter().filter_map(|m| lower.find(m)).min() else {
        return Vec::new();
    };
    let before = line[..at].trim_end().trim_end_matches(':').trim_end();
    let segment = before.rsplit(": ").next().unwrap_or(before);
    segment
        .split_whitespace()
        .last()
        .filter(|w| looks_like_path(w))
        .map(|w| vec![strip_temp_suffix(w)])
        .unwrap_or_default()
}

fn looks_like_path(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace) && (s.contains('/') || s.contains('.'))
}

/// Claude Code's Write tool writes `NAME.tmp.<pid>.<hex>` and renames it: the
/// file meant is NAME.
fn strip_temp_suffix(path: &str) -> String {
    let parts: Vec<&str> = path.rsplitn(4, '.').collect();
    if let [hex, pid, "tmp", name] = parts.as_slice() {
        if !name.is_empty()
            && pid.chars().all(|c| c.is_ascii_digit())
            && hex.chars().all(|c| c.is_ascii_hexdigit())
        {
            return name.to_string();
        }
    }
    path.to_string()
}

/// Where a path an agent named lands: relative ones from the worktree, `..`
/// folded, the existing part with its symbolic links resolved, the rest as
/// written. (Shells expand `~` before they report a path.)
pub fn resolve(named: &str, worktree: &Path) -> PathBuf {
    let path = Path::new(named);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        worktree.join(path)
    };
    let mut lexical = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    lexical
        .ancestors()
        .find_map(|a| {
            let canonical = a.canonicalize().ok()?;
            let rest = lexical.strip_prefix(a).ok()?;
            Some(if rest.as_os_str().is_empty() {
                canonical
            } else {
                canonical.join(rest)
            })
        })
        .unwrap_or(lexical)
}

/// True when the sandbox, and not the file's permissions, refused a write to
/// `path`: it lies outside every writable path, and the permissions would let
/// this user write it (or create it in its nearest existing folder).
pub fn refused_by_sandbox(path: &Path, writable: &[PathBuf]) -> bool {
    if writable.iter().any(|w| path.starts_with(w)) {
        return false;
    }
    let existing = path.ancestors().find(|a| a.symlink_metadata().is_ok());
    existing.is_some_and(|p| nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        refusals(text).into_iter().flat_map(|r| r.paths).collect()
    }

    #[test]
    fn reads_the_paths_of_each_tool_s_wording() {
        assert_eq!(
            paths("Exit code 1\n/bin/bash: line 1: ../../../README.md: Permission denied"),
            ["../../../README.md"]
        );
        assert_eq!(
            paths("fatal: Unable to create '/r/.git/index.lock': Permission denied"),
            ["/r/.git/index.lock"]
        );
        assert_eq!(
            paths("ln: failed to create hard link 'hard' => '/o/outside.txt': Invalid cross-device link"),
            ["/o/outside.txt"]
        );
        assert_eq!(
            paths("EACCES: permission denied, open '/r/NEW.md.tmp.16203.cf72710bd954'"),
            ["/r/NEW.md"]
        );
        assert_eq!(
            paths("sh: 1: cannot create /r/x.md: Permission denied"),
            ["/r/x.md"]
        );
        assert_eq!(
            paths("PermissionError: [Errno 13] Permission denied: '/home/u/.bashrc'"),
            ["/home/u/.bashrc"]
        );
        assert!(paths("all good\nnothing refused").is_empty());
    }

    #[test]
    fn a_path_inside_the_writable_set_was_not_refused_by_the_sandbox() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wt = dir.path().canonicalize().expect("canonical").join("wt");
        std::fs::create_dir_all(&wt).expect("mkdir");
        let writable = vec![wt.clone()];
        assert!(!refused_by_sandbox(&resolve("src/a.rs", &wt), &writable));
        let outside = resolve("../README.md", &wt);
        assert_eq!(
            outside,
            dir.path().canonicalize().expect("c").join("README.md")
        );
        assert!(refused_by_sandbox(&outside, &writable));
        // ssh's refusal names a host, which resolves into the worktree.
        for named in paths("git@github.com: Permission denied (publickey).") {
            assert!(!refused_by_sandbox(&resolve(&named, &wt), &writable));
        }
    }
}
