//! Target paths and globs: what a task's `targets` cover, and the closest target
//! to a path that is not covered ("did you mean").
//!
//! Rules, gitignore-style: a plain path covers itself and everything under it (a
//! folder target); `*` and `?` stay within one folder, `**` crosses folders; a glob
//! without a `/` matches at any depth. `./` prefixes and trailing slashes are
//! ignored. Matching is case-sensitive, as git is on Linux.
use crate::similarity::edit_distance;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A pattern that is not a valid glob, with globset's reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct GlobError(String);

/// True when a target uses glob syntax.
pub fn is_glob(target: &str) -> bool {
    target.contains(['*', '?', '['])
}

/// A target without `./`, `a/..` detours, or a trailing slash.
pub fn normalize(target: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The compiled targets of one task.
#[derive(Debug, Clone)]
pub struct Targets {
    /// Normalised, in the task's order.
    pub list: Vec<String>,
    set: GlobSet,
}

impl Targets {
    pub fn new(targets: &[String]) -> Result<Targets, GlobError> {
        let list: Vec<String> = targets.iter().map(|t| normalize(t)).collect();
        let globs: Vec<String> = list.iter().filter(|t| is_glob(t)).cloned().collect();
        Ok(Targets {
            set: glob_set(&globs)?,
            list,
        })
    }

    /// True when `path` (repository-relative) is covered by a target.
    pub fn covers(&self, path: &str) -> bool {
        let path = normalize(path);
        self.list
            .iter()
            .any(|t| !is_glob(t) && (path == *t || path.starts_with(&format!("{t}/"))))
            || self.set.is_match(&path)
    }

    /// The plain-path targets (not globs): each must be touched unless the task
    /// says `require_all = false`.
    pub fn plain(&self) -> impl Iterator<Item = &String> {
        self.list.iter().filter(|t| !is_glob(t))
    }

    /// The target closest to an uncovered path, as the path it most likely meant:
    /// a plain target itself, or a glob's literal folder with the path's file name.
    pub fn closest(&self, path: &str) -> Option<String> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let candidates: Vec<String> = self
            .list
            .iter()
            .map(|t| {
                if is_glob(t) {
                    let literal: String = t
                        .split('/')
                        .take_while(|p| !is_glob(p))
                        .collect::<Vec<_>>()
                        .join("/");
                    if literal.is_empty() {
                        name.to_string()
                    } else {
                        format!("{literal}/{name}")
                    }
                } else {
                    t.clone()
                }
            })
            .collect();
        candidates
            .into_iter()
            .map(|c| (distance(path, &c), c))
            .min_by_key(|(d, c)| (*d, c.len()))
            .filter(|(d, c)| {
                *d > 0 && *d <= (path.chars().count().max(c.chars().count()) / 2).max(2)
            })
            .map(|(_, c)| c)
    }
}

/// True unless the two target lists provably cover disjoint paths. Conservative:
/// a plain path is its own subtree; a glob is the subtree of its literal folder
/// prefix; a glob without `/` may match anywhere, so it overlaps everything.
pub fn may_overlap(a: &[String], b: &[String]) -> bool {
    let roots = |list: &[String]| -> Vec<Option<String>> {
        list.iter().map(|t| subtree(&normalize(t))).collect()
    };
    let (ra, rb) = (roots(a), roots(b));
    ra.iter().any(|x| {
        rb.iter().any(|y| match (x, y) {
            (None, _) | (_, None) => true,
            (Some(x), Some(y)) => x.is_empty() || y.is_empty() || under(x, y) || under(y, x),
        })
    })
}

/// The folder (or file) whose subtree a target stays within; None when it may
/// match at any depth.
fn subtree(target: &str) -> Option<String> {
    if !is_glob(target) {
        return Some(target.to_string());
    }
    if !target.contains('/') {
        return None;
    }
    let literal: Vec<&str> = target.split('/').take_while(|p| !is_glob(p)).collect();
    Some(literal.join("/"))
}

fn under(path: &str, root: &str) -> bool {
    path == root || path.starts_with(&format!("{root}/"))
}

/// Edit distance that counts a difference in case alone as one edit.
pub fn distance(a: &str, b: &str) -> usize {
    if a != b && a.to_lowercase() == b.to_lowercase() {
        return 1;
    }
    edit_distance(a, b)
}

/// Compile globs gitignore-style (see the module docs).
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, GlobError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let p = normalize(pattern);
        let mut variants = vec![p.clone(), format!("{p}/**")];
        if !p.contains('/') {
            variants.push(format!("**/{p}"));
            variants.push(format!("**/{p}/**"));
        }
        for variant in variants {
            let glob = GlobBuilder::new(&variant)
                .literal_separator(true)
                .build()
                .map_err(|e| GlobError(format!("`{pattern}` is not a valid glob: {e}")))?;
            builder.add(glob);
        }
    }
    builder.build().map_err(|e| GlobError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(list: &[&str]) -> Targets {
        Targets::new(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("targets")
    }

    #[test]
    fn plain_paths_and_folders() {
        let targets = t(&["README.md", "docs/", "./src/lib.rs"]);
        assert!(targets.covers("README.md"));
        assert!(
            !targets.covers("sub/README.md"),
            "a plain path is exact, not any depth"
        );
        assert!(targets.covers("docs/guide.md") && targets.covers("docs/deep/x.md"));
        assert!(!targets.covers("docs2/x.md") && !targets.covers("doc/guide.md"));
        assert!(targets.covers("src/lib.rs") && targets.covers("./src/lib.rs"));
        assert!(!targets.covers("src/lib.rs.bak"));
    }

    #[test]
    fn globs() {
        let targets = t(&["src/api/**", "*.md", "tests/*_test.rs"]);
        assert!(targets.covers("src/api/a.rs") && targets.covers("src/api/deep/b.rs"));
        assert!(!targets.covers("src/apis/a.rs"));
        assert!(
            targets.covers("notes.md") && targets.covers("a/b/notes.md"),
            "no slash: any depth"
        );
        assert!(
            targets.covers("tests/x_test.rs") && !targets.covers("tests/sub/x_test.rs"),
            "* stays in a folder"
        );
    }

    #[test]
    fn case_and_unicode() {
        let targets = t(&["Docs/Guide.md", "données/été.txt"]);
        assert!(!targets.covers("docs/guide.md"), "case-sensitive");
        assert_eq!(
            targets.closest("docs/guide.md").as_deref(),
            Some("Docs/Guide.md")
        );
        assert!(targets.covers("données/été.txt"));
        assert!(!targets.covers("donnees/ete.txt"));
        assert_eq!(
            targets.closest("donnees/été.txt").as_deref(),
            Some("données/été.txt")
        );
    }

    #[test]
    fn did_you_mean() {
        let targets = t(&["docs/guide.md"]);
        assert_eq!(
            targets.closest("doc/guide.md").as_deref(),
            Some("docs/guide.md")
        );
        assert_eq!(targets.closest("src/main.rs"), None, "nothing close");
        let globs = t(&["docs/**"]);
        assert_eq!(
            globs.closest("doc/guide.md").as_deref(),
            Some("docs/guide.md")
        );
    }

    #[test]
    fn overlap_is_decided_conservatively() {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(!may_overlap(&v(&["README.md"]), &v(&["docs/guide.md"])));
        assert!(!may_overlap(&v(&["src/api/**"]), &v(&["src/cli/main.rs"])));
        assert!(may_overlap(&v(&["src/**"]), &v(&["src/cli/main.rs"])));
        assert!(
            may_overlap(&v(&["docs"]), &v(&["docs/guide.md"])),
            "a folder target covers what is under it"
        );
        assert!(
            may_overlap(&v(&["*.md"]), &v(&["src/x.rs"])),
            "a slash-less glob may match anywhere"
        );
        assert!(may_overlap(&v(&["src/*/mod.rs"]), &v(&["src/api/mod.rs"])));
        assert!(!may_overlap(&v(&["src/*/mod.rs"]), &v(&["tests/a.rs"])));
        assert!(!may_overlap(&v(&["a.txt"]), &v(&["a.txt.bak"])));
    }

    #[test]
    fn normalising() {
        assert_eq!(normalize("./a/b/"), "a/b");
        assert_eq!(normalize("a/../b"), "b");
        assert_eq!(normalize("a//b"), "a/b");
    }
}
