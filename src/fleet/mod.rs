//! The fleet: many repositories served by one dispatcher. The fleet is a folder
//! of links (folder.rs: the one reader of it; this file adds and removes
//! links); serve.rs holds each member's dispatcher lock and its watchers,
//! scheduler.rs takes turns between the members' queues (priority, then the
//! repository served least recently), and status.rs reads every member for
//! `status`, `list` and `friction --fleet`.
pub mod folder;
mod scheduler;
mod serve;
pub mod status;

pub use folder::{fleet_dir, members, Member};
pub use scheduler::watch;

use crate::workspace::Workspace;
use std::path::{Path, PathBuf};

/// Why a link cannot be added or removed.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(
        "`{0}` cannot name a fleet repository: use lower-case letters, digits, `.`, `_` and `-`"
    )]
    BadName(String),
    #[error("{} has no .agentos/ folder, so there is nothing to serve", .0.display())]
    NotInitialised(PathBuf),
    #[error("the fleet already has `{name}`, a link to {}", target.display())]
    Taken { name: String, target: PathBuf },
    #[error("the fleet has no `{0}`")]
    Unknown(String),
    #[error("{} is not a link; `fleet rm` removes only links, never a folder", .0.display())]
    NotALink(PathBuf),
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> FleetError + 'a {
    move |source| FleetError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Link the repository of `ws` into the fleet folder `dir` as `name` (else the
/// slug of its folder's name). Adding the same repository under the same name
/// again is no change. Returns the name and whether a link was made.
pub fn add(dir: &Path, ws: &Workspace, name: Option<&str>) -> Result<(String, bool), FleetError> {
    let root = &ws.tree.repo_root;
    if !ws.tree.is_initialised() {
        return Err(FleetError::NotInitialised(root.clone()));
    }
    let name = match name {
        Some(n) => n.to_string(),
        None => crate::task::slugify(
            &root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };
    if !crate::task::is_slug(&name) {
        return Err(FleetError::BadName(name));
    }
    let link = dir.join(&name);
    if std::fs::symlink_metadata(&link).is_ok() {
        let target = folder::target(&link);
        let same = std::fs::canonicalize(&link).is_ok_and(|t| t == *root);
        if same {
            return Ok((name, false));
        }
        return Err(FleetError::Taken { name, target });
    }
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    std::os::unix::fs::symlink(root, &link).map_err(io("make the link", &link))?;
    Ok((name, true))
}

/// Remove the link `name` (never what it points to). Returns where it pointed.
pub fn remove(dir: &Path, name: &str) -> Result<PathBuf, FleetError> {
    if !crate::task::is_slug(name) {
        return Err(FleetError::Unknown(name.to_string()));
    }
    let link = dir.join(name);
    let meta = match std::fs::symlink_metadata(&link) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FleetError::Unknown(name.to_string()))
        }
        Err(e) => return Err(io("read", &link)(e)),
    };
    if !meta.file_type().is_symlink() {
        return Err(FleetError::NotALink(link));
    }
    let target = folder::target(&link);
    std::fs::remove_file(&link).map_err(io("remove", &link))?;
    Ok(target)
}
