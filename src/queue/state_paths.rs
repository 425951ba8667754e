//! The paths under `.agentos/` are git agentos's own. Before a command reads,
//! writes, moves or deletes anything there, [`check_state_paths`] makes sure
//! that none of its runtime state (the state folders, runs/, worktrees/ and its
//! pool, the logs, locks and caches) is a symbolic link or anything but the
//! folder or file it should be: a cloned repository could commit
//! `.agentos/worktrees -> ../..` and have `clean` delete the folders beside it.
//! What a repository commits for people to share (agents/, templates/,
//! triggers/, config.toml) may link within the repository, never out of it:
//! an agent's instructions go into its prompt.
//!
//! A task file in todo/ or failed/ that is a link is the one exception: the
//! queue never follows it (it is read with `O_NOFOLLOW`, rejected, and moved as
//! the link itself), and says why in `list`.
use super::layout::{State, Tree};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// The folders of runtime state, directly under `.agentos/`.
const RUNTIME_DIRS: [&str; 7] = [
    "todo",
    "doing",
    "review",
    "done",
    "failed",
    "runs",
    "worktrees",
];

/// The files of runtime state, directly under `.agentos/` (`dispatcher.lock` is
/// where older versions kept the lock).
const RUNTIME_FILES: [&str; 6] = [
    "friction.jsonl",
    "friction-enqueued",
    "hook.seen",
    "todo.index",
    "dispatcher.lock",
    ".gitignore",
];

/// What a repository commits for people to share: (name, how deep its files are).
const SHARED: [(&str, usize); 4] = [
    ("agents", 2),
    ("templates", 1),
    ("triggers", 1),
    ("config.toml", 0),
];

/// A path under `.agentos/` that git agentos will not use, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePathProblem {
    /// The path, relative to the repository's top folder.
    pub path: String,
    pub what: String,
    pub fix: String,
    /// A link, which could lead a write outside the repository (the rest, a
    /// file where a folder should be, only makes writes there fail).
    pub is_link: bool,
}

impl fmt::Display for StatePathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.path, self.what)
    }
}

/// Every path under `.agentos/` that is not what git agentos needs it to be (none
/// when the folder does not exist yet). Reads only: file types and link targets.
pub fn check_state_paths(tree: &Tree) -> Vec<StatePathProblem> {
    check_with(tree, usize::MAX)
}

/// [`check_state_paths`] as a dispatcher repeats it before each claim, after
/// the whole check when it started: runs/ is read one level deep (a task's
/// folder that is a link), not through every task's attempts, so the check
/// does not grow with the history; the folder of the task it claims is
/// checked whole by [`check_task_runs`].
pub fn check_state_paths_between_claims(tree: &Tree) -> Vec<StatePathProblem> {
    check_with(tree, 0)
}

/// No link anywhere in `runs/<id>/`, the folder a claimed task's attempts write to.
pub fn check_task_runs(tree: &Tree, id: &str) -> Vec<StatePathProblem> {
    let mut check = Check::new(tree);
    let runs = tree.runs_dir().join(id);
    if fs::symlink_metadata(&runs).is_ok_and(|m| m.file_type().is_symlink()) {
        check.link(&runs);
    }
    check.no_links_in(&runs, false, usize::MAX);
    check.problems
}

/// The whole check, with runs/ read `runs_depth` levels below its tasks' folders.
fn check_with(tree: &Tree, runs_depth: usize) -> Vec<StatePathProblem> {
    let mut check = Check::new(tree);
    match fs::symlink_metadata(&tree.dir) {
        Err(_) => return Vec::new(),
        Ok(meta) if meta.file_type().is_symlink() => {
            check.link(&tree.dir);
            return check.problems;
        }
        Ok(meta) if !meta.is_dir() => {
            check.not_a("folder", &tree.dir);
            return check.problems;
        }
        Ok(_) => {}
    }
    for name in RUNTIME_DIRS {
        check.runtime_dir(&tree.dir.join(name));
    }
    for name in RUNTIME_FILES {
        check.runtime_file(&tree.dir.join(name));
    }
    for state in [State::Doing, State::Review, State::Done, State::Failed] {
        // A rejected task file that was a link is moved to failed/ as the link.
        check.no_links_in(&tree.state_dir(state), state == State::Failed, 0);
    }
    check.no_links_in(&tree.runs_dir(), false, runs_depth);
    let worktrees = tree.worktrees_dir();
    check.no_links_in(&worktrees, false, 0);
    check.runtime_dir(&worktrees.join(".pool"));
    check.no_links_in(&worktrees.join(".pool"), false, 0);
    for (name, depth) in SHARED {
        check.shared(&tree.dir.join(name), depth);
    }
    let mut problems = check.problems;
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    problems.dedup_by(|a, b| a.path == b.path);
    problems
}

struct Check<'a> {
    tree: &'a Tree,
    /// The repository's top folder, resolved.
    root: PathBuf,
    problems: Vec<StatePathProblem>,
}

impl Check<'_> {
    fn new(tree: &Tree) -> Check<'_> {
        Check {
            tree,
            root: tree
                .repo_root
                .canonicalize()
                .unwrap_or(tree.repo_root.clone()),
            problems: Vec::new(),
        }
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.tree.repo_root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    fn link(&mut self, path: &Path) {
        let (rel, to) = (self.rel(path), link_target(path));
        self.problems.push(StatePathProblem {
            what: format!("is a symbolic link (to `{to}`)"),
            fix: format!(
                "git agentos follows no link in its own state: remove it (`rm {rel}`, and \
                 `git rm --cached {rel}` if it is committed), then run `git agentos init`"
            ),
            path: rel,
            is_link: true,
        });
    }

    fn not_a(&mut self, kind: &str, path: &Path) {
        let rel = self.rel(path);
        self.problems.push(StatePathProblem {
            what: format!("is not a {kind}"),
            fix: format!("git agentos keeps its own {kind} there: move `{rel}` away"),
            path: rel,
            is_link: false,
        });
    }

    /// A folder of runtime state: a real folder, when it exists.
    fn runtime_dir(&mut self, path: &Path) {
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => self.link(path),
            Ok(meta) if !meta.is_dir() => self.not_a("folder", path),
            _ => {}
        }
    }

    /// A file of runtime state: a regular file, when it exists.
    fn runtime_file(&mut self, path: &Path) {
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => self.link(path),
            Ok(meta) if !meta.is_file() => self.not_a("regular file", path),
            _ => {}
        }
    }

    /// No link anywhere in `dir` (down `depth` more levels of real folders);
    /// task files (`*.md`) excepted when `task_links` is set.
    fn no_links_in(&mut self, dir: &Path, task_links: bool, depth: usize) {
        // A link in place of the folder is reported by itself, never read through.
        if !fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            return;
        }
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_symlink() {
                let is_task = path.extension().is_some_and(|e| e == "md");
                if !(task_links && is_task) {
                    self.link(&path);
                }
            } else if kind.is_dir() && depth > 0 {
                self.no_links_in(&path, task_links, depth - 1);
            }
        }
    }

    /// Shared settings: links allowed when they stay inside the repository.
    fn shared(&mut self, path: &Path, depth: usize) {
        let Ok(meta) = fs::symlink_metadata(path) else {
            return;
        };
        if meta.file_type().is_symlink() && !self.stays_inside(path) {
            return;
        }
        if depth == 0 || !path.is_dir() {
            return;
        }
        let Ok(entries) = fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            self.shared(&entry.path(), depth - 1);
        }
    }

    /// True when the link at `path` resolves inside the repository; else a problem.
    fn stays_inside(&mut self, path: &Path) -> bool {
        let inside = path
            .canonicalize()
            .map(|p| p.starts_with(&self.root))
            .unwrap_or(true);
        if !inside {
            let (rel, to) = (self.rel(path), link_target(path));
            self.problems.push(StatePathProblem {
                what: format!("is a symbolic link to `{to}`, outside the repository"),
                fix: format!(
                    "what .agentos/ shares may link only within the repository: replace \
                     `{rel}` with a copy of what it should hold"
                ),
                path: rel,
                is_link: true,
            });
        }
        inside
    }
}

/// Where a link points, as it is written.
fn link_target(path: &Path) -> String {
    fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Tree) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("repo");
        fs::create_dir_all(&root).expect("mkdir");
        let tree = Tree::new(&root);
        tree.ensure_runtime().expect("runtime");
        (dir, tree)
    }

    fn paths(tree: &Tree) -> Vec<String> {
        check_state_paths(tree)
            .into_iter()
            .map(|p| p.path)
            .collect()
    }

    #[test]
    fn a_fresh_tree_and_a_missing_one_are_fine() {
        let (_dir, tree) = tree();
        assert_eq!(paths(&tree), Vec::<String>::new());
        let missing = Tree::new(&tree.repo_root.join("nowhere"));
        assert_eq!(paths(&missing), Vec::<String>::new());
    }

    #[test]
    fn links_in_the_runtime_state_are_named_with_the_fix() {
        let (dir, tree) = tree();
        fs::remove_dir(tree.state_dir(State::Done)).expect("rmdir");
        symlink(dir.path(), tree.state_dir(State::Done)).expect("link");
        symlink("/etc/passwd", tree.dir.join("friction.jsonl")).expect("link");
        fs::create_dir_all(tree.runs_dir().join("t/attempt-1")).expect("mkdir");
        symlink("/tmp", tree.runs_dir().join("t/attempt-1/prompt.md")).expect("link");
        symlink("../../..", tree.worktrees_dir().join(".pool")).expect("link");
        fs::create_dir_all(tree.dir.join("hook.seen")).expect("a folder");
        let problems = check_state_paths(&tree);
        let found: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            found,
            [
                ".agentos/done",
                ".agentos/friction.jsonl",
                ".agentos/hook.seen",
                ".agentos/runs/t/attempt-1/prompt.md",
                ".agentos/worktrees/.pool",
            ]
        );
        assert!(
            problems[0].fix.contains("rm .agentos/done"),
            "{:?}",
            problems[0]
        );
        assert_eq!(
            problems[0].to_string(),
            format!(
                "`.agentos/done` is a symbolic link (to `{}`)",
                dir.path().display()
            )
        );
        assert_eq!(problems[2].what, "is not a regular file");
    }

    #[test]
    fn the_folder_itself_may_not_be_a_link() {
        let (dir, tree) = tree();
        fs::rename(&tree.dir, dir.path().join("elsewhere")).expect("move");
        symlink("../elsewhere", &tree.dir).expect("link");
        assert_eq!(paths(&tree), [".agentos"]);
    }

    #[test]
    fn rejected_task_links_are_the_queue_s_and_shared_settings_may_link_inside() {
        let (dir, tree) = tree();
        symlink("/etc/passwd", tree.state_dir(State::Failed).join("x.md")).expect("link");
        symlink("/etc/passwd", tree.state_dir(State::Todo).join("y.md")).expect("link");
        fs::write(tree.repo_root.join("AGENTS.md"), "shared\n").expect("write");
        let agent = tree.agents_dir().join("default");
        fs::create_dir_all(&agent).expect("mkdir");
        symlink("../../../AGENTS.md", agent.join("AGENT.md")).expect("link");
        assert_eq!(paths(&tree), Vec::<String>::new());
        let secret = dir.path().join("id_ed25519");
        fs::write(&secret, "PRIVATE\n").expect("write");
        symlink(&secret, tree.agents_dir().join("default/agent.toml")).expect("link");
        symlink(dir.path(), tree.dir.join("templates")).expect("link");
        let problems = check_state_paths(&tree);
        let found: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            found,
            [".agentos/agents/default/agent.toml", ".agentos/templates"]
        );
        assert!(problems[0].what.contains("outside the repository"));
    }
}
