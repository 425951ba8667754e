//! Which repositories the board shows: the one it was started in, or with
//! `--fleet` each `$AGENTOS_HOME/fleet/<name>` link, read by the fleet's one
//! reader of its folder ([`crate::fleet::folder`]).
use crate::workspace::Workspace;

pub use crate::fleet::folder::{fleet_dir, members as fleet, Member as Repo};

impl Repo {
    /// The repository from its workspace (the board started in it).
    pub fn here(ws: &Workspace) -> Repo {
        let root = &ws.tree.repo_root;
        let folder = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = crate::task::slugify(&folder);
        Repo {
            name: if name.is_empty() { "repo".into() } else { name },
            origin: root.clone(),
            tree: Ok(ws.tree.clone()),
        }
    }
}
