//! What no task may change, whatever its targets say: git agentos's runtime
//! state and this machine's settings under `.agentos/` (see
//! [`crate::state_names`]), `.agentos/.gitignore` (which keeps them out of git),
//! and a symbolic link into the repository's `.git/` folder, where git keeps
//! its hooks and configuration. A change that plants one of these (an agent
//! that drops `/friction.jsonl` from the ignore file and leaves
//! `.agentos/friction.jsonl -> ../.git/hooks/post-commit`, say) would run, once
//! merged, with the person's rights.
use crate::git::Change;

/// Why each path of the change is one no task may touch (rule (b)).
pub fn own_paths(changes: &[Change]) -> Vec<String> {
    let mut out = Vec::new();
    for change in changes {
        for path in std::iter::once(&change.path).chain(change.from.as_ref()) {
            let Some(rest) = path.strip_prefix(".agentos/") else {
                continue;
            };
            if rest == ".gitignore" {
                out.push(format!(
                    "`{path}` is git agentos's own: it keeps runtime state and local settings out of git, and no task may change it"
                ));
            } else if let Some(kind) = crate::state_names::private_kind(rest) {
                out.push(format!(
                    "`{path}` is {kind}, never part of a task's change, whatever the targets say"
                ));
            }
        }
    }
    out
}

/// Why each symbolic link of the change is refused for pointing into `.git/`
/// (rule (d)).
pub fn links_into_git(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| {
            let to = c.symlink_to.as_deref()?;
            into_git(&c.path, to).then(|| {
                format!(
                    "`{}` is a symbolic link to `{to}`, into the repository's .git folder (its hooks and configuration)",
                    c.path
                )
            })
        })
        .collect()
}

/// True when a link at `at` (repository-relative) pointing to `to` resolves
/// to `.git` or below it (any case: some file systems ignore it).
fn into_git(at: &str, to: &str) -> bool {
    if to.starts_with('/') {
        return false; // absolute: rule (d) refuses it as leaving the repository
    }
    let mut parts: Vec<&str> = at.split('/').filter(|p| !p.is_empty()).collect();
    parts.pop();
    for part in to.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts
        .first()
        .is_some_and(|p| p.eq_ignore_ascii_case(".git"))
}

#[cfg(test)]
mod tests {
    use super::into_git;

    #[test]
    fn links_that_resolve_into_dot_git() {
        assert!(into_git(
            ".agentos/friction.jsonl",
            "../.git/hooks/post-commit"
        ));
        assert!(into_git("a/b", "../.git"));
        assert!(into_git("x", ".git/config"));
        assert!(into_git("x", "./sub/../.GIT/hooks"));
        assert!(!into_git("a/b", "../docs/.git-notes"));
        assert!(!into_git("a/b", "c"));
        assert!(!into_git("x", "/repo/.git"));
    }
}
