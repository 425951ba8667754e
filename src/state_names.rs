//! The names under `.agentos/` that are git agentos's runtime state or this
//! machine's own settings: never committed, never part of a task's change. The
//! post-commit hook refuses a repository where git tracks one, and the verifier
//! refuses a change that adds one.

/// Folders of runtime state, directly under `.agentos/` (`review/` is the
/// review loop's).
pub const RUNTIME_DIRS: [&str; 7] = [
    "todo",
    "doing",
    "done",
    "failed",
    "review",
    "runs",
    "worktrees",
];

/// Files of runtime state, directly under `.agentos/`.
pub const RUNTIME_FILES: [&str; 5] = [
    "friction.jsonl",
    "friction-enqueued",
    "hook.seen",
    "todo.index",
    "dispatcher.lock",
];

/// What a path under `.agentos/` (given relative to it: `todo/x.md`,
/// `agents/docs/local.toml`) is, when it is runtime state or a local settings
/// file; None for what a repository shares (agents, templates, triggers,
/// config.toml) and for `.gitignore`.
pub fn private_kind(rel: &str) -> Option<&'static str> {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let (first, last) = (parts.first()?, parts.last()?);
    if RUNTIME_DIRS.contains(first) {
        return Some("runtime state");
    }
    if parts.len() == 1 {
        if RUNTIME_FILES.contains(first)
            || first.ends_with(".lock")
            || first.ends_with(".index")
            || first.starts_with(".tmp-")
        {
            return Some("runtime state");
        }
        if *first == crate::local_settings::CONFIG_LOCAL {
            return Some("this machine's own settings");
        }
    }
    if parts.len() == 3 && *first == "agents" && *last == crate::local_settings::AGENT_LOCAL {
        return Some("this machine's own settings");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::private_kind;

    #[test]
    fn runtime_and_local_names() {
        for private in [
            "todo/x.md",
            "doing",
            "runs/a/b.log",
            "friction.jsonl",
            "hook.seen",
            "friction-enqueued",
            "x.lock",
            "todo.index",
            ".tmp-abc",
            "config.local.toml",
            "agents/docs/local.toml",
            "review/x.md",
        ] {
            assert!(private_kind(private).is_some(), "{private}");
        }
        for shared in [
            "config.toml",
            "agents/docs/agent.toml",
            "agents/docs/AGENT.md",
            "triggers/x.toml",
            "templates/x.md",
            ".gitignore",
            "agents/local.toml",
        ] {
            assert!(private_kind(shared).is_none(), "{shared}");
        }
    }
}
