//! The only module that imports git2: finding the repository, resolving revisions.
use crate::error::{CmdResult, CommandError};
use std::path::{Path, PathBuf};

/// The repository git agentos works on: always the main working tree, even when
/// started from a linked worktree (so every worktree shares one `.agentos/`).
pub struct Repo {
    /// The repository as seen from where the command started (its own HEAD).
    repo: git2::Repository,
    /// The main working tree's top folder.
    root: PathBuf,
}

impl Repo {
    /// Find the repository that contains `start`.
    pub fn discover(start: &Path) -> CmdResult<Repo> {
        let found = git2::Repository::discover(start).map_err(|e| {
            CommandError::env(format!(
                "`{}` is not inside a git repository ({})",
                start.display(),
                e.message()
            ))
            .hint("run git agentos inside a git repository, or create one with `git init`")
        })?;
        let main = if found.is_worktree() {
            git2::Repository::open(found.commondir()).map_err(|e| {
                CommandError::env(format!(
                    "cannot open the main repository of worktree `{}`: {}",
                    start.display(),
                    e.message()
                ))
            })?
        } else {
            git2::Repository::open(found.path()).map_err(|e| {
                CommandError::env(format!(
                    "cannot open `{}`: {}",
                    found.path().display(),
                    e.message()
                ))
            })?
        };
        let root = main
            .workdir()
            .ok_or_else(|| {
                CommandError::env(format!("`{}` is a bare repository", main.path().display()))
                    .hint("git agentos needs a repository with a working tree")
            })?
            .to_path_buf();
        let root = root.canonicalize().unwrap_or(root);
        let repo = found;
        Ok(Repo { repo, root })
    }

    /// The main working tree's top folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The commit HEAD points at and the branch it is on (None when detached or unborn).
    pub fn head(&self) -> CmdResult<(String, Option<String>)> {
        let head = self.repo.head().map_err(|e| {
            CommandError::env(format!("HEAD does not point at a commit: {}", e.message()))
                .hint("make a first commit, or pass --base REV")
        })?;
        let commit = head.peel_to_commit().map_err(|e| {
            CommandError::env(format!("HEAD does not point at a commit: {}", e.message()))
        })?;
        let branch = if head.is_branch() {
            head.shorthand().ok().map(str::to_string)
        } else {
            None
        };
        Ok((commit.id().to_string(), branch))
    }

    /// Resolve a revision (branch, tag, sha, `HEAD~1`…) to a commit id.
    pub fn resolve(&self, rev: &str) -> CmdResult<String> {
        let object = self.repo.revparse_single(rev).map_err(|e| {
            CommandError::invalid(format!(
                "base `{rev}` does not name a commit here: {}",
                e.message()
            ))
            .hint("name a branch, tag or commit that exists in this repository")
        })?;
        let commit = object.peel_to_commit().map_err(|e| {
            CommandError::invalid(format!("base `{rev}` is not a commit: {}", e.message()))
        })?;
        Ok(commit.id().to_string())
    }

    /// The main repository (worktrees and branches are managed from it).
    fn main(&self) -> CmdResult<git2::Repository> {
        git2::Repository::open(&self.root).map_err(|e| git_err("open the repository", &e))
    }

    /// Hold this while adding, removing or pruning worktrees. `git worktree add`
    /// reads every other worktree's record under `.git/worktrees/`, and one being
    /// written at the same moment (by a parallel worker, or `clean` or `verify` in
    /// another process) makes it fail with "failed to read .../commondir". An
    /// exclusive `flock` on a file in the common git folder serializes them across
    /// threads (each call opens its own file) and processes; the kernel drops it
    /// when the holder dies.
    fn worktree_guard(&self) -> CmdResult<std::fs::File> {
        let path = self.repo.commondir().join("agentos-worktrees.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| crate::error::io_error("open the worktree lock", &path, e))?;
        file.lock()
            .map_err(|e| crate::error::io_error("lock", &path, e))?;
        Ok(file)
    }

    /// Create (or reset) the branch `agentos/<id>` at `base` and check it out in a
    /// fresh worktree at `path`, replacing whatever was there.
    ///
    /// The checkout is `git worktree add`: measured in one run here, libgit2's
    /// checkout took 896 ms against the CLI's 442 ms on a 10,000-file repository
    /// (and 331 against 412 ms on 1,000 files); the CLI scales better.
    pub fn fresh_worktree(&self, id: &str, base: &str, path: &Path) -> CmdResult<()> {
        let _guard = self.worktree_guard()?;
        self.remove_worktree_locked(path)?;
        oid(base)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| crate::error::io_error("create", parent, e))?;
        }
        let path_arg = utf8(path)?;
        if let Some(slot) = pooled_slot(path) {
            match self.reuse_worktree(&slot, id, base, path) {
                Ok(()) => return Ok(()),
                // Whatever went wrong, a fresh checkout below is always right.
                Err(_) => {
                    let _ = self.remove_worktree_locked(&slot);
                    let _ = self.remove_worktree_locked(path);
                }
            }
        }
        self.git_cli(&[
            "worktree",
            "add",
            "--quiet",
            "--no-track",
            "-B",
            &task_branch(id),
            path_arg,
            base,
        ])
        .map(|_| ())
    }

    /// Turn a recycled worktree into the task's: move it into place, put the
    /// branch at `base` with every tracked file as the base has it (`checkout -f`
    /// rewrites only the files that differ), then delete every untracked and
    /// ignored file (`clean -ffdx`). The result equals a fresh checkout of `base`.
    fn reuse_worktree(&self, slot: &Path, id: &str, base: &str, path: &Path) -> CmdResult<()> {
        self.move_worktree(slot, path)?;
        self.git_cli_in(
            path,
            &[
                "checkout",
                "--quiet",
                "--force",
                "-B",
                &task_branch(id),
                base,
            ],
        )?;
        self.git_cli_in(path, &["clean", "--quiet", "-ffdx"])?;
        let head = git2::Repository::open(path)
            .and_then(|wt| wt.head()?.peel_to_commit().map(|c| c.id().to_string()))
            .map_err(|e| git_err("read the recycled worktree's HEAD", &e))?;
        if head != base {
            return Err(CommandError::env(format!(
                "the recycled worktree {} is at {head} instead of {base}",
                path.display()
            )));
        }
        Ok(())
    }

    /// `git worktree move` without a process: rename the folder and point git's
    /// record (`.git/worktrees/<name>/gitdir`) at its new place, as git does. A
    /// worktree linked by relative paths goes through git itself.
    fn move_worktree(&self, from: &Path, to: &Path) -> CmdResult<()> {
        let link = std::fs::read_to_string(from.join(".git")).unwrap_or_default();
        let admin = link.trim().strip_prefix("gitdir: ").map(PathBuf::from);
        match admin {
            Some(admin)
                if admin.is_absolute() && admin.join("gitdir").is_file() && to.is_absolute() =>
            {
                std::fs::rename(from, to).map_err(|e| crate::error::io_error("move", from, e))?;
                let record = admin.join("gitdir");
                crate::durable::write(
                    &record,
                    format!("{}\n", to.join(".git").display()).as_bytes(),
                )
                .map_err(|e| crate::error::io_error("write", &record, e))
            }
            _ => self
                .git_cli(&["worktree", "move", utf8(from)?, utf8(to)?])
                .map(|_| ()),
        }
    }

    /// Done with a task's worktree: keep it for the next task (detached, in
    /// `worktrees/.pool/`) while the pool has room, else remove it. The branch stays.
    pub fn retire_worktree(&self, path: &Path) -> CmdResult<()> {
        let _guard = self.worktree_guard()?;
        let pool = pool_dir(path);
        let room = std::fs::read_dir(&pool).map_or(0, |d| d.count()) < POOL_SIZE;
        if room && path.join(".git").is_file() {
            let slot = pool.join(format!("slot-{}", crate::timestamp::Timestamp::now().0));
            let moved = std::fs::create_dir_all(&pool).is_ok()
                && self
                    .git_cli_in(path, &["checkout", "--quiet", "--detach"])
                    .is_ok()
                && self.move_worktree(path, &slot).is_ok();
            if moved {
                return Ok(());
            }
        }
        self.remove_worktree_locked(path)
    }

    /// The git CLI in another working tree (a task's worktree).
    fn git_cli_in(&self, dir: &Path, args: &[&str]) -> CmdResult<String> {
        let mut full = vec!["-C", utf8(dir)?];
        full.extend_from_slice(args);
        self.git_cli(&full)
    }

    /// Run the git CLI in the main working tree, away from any GIT_* variables of
    /// the caller (a hook runs with GIT_DIR set). Returns stdout.
    fn git_cli(&self, args: &[&str]) -> CmdResult<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_COMMON_DIR")
            .env_remove("GIT_PREFIX")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| {
                CommandError::env(format!("cannot run git: {e}"))
                    .hint("install git and put it on PATH")
            })?;
        if !out.status.success() {
            return Err(CommandError::env(format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Check the task branch out (as it is) in a worktree at `path`, for a step
    /// after the commit whose worktree is gone.
    pub fn worktree_at_branch(&self, id: &str, path: &Path) -> CmdResult<()> {
        let _guard = self.worktree_guard()?;
        self.remove_worktree_locked(path)?;
        self.git_cli(&["worktree", "add", "--quiet", utf8(path)?, &task_branch(id)])
            .map(|_| ())
    }

    /// Reuse the task's worktree when it is intact and on its branch (after a crash);
    /// otherwise make a fresh one. Returns true when it was reused.
    pub fn ensure_worktree(&self, id: &str, base: &str, path: &Path) -> CmdResult<bool> {
        if let Ok(wt) = git2::Repository::open(path) {
            let on_branch = wt
                .head()
                .ok()
                .and_then(|h| {
                    h.name()
                        .ok()
                        .map(|n| n == format!("refs/heads/{}", task_branch(id)))
                })
                .unwrap_or(false);
            if on_branch && wt.is_worktree() {
                return Ok(true);
            }
        }
        self.fresh_worktree(id, base, path)?;
        Ok(false)
    }

    /// Remove a worktree folder and git's record of it. The branch stays.
    pub fn remove_worktree(&self, path: &Path) -> CmdResult<()> {
        let _guard = self.worktree_guard()?;
        self.remove_worktree_locked(path)
    }

    /// Delete the folder, then prune every record whose folder is gone (a record's
    /// name need not match its folder: recycled worktrees keep their first name).
    fn remove_worktree_locked(&self, path: &Path) -> CmdResult<()> {
        if std::fs::symlink_metadata(path).is_ok() {
            std::fs::remove_dir_all(path)
                .map_err(|e| crate::error::io_error("remove the worktree", path, e))?;
        }
        let main = self.main()?;
        let names = main
            .worktrees()
            .map_err(|e| git_err("list worktrees", &e))?;
        for name in names.iter().flatten().flatten() {
            if let Ok(wt) = main.find_worktree(name) {
                if wt.validate().is_err() {
                    // Ours (under the worktrees folder) go even when locked: a
                    // `git worktree add` killed midway leaves its record locked
                    // ("initializing"). Anyone else's lock is respected.
                    let ours = worktrees_dir(path).is_some_and(|dir| wt.path().starts_with(dir));
                    let mut opts = git2::WorktreePruneOptions::new();
                    opts.working_tree(true).locked(ours);
                    wt.prune(Some(&mut opts))
                        .map_err(|e| git_err(&format!("prune the worktree {name}"), &e))?;
                }
            }
        }
        Ok(())
    }

    /// Prune git's records of worktrees whose folders are gone.
    pub fn prune_worktrees(&self) -> CmdResult<Vec<String>> {
        let _guard = self.worktree_guard()?;
        let main = self.main()?;
        let mut pruned = Vec::new();
        let names = main
            .worktrees()
            .map_err(|e| git_err("list worktrees", &e))?;
        for name in names.iter().flatten().flatten() {
            if let Ok(wt) = main.find_worktree(name) {
                if wt.validate().is_err() && wt.prune(None).is_ok() {
                    pruned.push(name.to_string());
                }
            }
        }
        Ok(pruned)
    }

    /// Remove the lock files a killed dispatcher can leave on a task's worktree
    /// and branch (`index.lock`, `HEAD.lock`, `refs/heads/agentos/<id>.lock`). Only
    /// for a resume: the dispatcher lock is held and the earlier attempt's agent is
    /// gone, so nothing else can be writing them. Returns what was removed.
    pub fn clear_stale_locks(&self, id: &str, worktree: &Path) -> Vec<PathBuf> {
        let mut candidates = vec![self
            .repo
            .commondir()
            .join("refs/heads")
            .join(format!("{}.lock", task_branch(id)))];
        if let Ok(wt) = git2::Repository::open(worktree) {
            candidates.push(wt.path().join("index.lock"));
            candidates.push(wt.path().join("HEAD.lock"));
        }
        candidates
            .into_iter()
            .filter(|p| std::fs::remove_file(p).is_ok())
            .collect()
    }

    /// Commit everything left in the worktree (new, changed, deleted files; ignored
    /// files stay out) on its branch. None when there was nothing to commit.
    pub fn commit_all(&self, worktree: &Path, message: &str) -> CmdResult<Option<String>> {
        let repo = git2::Repository::open(worktree)
            .map_err(|e| git_err(&format!("open the worktree {}", worktree.display()), &e))?;
        let mut index = repo
            .index()
            .map_err(|e| git_err("read the worktree's index", &e))?;
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .and_then(|_| index.update_all(["*"], None))
            .and_then(|_| index.write())
            .map_err(|e| git_err("stage the agent's changes", &e))?;
        let tree_id = index
            .write_tree()
            .map_err(|e| git_err("write the tree", &e))?;
        let head = repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|e| match e.code() {
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound => CommandError::env(
                    format!(
                        "the worktree's branch is gone (deleted while the agent worked?): {}; nothing was committed",
                        e.message()
                    ),
                )
                .hint("run the task again with `git agentos retry ID`"),
                _ => git_err("read the worktree's HEAD", &e),
            })?;
        if head.tree_id() == tree_id {
            return Ok(None);
        }
        let tree = repo
            .find_tree(tree_id)
            .map_err(|e| git_err("read the tree", &e))?;
        let sig = signature(&repo)?;
        let id = repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &[&head])
            .map_err(|e| git_err("commit the agent's changes", &e))?;
        Ok(Some(id.to_string()))
    }

    /// The commit the task branch points at.
    pub fn branch_commit(&self, id: &str) -> Option<String> {
        let main = self.main().ok()?;
        let branch = main
            .find_branch(&task_branch(id), git2::BranchType::Local)
            .ok()?;
        branch
            .get()
            .peel_to_commit()
            .ok()
            .map(|c| c.id().to_string())
    }

    /// True when the task branch's tree differs from the base commit's tree.
    pub fn branch_differs_from(&self, id: &str, base: &str) -> CmdResult<bool> {
        let main = self.main()?;
        let base_tree = main
            .find_commit(oid(base)?)
            .and_then(|c| c.tree())
            .map_err(|e| git_err(&format!("read the base commit {base}"), &e))?;
        let branch = main
            .find_branch(&task_branch(id), git2::BranchType::Local)
            .and_then(|b| b.get().peel_to_tree())
            .map_err(|e| git_err(&format!("read the branch {}", task_branch(id)), &e))?;
        Ok(branch.id() != base_tree.id())
    }

    /// Delete a local branch.
    pub fn delete_branch(&self, name: &str) -> CmdResult<()> {
        let main = self.main()?;
        let mut branch = main
            .find_branch(name, git2::BranchType::Local)
            .map_err(|e| git_err(&format!("find the branch {name}"), &e))?;
        branch
            .delete()
            .map_err(|e| git_err(&format!("delete the branch {name}"), &e))
    }

    /// Local branches named `agentos/…`, with the commit each points at.
    pub fn task_branches(&self) -> CmdResult<Vec<(String, String)>> {
        let main = self.main()?;
        let mut out = Vec::new();
        let branches = main
            .branches(Some(git2::BranchType::Local))
            .map_err(|e| git_err("list branches", &e))?;
        for (branch, _) in branches.flatten() {
            let Ok(Some(name)) = branch.name() else {
                continue;
            };
            if let (Some(_), Ok(commit)) =
                (name.strip_prefix("agentos/"), branch.get().peel_to_commit())
            {
                out.push((name.to_string(), commit.id().to_string()));
            }
        }
        Ok(out)
    }

    /// True when `commit` is reachable from some remote-tracking branch (pushed).
    pub fn is_pushed(&self, commit: &str) -> bool {
        let Ok(main) = self.main() else { return false };
        let Ok(target) = oid(commit) else {
            return false;
        };
        let Ok(refs) = main.references_glob("refs/remotes/*") else {
            return false;
        };
        let tips: Vec<git2::Oid> = refs.flatten().filter_map(|r| r.target()).collect();
        tips.into_iter()
            .any(|tip| tip == target || main.graph_descendant_of(tip, target).unwrap_or(false))
    }

    /// True when `commit` is reachable from a local branch other than `branch`.
    pub fn is_merged_elsewhere(&self, branch: &str, commit: &str) -> bool {
        let Ok(main) = self.main() else { return false };
        let Ok(target) = oid(commit) else {
            return false;
        };
        let Ok(branches) = main.branches(Some(git2::BranchType::Local)) else {
            return false;
        };
        let tips: Vec<git2::Oid> = branches
            .flatten()
            .filter(|(b, _)| b.name().ok().flatten() != Some(branch))
            .filter_map(|(b, _)| b.get().target())
            .collect();
        tips.into_iter()
            .any(|tip| tip == target || main.graph_descendant_of(tip, target).unwrap_or(false))
    }

    /// Where git runs this repository's hooks: `core.hooksPath` (relative to the
    /// top folder when relative) or `.git/hooks`. True when from core.hooksPath.
    pub fn hooks_dir(&self) -> CmdResult<(PathBuf, bool)> {
        let config = self
            .repo
            .config()
            .map_err(|e| git_err("read the configuration", &e))?;
        if let Ok(path) = config.get_path("core.hooksPath") {
            let path = if path.is_absolute() {
                path
            } else {
                self.root.join(path)
            };
            return Ok((path, true));
        }
        Ok((self.repo.commondir().join("hooks"), false))
    }

    /// HEAD's commit as the post-commit hook sees it.
    pub fn head_commit_info(&self) -> CmdResult<CommitInfo> {
        let head = self.repo.head().map_err(|e| git_err("read HEAD", &e))?;
        let branch = head
            .is_branch()
            .then(|| head.shorthand().ok().map(str::to_string))
            .flatten();
        let commit = head
            .peel_to_commit()
            .map_err(|e| git_err("read HEAD's commit", &e))?;
        let tree = commit.tree().map_err(|e| git_err("read HEAD's tree", &e))?;
        let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let diff = self
            .repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
            .map_err(|e| git_err("diff HEAD with its parent", &e))?;
        let mut files = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(path) = file.path().and_then(|p| p.to_str()) {
                    if !files.iter().any(|f: &String| f == path) {
                        files.push(path.to_string());
                    }
                }
            }
        }
        let author = commit.author();
        let message = commit.message().unwrap_or_default().to_string();
        let trailers = git2::message_trailers_strs(&message)
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(CommitInfo {
            sha: commit.id().to_string(),
            subject: commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_string(),
            trailers,
            // Amend, rebase and cherry-pick keep the author, the author date and
            // (unless reworded) the subject.
            change_key: format!(
                "{} <{}> {} {}",
                author.name().unwrap_or_default(),
                author.email().unwrap_or_default(),
                author.when().seconds(),
                commit.summary().ok().flatten().unwrap_or_default()
            ),
            files,
            branch,
        })
    }

    /// True when `git status` sees nothing to commit in the worktree, untracked
    /// files included (ignored ones are never part of a change).
    fn worktree_is_clean(&self, worktree: &Path) -> bool {
        self.git_cli_in(
            worktree,
            &["status", "--porcelain", "-z", "--untracked-files=all"],
        )
        .is_ok_and(|out| out.is_empty())
    }

    /// Everything that differs from `base`: in the worktree (commits on the task
    /// branch plus anything left uncommitted, untracked files included; ignored
    /// files are not part of a change), or, when the worktree is gone, on the
    /// task branch. Renames are detected.
    pub fn changes(&self, id: &str, base: &str, worktree: &Path) -> CmdResult<Vec<Change>> {
        let in_worktree = worktree.join(".git").exists();
        let repo = if in_worktree {
            git2::Repository::open(worktree)
                .map_err(|e| git_err(&format!("open the worktree {}", worktree.display()), &e))?
        } else {
            self.main()?
        };
        let base_tree = repo
            .find_commit(oid(base)?)
            .and_then(|c| c.tree())
            .map_err(|e| git_err(&format!("read the base commit {base}"), &e))?;
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true)
            .show_untracked_content(true);
        // A clean worktree (the usual case: the dispatcher has committed) is its
        // HEAD commit: diff trees, no walk of the files. `git status` decides, as it
        // checks the files in parallel threads where libgit2 takes one.
        let clean_head = if in_worktree && self.worktree_is_clean(worktree) {
            repo.head().and_then(|h| h.peel_to_tree()).ok()
        } else {
            None
        };
        let mut diff = if let Some(head_tree) = &clean_head {
            repo.diff_tree_to_tree(Some(&base_tree), Some(head_tree), Some(&mut opts))
        } else if in_worktree {
            repo.diff_tree_to_workdir_with_index(Some(&base_tree), Some(&mut opts))
        } else {
            let branch = repo
                .find_branch(&task_branch(id), git2::BranchType::Local)
                .and_then(|b| b.get().peel_to_tree())
                .map_err(|e| git_err(&format!("read the branch {}", task_branch(id)), &e))?;
            repo.diff_tree_to_tree(Some(&base_tree), Some(&branch), Some(&mut opts))
        }
        .map_err(|e| git_err("diff the change", &e))?;
        let mut find = git2::DiffFindOptions::new();
        find.renames(true).for_untracked(true);
        diff.find_similar(Some(&mut find))
            .map_err(|e| git_err("find renames", &e))?;
        let blob = |id: git2::Oid| -> Option<Vec<u8>> {
            (!id.is_zero())
                .then(|| repo.find_blob(id).ok().map(|b| b.content().to_vec()))
                .flatten()
        };
        let mut out = Vec::new();
        for delta in diff.deltas() {
            let new_path = delta
                .new_file()
                .path()
                .map(|p| p.to_string_lossy().into_owned());
            let old_path = delta
                .old_file()
                .path()
                .map(|p| p.to_string_lossy().into_owned());
            let kind = match delta.status() {
                git2::Delta::Added | git2::Delta::Untracked => ChangeKind::Added,
                git2::Delta::Deleted => ChangeKind::Deleted,
                git2::Delta::Renamed => ChangeKind::Renamed,
                git2::Delta::Typechange => ChangeKind::TypeChanged,
                git2::Delta::Modified if delta.old_file().mode() != delta.new_file().mode() => {
                    ChangeKind::TypeChanged
                }
                git2::Delta::Modified => ChangeKind::Modified,
                _ => continue,
            };
            let path = new_path.clone().or(old_path.clone()).unwrap_or_default();
            let on_disk = worktree.join(&path);
            let is_link = delta.new_file().mode() == git2::FileMode::Link
                || (in_worktree
                    && std::fs::symlink_metadata(&on_disk)
                        .map(|m| m.file_type().is_symlink())
                        .unwrap_or(false));
            let symlink_to = if kind == ChangeKind::Deleted || !is_link {
                None
            } else if in_worktree {
                std::fs::read_link(&on_disk)
                    .ok()
                    .map(|t| t.to_string_lossy().into_owned())
            } else {
                blob(delta.new_file().id()).map(|b| String::from_utf8_lossy(&b).into_owned())
            };
            let new_text = match kind {
                ChangeKind::Deleted => None,
                _ if in_worktree && !is_link => std::fs::read(&on_disk).ok(),
                _ => blob(delta.new_file().id()),
            };
            out.push(Change {
                kind,
                from: if kind == ChangeKind::Renamed {
                    old_path
                } else {
                    None
                },
                old_text: blob(delta.old_file().id()),
                new_text,
                path,
                symlink_to,
            });
        }
        Ok(out)
    }

    /// Every file and folder path in a commit's tree (for "did you mean").
    pub fn tree_paths(&self, commit: &str) -> CmdResult<Vec<String>> {
        let main = self.main()?;
        let tree = main
            .find_commit(oid(commit)?)
            .and_then(|c| c.tree())
            .map_err(|e| git_err(&format!("read the commit {commit}"), &e))?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if let Ok(name) = entry.name() {
                out.push(format!("{dir}{name}"));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(|e| git_err("walk the tree", &e))?;
        Ok(out)
    }

    /// The URL of a remote, if it exists.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        let main = self.main().ok()?;
        let remote = main.find_remote(name).ok()?;
        remote.url().ok().map(str::to_string)
    }

    /// Push `agentos/<id>` to `remote` (forced: the branch belongs to the task) and
    /// confirm that the remote's ref now equals the local one. HTTPS remotes get
    /// the token through the credential callback, SSH remotes the user's agent;
    /// each is tried once. Returns the pushed commit.
    pub fn push_task_branch(
        &self,
        remote_name: &str,
        id: &str,
        token: Option<&str>,
    ) -> Result<String, String> {
        let main = self.main().map_err(|e| e.message)?;
        let branch = task_branch(id);
        let local = main
            .find_branch(&branch, git2::BranchType::Local)
            .ok()
            .and_then(|b| b.get().target())
            .ok_or_else(|| format!("the branch {branch} does not exist"))?;
        let mut remote = main
            .find_remote(remote_name)
            .map_err(|e| format!("there is no remote `{remote_name}`: {}", e.message()))?;
        let refspec = format!("+refs/heads/{branch}:refs/heads/{branch}");
        let rejected = std::cell::RefCell::new(None::<String>);
        {
            let mut callbacks = credentials(token);
            callbacks.push_update_reference(|refname, status| {
                if let Some(message) = status {
                    *rejected.borrow_mut() = Some(format!("{refname}: {message}"));
                }
                Ok(())
            });
            let mut opts = git2::PushOptions::new();
            opts.remote_callbacks(callbacks);
            remote
                .push(&[refspec.as_str()], Some(&mut opts))
                .map_err(|e| format!("git push to `{remote_name}` failed: {}", e.message()))?;
        }
        if let Some(reason) = rejected.into_inner() {
            return Err(format!(
                "the remote `{remote_name}` rejected the push: {reason}"
            ));
        }
        remote
            .connect_auth(git2::Direction::Fetch, Some(credentials(token)), None)
            .map_err(|e| {
                format!(
                    "cannot read back `{remote_name}` after the push: {}",
                    e.message()
                )
            })?;
        let there = remote
            .list()
            .map_err(|e| format!("cannot list the refs of `{remote_name}`: {}", e.message()))?
            .iter()
            .find(|h| h.name() == format!("refs/heads/{branch}"))
            .map(|h| h.oid());
        let _ = remote.disconnect();
        match there {
            Some(oid) if oid == local => Ok(local.to_string()),
            Some(oid) => Err(format!(
                "after the push, `{remote_name}` has {branch} at {oid}, not {local}"
            )),
            None => Err(format!("after the push, `{remote_name}` has no {branch}")),
        }
    }

    /// True when `name` is a local branch.
    pub fn is_local_branch(&self, name: &str) -> bool {
        self.repo.find_branch(name, git2::BranchType::Local).is_ok()
    }
}

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    Renamed,
    /// File ↔ symlink ↔ submodule, or the executable bit.
    TypeChanged,
}

/// One changed path between the base commit and the task's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub path: String,
    /// For renames, where it came from.
    pub from: Option<String>,
    /// Where a symlink points, when the new side is one.
    pub symlink_to: Option<String>,
    pub old_text: Option<Vec<u8>>,
    pub new_text: Option<Vec<u8>>,
}

/// HEAD's commit, as the post-commit hook needs it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub sha: String,
    pub subject: String,
    pub trailers: Vec<(String, String)>,
    /// What stays the same when the commit is amended, rebased or cherry-picked.
    pub change_key: String,
    /// Paths the commit changed (both sides of renames).
    pub files: Vec<String>,
    pub branch: Option<String>,
}

/// The branch a task's work goes on.
/// Finished worktrees kept for reuse, at most.
const POOL_SIZE: usize = 4;

/// `worktrees/.pool/` beside a task's worktree.
fn pool_dir(worktree: &Path) -> PathBuf {
    worktree
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(".pool")
}

/// The folder that holds task worktrees, from a task's or a pooled one's path.
fn worktrees_dir(path: &Path) -> Option<&Path> {
    let parent = path.parent()?;
    if parent.file_name().is_some_and(|n| n == ".pool") {
        parent.parent()
    } else {
        Some(parent)
    }
}

/// A recycled worktree to take, if the pool has one.
fn pooled_slot(worktree: &Path) -> Option<PathBuf> {
    let mut slots: Vec<PathBuf> = std::fs::read_dir(pool_dir(worktree))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    slots.sort();
    slots.pop()
}

fn utf8(path: &Path) -> CmdResult<&str> {
    path.to_str().ok_or_else(|| {
        CommandError::env(format!("the worktree path {} is not UTF-8", path.display()))
    })
}

pub fn task_branch(id: &str) -> String {
    format!("agentos/{id}")
}

/// Credentials, each kind offered once (a wrong token must not loop).
fn credentials(token: Option<&str>) -> git2::RemoteCallbacks<'_> {
    let mut callbacks = git2::RemoteCallbacks::new();
    let mut tried = false;
    callbacks.credentials(move |_url, username, allowed| {
        if tried {
            return Err(git2::Error::from_str("authentication failed"));
        }
        tried = true;
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            if let Some(token) = token {
                return git2::Cred::userpass_plaintext("x-access-token", token);
            }
        }
        if allowed.contains(git2::CredentialType::SSH_KEY) {
            return git2::Cred::ssh_key_from_agent(username.unwrap_or("git"));
        }
        git2::Cred::default()
    });
    callbacks
}

fn oid(sha: &str) -> CmdResult<git2::Oid> {
    git2::Oid::from_str(sha)
        .map_err(|e| CommandError::env(format!("`{sha}` is not a commit id: {}", e.message())))
}

fn git_err(action: &str, e: &git2::Error) -> CommandError {
    CommandError::env(format!("git: cannot {action}: {}", e.message()))
}

/// Who commits the agent's work: GIT_AUTHOR_NAME/EMAIL, else the repository's
/// user.name/user.email, else "git agentos".
fn signature(repo: &git2::Repository) -> CmdResult<git2::Signature<'static>> {
    let env_name = std::env::var("GIT_AUTHOR_NAME").ok();
    let env_email = std::env::var("GIT_AUTHOR_EMAIL").ok();
    let config = repo.config().ok();
    let from_config = |key: &str| config.as_ref().and_then(|c| c.get_string(key).ok());
    let name = env_name
        .or_else(|| from_config("user.name"))
        .unwrap_or_else(|| "git agentos".into());
    let email = env_email
        .or_else(|| from_config("user.email"))
        .unwrap_or_else(|| "agentos@localhost".into());
    git2::Signature::now(&name, &email).map_err(|e| git_err("make a commit signature", &e))
}
