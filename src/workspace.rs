//! The repository a command or the dispatcher works on, and its `.agentos/` tree.
use crate::git::{GitError, Repo};
use crate::path_error::PathError;
use crate::queue::{self, Entry, QueueError, Tree};
use std::borrow::Cow;
use std::path::Path;

pub struct Workspace {
    pub repo: Repo,
    pub tree: Tree,
}

impl Workspace {
    /// The repository that contains `dir` (its main working tree) and its tree.
    pub fn discover(dir: &Path) -> Result<Workspace, GitError> {
        let repo = Repo::discover(dir)?;
        let tree = Tree::new(repo.root());
        Ok(Workspace { repo, tree })
    }

    /// Make sure the runtime folders exist (whatever writes tasks calls this).
    pub fn ensure_runtime(&self) -> Result<(), PathError> {
        self.tree
            .ensure_runtime()
            .map(|_| ())
            .map_err(PathError::at("create the folders of", &self.tree.dir))
    }

    /// The task with this id in any state folder, or an error that names the
    /// closest id ("did you mean").
    pub fn find_task(&self, id: &str) -> Result<Entry, QueueError> {
        let found = queue::find(&self.tree, id).map_err(PathError::at("read", &self.tree.dir))?;
        found.ok_or_else(|| {
            let ids = queue::all_ids(&self.tree).unwrap_or_default();
            let near = crate::similarity::closest(id, ids.iter().map(String::as_str));
            QueueError::NoSuchTask {
                id: id.to_string(),
                near: near.map(str::to_string),
            }
        })
    }

    /// A path relative to the repository's top folder, for messages.
    pub fn rel<'a>(&self, path: &'a Path) -> Cow<'a, str> {
        match path.strip_prefix(&self.tree.repo_root) {
            Ok(rel) => rel.to_string_lossy(),
            Err(_) => path.to_string_lossy(),
        }
    }
}
