//! `[sandbox] writable` judged as the kernel will see it: each path resolved the
//! way the rule is made (links followed, `..` taken after them), then refused
//! when it would open what the boundary exists to protect: the repository (the
//! main checkout, `.git`), the home folder itself or a folder holding it, a
//! dotfile or dot-folder directly in the home folder (`~/.bashrc`, `~/.ssh`,
//! `~/.config`: startup files, keys, configuration other programs run), and
//! anything beneath `~/.ssh`, `~/.gnupg` or `~/.claude`.
use std::path::{Component, Path, PathBuf};

/// Folders of the home folder nothing beneath which is ever writable.
const NEVER_BENEATH: [&str; 3] = [".ssh", ".gnupg", ".claude"];

/// `path` as the kernel resolves it: each existing prefix canonical (a link
/// followed before a `..` after it applies), the rest as written.
pub fn resolve(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for part in path.components() {
        match part {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
            }
        }
    }
    out
}

/// Why a writable path is refused, if it is (`resolved` from [`resolve`]).
pub fn refusal(resolved: &Path, repo_root: &Path, home: Option<&Path>) -> Option<String> {
    let root = resolve(repo_root);
    if root.starts_with(resolved) {
        return Some(format!(
            "contains the repository {}: the agent could write the main checkout and .git",
            root.display()
        ));
    }
    if resolved.starts_with(&root) {
        return Some(format!(
            "lies inside the repository {}: the agent writes only its worktree there",
            root.display()
        ));
    }
    let home = resolve(home?);
    if home.starts_with(resolved) {
        return Some("is your home folder, or holds it".into());
    }
    let dotted = resolved.parent() == Some(home.as_path())
        && resolved
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
    if dotted {
        return Some(
            "is a dotfile or dot-folder directly in your home folder (startup files, keys and \
             configuration that other programs run live there): name a folder inside it, such \
             as `~/.npm/_cacache`"
                .into(),
        );
    }
    NEVER_BENEATH
        .iter()
        .find(|name| resolved.starts_with(home.join(name)))
        .map(|name| format!("lies in `~/{name}`, which no agent may write"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_judged_as_the_kernel_resolves_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let top = resolve(dir.path());
        let home = top.join("home");
        let repo = home.join("work/repo");
        std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
        std::fs::create_dir_all(home.join(".cargo/registry")).expect("mkdir");
        std::fs::write(home.join(".bashrc"), "").expect("write");
        std::os::unix::fs::symlink(&repo, home.join("link")).expect("link");
        let judge = |p: &Path| refusal(&resolve(p), &repo, Some(&home));
        for refused in [
            home.join(".."),
            home.join("work/.."),
            home.join("link"),
            home.join("link/.git/hooks"),
            home.join("work/repo/../repo/.git"),
            home.clone(),
            home.join(".bashrc"),
            home.join(".ssh"),
            home.join(".ssh/authorized_keys"),
            home.join(".claude/settings.json"),
            home.join(".npm"),
            PathBuf::from("/"),
        ] {
            assert!(
                judge(&refused).is_some(),
                "{} was not refused",
                refused.display()
            );
        }
        for allowed in [
            home.join(".cargo/registry"),
            home.join(".npm/_cacache"),
            home.join(".cache/go-build"),
            top.join("opt/cache"),
        ] {
            assert_eq!(judge(&allowed), None, "{}", allowed.display());
        }
    }
}
