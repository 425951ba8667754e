//! The fleet folder, `$AGENTOS_HOME/fleet/<name>`: one symbolic link per
//! repository (made by `ln -s` or `git agentos fleet add`). The folder is the
//! registry; this is the one reader of it, for `fleet list`, `watch --fleet`,
//! `status`, `list` and `friction --fleet` and the board. A link that points
//! nowhere, or at something that is not a repository, is a member with what is
//! wrong; it never stops a command.
use crate::queue::Tree;
use crate::workspace::Workspace;
use std::path::{Path, PathBuf};

/// One entry of the fleet folder.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its name: the link's (or, on the board outside a fleet, the repository
    /// folder's).
    pub name: String,
    /// What it was found as: the fleet link, or the repository's folder.
    pub origin: PathBuf,
    /// Its tree, or why it cannot be served.
    pub tree: Result<Tree, String>,
}

/// The fleet folder: `$AGENTOS_HOME/fleet`.
pub fn fleet_dir(home: &Path) -> PathBuf {
    home.join("fleet")
}

/// Every entry of the fleet folder, by name (none when the folder is missing).
/// Names that are not usable in an address (not lower-case letters, digits,
/// `.`, `_`, `-`) are shown with that problem.
pub fn members(dir: &Path) -> Vec<Member> {
    let mut names: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    names.sort();
    // A repository linked under two names is served once, under the first.
    let mut seen: Vec<(PathBuf, String)> = Vec::new();
    names
        .into_iter()
        .map(|(name, link)| {
            let tree = member(&name, &link).and_then(|tree| {
                let root = tree.repo_root.canonicalize().unwrap_or(tree.repo_root.clone());
                match seen.iter().find(|(r, _)| *r == root) {
                    Some((_, first)) => Err(format!(
                        "the same repository as `{first}`, served under that name; remove one of the links (`git agentos fleet rm {name}`)"
                    )),
                    None => {
                        seen.push((root, name.clone()));
                        Ok(tree)
                    }
                }
            });
            Member {
                name,
                origin: link,
                tree,
            }
        })
        .collect()
}

/// Where a link points (the link itself when it is not one).
pub fn target(link: &Path) -> PathBuf {
    std::fs::read_link(link).unwrap_or_else(|_| link.to_path_buf())
}

fn member(name: &str, link: &Path) -> Result<Tree, String> {
    if !crate::task::is_slug(name) {
        return Err(format!(
            "the name `{name}` cannot be used in an address; rename the link with lower-case letters, digits, `.`, `_` and `-`"
        ));
    }
    if std::fs::metadata(link).is_err() {
        return Err(format!(
            "points to {}, which does not exist; remove the link (`git agentos fleet rm {name}`) or restore the repository",
            target(link).display()
        ));
    }
    let ws = Workspace::discover(link).map_err(|e| format!("{e}"))?;
    if !ws.tree.is_initialised() {
        return Err(format!(
            "{} has no .agentos/ folder; run `git agentos init` there",
            ws.tree.repo_root.display()
        ));
    }
    ws.ensure_runtime().map_err(|e| format!("{e}"))?;
    Ok(ws.tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangling_links_and_bad_names_are_shown_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fleet_dir = fleet_dir(dir.path());
        std::fs::create_dir_all(&fleet_dir).expect("mkdir");
        std::os::unix::fs::symlink(dir.path().join("gone"), fleet_dir.join("gone")).expect("link");
        std::fs::create_dir(dir.path().join("plain")).expect("mkdir");
        std::os::unix::fs::symlink(dir.path().join("plain"), fleet_dir.join("Not Slug"))
            .expect("link");
        std::os::unix::fs::symlink(dir.path().join("plain"), fleet_dir.join("plain"))
            .expect("link");
        let repos = members(&fleet_dir);
        let names: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Not Slug", "gone", "plain"]);
        let problem = |i: usize| repos[i].tree.as_ref().err().cloned().unwrap_or_default();
        assert!(problem(0).contains("cannot be used in an address"));
        assert!(
            problem(1).contains("which does not exist"),
            "{}",
            problem(1)
        );
        assert!(repos[2].tree.is_err(), "not a git repository");
        assert!(members(&dir.path().join("no-fleet")).is_empty());
    }

    #[test]
    fn a_repository_linked_twice_is_served_once_under_the_first_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).expect("mkdir");
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(&repo)
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        std::fs::create_dir(repo.join(".agentos")).expect("mkdir");
        let fleet_dir = fleet_dir(dir.path());
        std::fs::create_dir_all(&fleet_dir).expect("mkdir");
        std::os::unix::fs::symlink(&repo, fleet_dir.join("a")).expect("link");
        std::os::unix::fs::symlink(&repo, fleet_dir.join("b")).expect("link");
        let repos = members(&fleet_dir);
        assert!(repos[0].tree.is_ok(), "{:?}", repos[0].tree.as_ref().err());
        let problem = repos[1].tree.as_ref().err().cloned().unwrap_or_default();
        assert!(
            problem.contains("the same repository as `a`") && problem.contains("fleet rm b"),
            "{problem}"
        );
    }
}
