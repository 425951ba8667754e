//! Trust nothing it reads (#15): a cloned repository, an agent or a stray process
//! must not make git agentos touch anything outside its own state. One file per
//! kind of attack; each test reproduces one case of the issue.
mod branches;
mod cancel;
mod claim_records;
mod door;
mod hostile_clone;
mod ids_and_lock;
mod records;
mod state_paths;
mod submodules;
mod token_scope;
mod worktree_files;
mod worktree_git;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One entry of a folder as it is on disk: a file's bytes and mode, a folder's
/// mode, or where a symbolic link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    File(Vec<u8>, u32),
    Dir(u32),
    Link(PathBuf),
}

/// Everything under `root`, byte for byte, never following a link; the folders
/// named in `skip` (directly under `root`) are left out.
pub fn snapshot(root: &Path, skip: &[&str]) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            if dir == root && skip.iter().any(|s| rel == Path::new(s)) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).expect("lstat");
            let mode = meta.permissions().mode();
            let node = if meta.file_type().is_symlink() {
                Node::Link(std::fs::read_link(&path).expect("readlink"))
            } else if meta.is_dir() {
                stack.push(path.clone());
                Node::Dir(mode)
            } else {
                Node::File(std::fs::read(&path).unwrap_or_default(), mode)
            };
            out.insert(rel, node);
        }
    }
    out
}

/// Replace whatever is at `at` with a symbolic link to `to`.
pub fn link(at: &Path, to: &str) {
    if let Ok(meta) = std::fs::symlink_metadata(at) {
        if meta.is_dir() {
            std::fs::remove_dir_all(at).expect("remove the folder");
        } else {
            std::fs::remove_file(at).expect("remove the file");
        }
    }
    if let Some(parent) = at.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::os::unix::fs::symlink(to, at).expect("symlink");
}

/// What a person keeps beside the repository and in their home: a sibling
/// project with files, and a `.bashrc` (the targets of the attacks).
pub fn plant_outside(top: &Path) {
    let sibling = top.join("sibling");
    for dir in ["done", "failed", "runs", "todo", "doing", "worktrees"] {
        std::fs::create_dir_all(sibling.join(dir)).expect("mkdir");
    }
    std::fs::write(sibling.join("project.txt"), "a sibling project\n").expect("write");
    std::fs::write(sibling.join("todo/notes.md"), "my notes\n").expect("write");
    let home = top.join("home");
    std::fs::create_dir_all(home.join(".ssh")).expect("mkdir");
    std::fs::write(home.join(".bashrc"), "export PS1='$ '\n").expect("write");
    std::fs::write(home.join(".ssh/id_ed25519"), "PRIVATE KEY\n").expect("write");
}

/// Run the default agent without the sandbox, on purpose (`sandbox = "off"` in
/// its agent.toml, which git does not track here): for the attacks the kernel
/// would refuse, so that the dispatcher's own checks are what is tested.
pub fn unsandboxed(repo: &crate::support::TestRepo) {
    repo.write(".agentos/agents/default/agent.toml", "sandbox = \"off\"\n");
}
