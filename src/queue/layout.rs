//! The `.agentos/` folder tree of a repository: where each kind of file lives.
use crate::durable;
use std::io;
use std::path::{Path, PathBuf};

/// The five folders a task moves between: todo/ → doing/ → (review/ while its
/// pull request is open →) done/ or failed/.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Todo,
    Doing,
    Review,
    Done,
    Failed,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Todo,
        State::Doing,
        State::Review,
        State::Done,
        State::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Todo => "todo",
            State::Doing => "doing",
            State::Review => "review",
            State::Done => "done",
            State::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.name() == name)
    }
}

const GITIGNORE_MARK: &str = "# Written by `git agentos init`.";

/// What `.agentos/.gitignore` holds: runtime state stays out of `git status`.
/// No pattern ends in `/`: that would match only folders, and a symbolic link
/// in a folder's place could then be committed.
pub const GITIGNORE: &str = "\
# Written by `git agentos init`. Runtime state stays out of git;
# agents/, triggers/, templates/ and config.toml are meant to be committed,
# but not an agent's local.toml (its settings are yours alone), nor
# the notifiers in hooks/ (programs run on your machine).
/todo
/doing
/review
/done
/failed
/runs
/worktrees
/friction.jsonl
/friction-enqueued
/*.lock
/*.index
/hook.seen
/.tmp-*
/config.local.toml
/agents/*/local.toml
/hooks
";

/// The paths of one repository's `.agentos/` tree.
#[derive(Debug, Clone)]
pub struct Tree {
    pub repo_root: PathBuf,
    pub dir: PathBuf,
}

impl Tree {
    pub fn new(repo_root: &Path) -> Tree {
        Tree {
            repo_root: repo_root.to_path_buf(),
            dir: repo_root.join(".agentos"),
        }
    }

    pub fn state_dir(&self, state: State) -> PathBuf {
        self.dir.join(state.name())
    }
    pub fn agents_dir(&self) -> PathBuf {
        self.dir.join("agents")
    }
    pub fn runs_dir(&self) -> PathBuf {
        self.dir.join("runs")
    }
    pub fn worktrees_dir(&self) -> PathBuf {
        self.dir.join("worktrees")
    }
    /// The dispatcher lock: in the repository's git folder, where a person does
    /// not delete a file by reflex (see `dispatch::lock`).
    pub fn lock_path(&self) -> PathBuf {
        git_dir(&self.repo_root).join("agentos-dispatcher.lock")
    }
    /// The cache of parsed todo/ files (see `todo_index`).
    pub fn todo_index_path(&self) -> PathBuf {
        self.dir.join("todo.index")
    }
    pub fn gitignore_path(&self) -> PathBuf {
        self.dir.join(".gitignore")
    }

    pub fn is_initialised(&self) -> bool {
        self.dir.is_dir()
    }

    /// Create the runtime folders and the `.gitignore` (kept when it exists).
    /// Returns the paths it created.
    pub fn ensure_runtime(&self) -> io::Result<Vec<PathBuf>> {
        let mut created = Vec::new();
        let mut dirs: Vec<PathBuf> = State::ALL.iter().map(|s| self.state_dir(*s)).collect();
        dirs.extend([self.runs_dir(), self.worktrees_dir(), self.agents_dir()]);
        for dir in dirs {
            if !dir.is_dir() {
                durable::ensure_dir(&dir)?;
                created.push(dir);
            }
        }
        let gitignore = self.gitignore_path();
        match std::fs::read_to_string(&gitignore) {
            Err(_) => {
                durable::write(&gitignore, GITIGNORE.as_bytes())?;
                created.push(gitignore);
            }
            // Ours, from an older version: bring it up to date. A person's own
            // .gitignore (without our first line) is left alone.
            Ok(text) if text != GITIGNORE && text.starts_with(GITIGNORE_MARK) => {
                durable::write(&gitignore, GITIGNORE.as_bytes())?;
            }
            Ok(_) => {}
        }
        Ok(created)
    }
}

/// The git folder of the main working tree at `root`: `.git`, or where a `.git`
/// file (`gitdir: …`, a separate git folder) points.
fn git_dir(root: &Path) -> PathBuf {
    let dot_git = root.join(".git");
    if dot_git.is_dir() {
        return dot_git;
    }
    std::fs::read_to_string(&dot_git)
        .ok()
        .and_then(|text| {
            let to = text.trim().strip_prefix("gitdir:")?.trim().to_string();
            Some(root.join(to))
        })
        .unwrap_or(dot_git)
}
