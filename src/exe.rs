//! This program's own path, for what it starts as itself (the agent's shim,
//! git's credential helper, an autostarted `watch`, the hook block). Taken once,
//! when the process starts: a binary upgraded while `watch` runs leaves
//! `/proc/self/exe` reading `…/git-agentos (deleted)`, a path that names
//! nothing, and every task would then fail to start its agent. The path taken
//! at start holds the new binary, which is what a person who upgraded wants.
use std::path::PathBuf;
use std::sync::OnceLock;

/// Remember the path now (called first thing in `main`); later calls of
/// [`path`] return it.
pub fn remember() {
    let _ = path();
}

/// This program's path, as it was when the process started.
pub fn path() -> std::io::Result<PathBuf> {
    static AT_START: OnceLock<Option<PathBuf>> = OnceLock::new();
    AT_START
        .get_or_init(|| std::env::current_exe().ok().map(without_deleted))
        .clone()
        .ok_or_else(|| std::io::Error::other("cannot find this program's own path"))
}

/// `/proc/self/exe` of a replaced binary ends in ` (deleted)`: the path without
/// it, where the new binary is.
fn without_deleted(path: PathBuf) -> PathBuf {
    match path.to_str().and_then(|p| p.strip_suffix(" (deleted)")) {
        Some(p) => PathBuf::from(p),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_binary_is_found_at_its_path() {
        assert_eq!(
            without_deleted(PathBuf::from("/usr/bin/git-agentos (deleted)")),
            PathBuf::from("/usr/bin/git-agentos")
        );
        assert_eq!(
            without_deleted(PathBuf::from("/usr/bin/git-agentos")),
            PathBuf::from("/usr/bin/git-agentos")
        );
        assert!(path().is_ok_and(|p| p.is_absolute()));
    }
}
