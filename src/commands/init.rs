//! `git agentos init`: create the `.agentos/` tree, a default agent and the .gitignore.
use crate::agent::config::DEFAULT_INSTRUCTIONS;
use crate::durable;
use crate::error::CmdResult;
use crate::path_error::PathError;
use crate::workspace::Workspace;
use std::path::Path;

/// Create the .agentos/ tree in this repository: the queue folders, a default agent
/// (.agentos/agents/default/AGENT.md), a sample config.toml and a .gitignore that keeps
/// runtime state out of `git status`.
///
/// Safe to repeat: existing files are never overwritten.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub const SAMPLE_CONFIG: &str = "\
# git agentos settings for this repository (all optional).

# remote = \"origin\"          # where task branches are pushed

# [github]
# repo = \"owner/name\"        # when it cannot be read off the remote's URL
# timeout = 30                # seconds to wait for an API answer before retrying

# [friction]
# threshold = 3               # occurrences before `friction --enqueue` makes a task

# [budget]
# daily_usd = 20.0            # once a day's spend reaches it, the queue pauses until midnight
";

pub fn run(dir: &Path, _args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    let tree = &ctx.tree;
    let mut created = tree
        .ensure_runtime()
        .map_err(PathError::at("create the folders of", &tree.dir))?;
    let agent_md = tree.agents_dir().join("default").join("AGENT.md");
    let config = tree.dir.join("config.toml");
    for (path, text) in [(&agent_md, DEFAULT_INSTRUCTIONS), (&config, SAMPLE_CONFIG)] {
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            durable::ensure_dir(parent).map_err(PathError::at("create", parent))?;
        }
        durable::write(path, text.as_bytes()).map_err(PathError::at("write", path))?;
        created.push(path.to_path_buf());
    }
    if created.is_empty() {
        outln!("{} is already set up; nothing to do.", ctx.rel(&tree.dir));
    } else {
        outln!("Initialised {}:", tree.dir.display());
        for path in &created {
            outln!("  created {}", ctx.rel(path));
        }
        outln!("Next: git agentos add \"Fix the README\" --target README.md");
    }
    Ok(())
}
