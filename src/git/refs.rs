//! The refs guard: the repository's refs read before an agent step and after
//! it, so a ref the agent moved, made or deleted (the sandbox keeps it from
//! `refs/`; without it nothing does) fails the task instead of passing unseen.
use super::error::library;
use super::{GitError, Repo};
use std::collections::BTreeMap;

/// Every guarded ref and what it points at (a commit id, or `ref: <name>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefSnapshot(BTreeMap<String, String>);

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefChange {
    Moved {
        name: String,
        from: String,
        to: String,
    },
    Created {
        name: String,
        at: String,
    },
    Deleted {
        name: String,
        was: String,
    },
}

impl std::fmt::Display for RefChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = |id: &str| id.chars().take(12).collect::<String>();
        match self {
            RefChange::Moved { name, from, to } => {
                write!(f, "moved `{name}` from {} to {}", short(from), short(to))
            }
            RefChange::Created { name, at } => write!(f, "created `{name}` at {}", short(at)),
            RefChange::Deleted { name, was } => {
                write!(f, "deleted `{name}` (it was at {})", short(was))
            }
        }
    }
}

impl RefSnapshot {
    /// What changed from `self` to `after`, in ref-name order.
    pub fn changes(&self, after: &RefSnapshot) -> Vec<RefChange> {
        let mut out = Vec::new();
        for (name, from) in &self.0 {
            match after.0.get(name) {
                Some(to) if to != from => out.push(RefChange::Moved {
                    name: name.clone(),
                    from: from.clone(),
                    to: to.clone(),
                }),
                Some(_) => {}
                None => out.push(RefChange::Deleted {
                    name: name.clone(),
                    was: from.clone(),
                }),
            }
        }
        for (name, at) in &after.0 {
            if !self.0.contains_key(name) {
                out.push(RefChange::Created {
                    name: name.clone(),
                    at: at.clone(),
                });
            }
        }
        out
    }

    /// Leave out the refs `skip` names (read at check time: a task claimed
    /// meanwhile has a branch that was not skipped at the first snapshot).
    pub fn without(mut self, skip: &dyn Fn(&str) -> bool) -> RefSnapshot {
        self.0.retain(|name, _| !skip(name));
        self
    }
}

impl Repo {
    /// Every ref of the repository (the per-worktree ones of the main working
    /// tree included) but those `skip` says are not guarded.
    pub fn ref_snapshot(&self, skip: &dyn Fn(&str) -> bool) -> Result<RefSnapshot, GitError> {
        let main = self.main()?;
        let refs = main
            .references()
            .map_err(|e| library("list the references", &e))?;
        let mut out = BTreeMap::new();
        for r in refs {
            let r = r.map_err(|e| library("read a reference", &e))?;
            let Ok(name) = r.name() else { continue };
            if skip(name) {
                continue;
            }
            let value = match (r.target(), r.symbolic_target()) {
                (Some(id), _) => id.to_string(),
                (None, Ok(Some(to))) => format!("ref: {to}"),
                (None, _) => continue,
            };
            out.insert(name.to_string(), value);
        }
        Ok(RefSnapshot(out))
    }

    /// The branch the main working tree has checked out (`refs/heads/…`).
    pub fn main_checkout_branch(&self) -> Option<String> {
        let main = self.main().ok()?;
        let head = main.find_reference("HEAD").ok()?;
        head.symbolic_target().ok().flatten().map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_created_and_deleted_refs_are_named() {
        let snap = |pairs: &[(&str, &str)]| {
            RefSnapshot(
                pairs
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let before = snap(&[("refs/heads/main", "aaaa"), ("refs/tags/v1", "bbbb")]);
        let after = snap(&[("refs/heads/main", "cccc"), ("refs/heads/evil", "dddd")]);
        let text: Vec<String> = before
            .changes(&after)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            text,
            [
                "moved `refs/heads/main` from aaaa to cccc",
                "deleted `refs/tags/v1` (it was at bbbb)",
                "created `refs/heads/evil` at dddd"
            ]
        );
        assert!(before.changes(&before).is_empty());
    }
}
