//! What a task changed: every path that differs from its base, with both sides'
//! contents, from the worktree or (when it is gone) from the task branch.
use super::error::library;
use super::{oid, GitError, Repo};
use std::path::Path;

impl Repo {
    /// Everything that differs from `base`: in the worktree (commits on the task
    /// branch plus anything left uncommitted, untracked files included; ignored
    /// files and what a sparse checkout leaves out are not part of a change), read
    /// as a snapshot of its files (snapshot.rs) after the checks of
    /// [`Repo::task_worktree`]; or, when the worktree is gone, on the task branch.
    /// Renames are detected. Contents come from the object store, never from a
    /// path in the worktree.
    pub fn changes(&self, id: &str, base: &str, worktree: &Path) -> Result<Vec<Change>, GitError> {
        let main = self.main()?;
        let base_tree = main
            .find_commit(oid(base)?)
            .and_then(|c| c.tree())
            .map_err(|e| library(&format!("read the base commit {base}"), &e))?;
        let result = if worktree.is_dir() {
            let wt = self.task_worktree(id, worktree)?;
            // Before git opens anything there (a FIFO would block it). The
            // sizes matter only to a snapshot, which walks with them. The filter
            // drivers to turn off (git's configuration, no file of the
            // worktree) are looked up meanwhile.
            let drivers = super::trusted::checked_kinds_and_drivers(&wt, main.path())?;
            let head = self.task_tip(&main, id)?;
            // A clean worktree (the usual case: the dispatcher has committed) is
            // its HEAD: `git status` decides, as it checks the files on several
            // threads where libgit2 takes one; submodules (which would run git in
            // a repository the agent made) are not looked into.
            let clean = self
                .git_on_without(
                    &wt,
                    &drivers,
                    &[
                        "status",
                        "--porcelain",
                        "-z",
                        "--untracked-files=all",
                        "--ignore-submodules=all",
                    ],
                )
                .is_ok_and(|out| out.is_empty());
            if clean {
                head.tree_id()
            } else {
                self.snapshot(&main, &wt, &head)?.tree
            }
        } else {
            self.task_tip(&main, id)?.tree_id()
        };
        let result = main
            .find_tree(result)
            .map_err(|e| library("read the task's tree", &e))?;
        // libgit2's tree diff reads every subtree of both sides; the paths that
        // differ are found first, skipping the subtrees both share, and the
        // diff (renames, kinds) is taken over those paths alone.
        let differ = differing_paths(&main, &base_tree, &result)
            .map_err(|e| library("compare the trees", &e))?;
        if differ.is_empty() {
            return Ok(Vec::new());
        }
        let mut opts = git2::DiffOptions::new();
        opts.include_typechange(true);
        opts.disable_pathspec_match(true);
        for path in differ {
            opts.pathspec(path);
        }
        let mut diff = main
            .diff_tree_to_tree(Some(&base_tree), Some(&result), Some(&mut opts))
            .map_err(|e| library("diff the change", &e))?;
        let mut find = git2::DiffFindOptions::new();
        find.renames(true);
        diff.find_similar(Some(&mut find))
            .map_err(|e| library("find renames", &e))?;
        // Contents over the size limit are never loaded (no text is shown).
        let odb = main
            .odb()
            .map_err(|e| library("open the object store", &e))?;
        let blob = |id: git2::Oid| -> Option<Vec<u8>> {
            let small = odb
                .read_header(id)
                .is_ok_and(|(len, _)| len as u64 <= super::scan::MAX_FILE_BYTES);
            (!id.is_zero() && small)
                .then(|| main.find_blob(id).ok().map(|b| b.content().to_vec()))
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
            let new_text = match kind {
                ChangeKind::Deleted => None,
                _ => blob(delta.new_file().id()),
            };
            let is_link = delta.new_file().mode() == git2::FileMode::Link;
            let symlink_to = new_text
                .as_ref()
                .filter(|_| is_link)
                .map(|b| String::from_utf8_lossy(b).into_owned());
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

    /// True when the task branch descends from `base` (or is it): a branch reset
    /// below its base would revert work in its pull request.
    pub fn branch_descends_from(&self, id: &str, base: &str) -> Result<bool, GitError> {
        let main = self.main()?;
        let tip = self.task_tip(&main, id)?.id();
        let base = oid(base)?;
        Ok(tip == base
            || main
                .graph_descendant_of(tip, base)
                .map_err(|e| library("compare the branch with its base", &e))?)
    }

    /// Every file and folder path in a commit's tree (for "did you mean").
    pub fn tree_paths(&self, commit: &str) -> Result<Vec<String>, GitError> {
        let main = self.main()?;
        let tree = main
            .find_commit(oid(commit)?)
            .and_then(|c| c.tree())
            .map_err(|e| library(&format!("read the commit {commit}"), &e))?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if let Ok(name) = entry.name() {
                out.push(format!("{dir}{name}"));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(|e| library("walk the tree", &e))?;
        Ok(out)
    }
}

/// The paths (files, links, submodules; never folders) whose entries differ
/// between two trees. A subtree with the same id on both sides is never read.
/// Walked with a list of folders to visit, not recursion: an agent can nest
/// folders deeper than a thread's stack.
fn differing_paths(
    repo: &git2::Repository,
    old: &git2::Tree,
    new: &git2::Tree,
) -> Result<Vec<Vec<u8>>, git2::Error> {
    type Entries = std::collections::BTreeMap<Vec<u8>, (git2::Oid, i32)>;
    const TREE: i32 = 0o040000;
    let entries = |id: Option<git2::Oid>| -> Result<Entries, git2::Error> {
        let Some(id) = id else {
            return Ok(Entries::new());
        };
        Ok(repo
            .find_tree(id)?
            .iter()
            .map(|e| (e.name_bytes().to_vec(), (e.id(), e.filemode())))
            .collect())
    };
    let mut out = Vec::new();
    let mut folders = vec![(Some(old.id()), Some(new.id()), Vec::new())];
    while let Some((old, new, prefix)) = folders.pop() {
        let (olds, news) = (entries(old)?, entries(new)?);
        let names: std::collections::BTreeSet<&Vec<u8>> = olds.keys().chain(news.keys()).collect();
        for name in names {
            let (o, n) = (olds.get(name), news.get(name));
            if o == n {
                continue;
            }
            let path = [prefix.as_slice(), name.as_slice()].concat();
            let subtree = |side: Option<&(git2::Oid, i32)>| match side {
                Some((id, TREE)) => Some(*id),
                _ => None,
            };
            let (old_tree, new_tree) = (subtree(o), subtree(n));
            if old_tree.is_some() || new_tree.is_some() {
                folders.push((old_tree, new_tree, [path.as_slice(), b"/"].concat()));
            }
            let leaf =
                |side: Option<&(git2::Oid, i32)>| side.is_some_and(|(_, mode)| *mode != TREE);
            if leaf(o) || leaf(n) {
                out.push(path);
            }
        }
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::differing_paths;

    /// A tree from (path, contents) pairs; a path ending in `@` is a link.
    fn tree(repo: &git2::Repository, files: &[(&str, &str)]) -> git2::Oid {
        let mut index = git2::Index::new().expect("index");
        for (path, text) in files {
            let (path, mode) = match path.strip_suffix('@') {
                Some(link) => (link, 0o120000),
                None => (*path, 0o100644),
            };
            let id = repo.blob(text.as_bytes()).expect("blob");
            let mut entry = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode,
                uid: 0,
                gid: 0,
                file_size: 0,
                id,
                flags: 0,
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            };
            entry.flags = path.len().min(0xfff) as u16;
            index.add(&entry).expect("add");
        }
        index.write_tree_to(repo).expect("write tree")
    }

    #[test]
    fn only_the_differing_paths_and_never_a_shared_subtree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = git2::Repository::init(dir.path()).expect("init");
        let shared: Vec<(String, &str)> = (0..5).map(|i| (format!("same/f{i}"), "x")).collect();
        let mut old: Vec<(&str, &str)> = shared.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        let mut new = old.clone();
        old.extend([
            ("a/kept", "k"),
            ("a/changed", "1"),
            ("a/gone", "g"),
            ("becomes-dir", "file"),
            ("link@", "target"),
            ("old/only", "o"),
        ]);
        new.extend([
            ("a/kept", "k"),
            ("a/changed", "2"),
            ("a/added", "n"),
            ("becomes-dir/inside", "file"),
            ("link", "target"),
            ("fresh/deep/file", "f"),
        ]);
        let (old, new) = (tree(&repo, &old), tree(&repo, &new));
        let (old, new) = (
            repo.find_tree(old).expect("old"),
            repo.find_tree(new).expect("new"),
        );
        let out = differing_paths(&repo, &old, &new).expect("compare");
        let mut paths: Vec<String> = out
            .into_iter()
            .map(|p| String::from_utf8(p).expect("utf-8"))
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "a/added",
                "a/changed",
                "a/gone",
                "becomes-dir",
                "becomes-dir/inside",
                "fresh/deep/file",
                "link",
                "old/only",
            ]
        );
    }
    /// A folder nested thousands deep is walked without a deep stack (an agent
    /// can make one with relative paths): here on a thread with 256 KiB.
    #[test]
    fn a_deep_tree_is_walked_on_a_small_stack() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = git2::Repository::init(dir.path()).expect("init");
        let depth = 3000;
        let blob = repo.blob(b"deep\n").expect("blob");
        let mut builder = repo.treebuilder(None).expect("builder");
        builder.insert("f", blob, 0o100644).expect("insert");
        let mut id = builder.write().expect("write");
        for _ in 0..depth {
            let mut builder = repo.treebuilder(None).expect("builder");
            builder.insert("a", id, 0o040000).expect("insert");
            id = builder.write().expect("write");
        }
        let empty = repo
            .treebuilder(None)
            .and_then(|b| b.write())
            .expect("empty tree");
        let path = dir.path().to_path_buf();
        let found = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let repo = git2::Repository::open(&path).expect("open");
                let old = repo.find_tree(empty).expect("old");
                let new = repo.find_tree(id).expect("new");
                differing_paths(&repo, &old, &new).expect("compare")
            })
            .expect("spawn")
            .join()
            .expect("the walk finished");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0], [&b"a/".repeat(depth)[..], b"f"].concat());
    }
}
