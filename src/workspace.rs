//! The repository a command or the dispatcher works on, and its `.agentos/` tree:
//! found, then checked (no path of the state leads outside the repository)
//! before anything in it is touched; and tasks found by id, never by path.
use crate::git::{GitError, Repo};
use crate::path_error::PathError;
use crate::queue::{self, Entry, QueueError, StatePathProblem, Tree};
use std::borrow::Cow;
use std::path::Path;

pub struct Workspace {
    pub repo: Repo,
    pub tree: Tree,
}

/// Why a repository cannot be worked on.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Git(#[from] GitError),
    /// Paths of `.agentos/` that lead outside the repository (or are not what they
    /// should be): nothing was touched.
    #[error("git agentos will not use this repository's .agentos/: {}", list(.0))]
    UnsafeState(Vec<StatePathProblem>),
}

fn list(problems: &[StatePathProblem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl Workspace {
    /// The repository that contains `dir` (its main working tree) and its tree,
    /// once [`Workspace::check_state`] finds every path of the tree its own.
    pub fn discover(dir: &Path) -> Result<Workspace, WorkspaceError> {
        let ws = Workspace::discover_unchecked(dir)?;
        ws.check_state()?;
        Ok(ws)
    }

    /// The repository and its tree, the tree unchecked: for `doctor`, which
    /// reports what [`queue::check_state_paths`] finds instead of stopping.
    pub fn discover_unchecked(dir: &Path) -> Result<Workspace, GitError> {
        let repo = Repo::discover(dir)?;
        let tree = Tree::new(repo.root());
        Ok(Workspace { repo, tree })
    }

    /// Every path of `.agentos/` is git agentos's own (see [`queue::check_state_paths`]).
    pub fn check_state(&self) -> Result<(), WorkspaceError> {
        judged(queue::check_state_paths(&self.tree))
    }

    /// [`Workspace::check_state`] as a dispatcher repeats it before each claim
    /// (see [`queue::check_state_paths_between_claims`]).
    pub fn check_state_between_claims(&self) -> Result<(), WorkspaceError> {
        judged(queue::check_state_paths_between_claims(&self.tree))
    }

    /// No link in the task's `runs/<id>/` folder (see [`queue::check_task_runs`]).
    pub fn check_task_runs(&self, id: &str) -> Result<(), WorkspaceError> {
        judged(queue::check_task_runs(&self.tree, id))
    }

    /// Make sure the runtime folders exist (whatever writes tasks calls this).
    pub fn ensure_runtime(&self) -> Result<(), PathError> {
        self.tree
            .ensure_runtime()
            .map(|_| ())
            .map_err(PathError::at("create the folders of", &self.tree.dir))
    }

    /// The task with this id in a state folder, or an error that names the
    /// closest id ("did you mean"). An id that is not one (a path: `../README`,
    /// `/some/dir/notes`) is refused before anything is looked at.
    pub fn find_task(&self, id: &str) -> Result<Entry, QueueError> {
        if !queue::is_task_id(id) {
            return Err(QueueError::NotAnId { id: id.to_string() });
        }
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

/// The problems found, as the error that stops a command (none: Ok).
fn judged(problems: Vec<queue::StatePathProblem>) -> Result<(), WorkspaceError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(WorkspaceError::UnsafeState(problems))
    }
}
