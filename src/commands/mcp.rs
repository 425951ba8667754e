//! `git agentos mcp`: serve the memory vault (and the current task) to an agent.
use crate::error::{CmdResult, CommandError};
use std::path::Path;

/// Serve memory (search, add) and the current task over MCP on stdin/stdout, for
/// your own agent: `claude mcp add agentos -- git agentos mcp`. (The dispatcher
/// serves the same tools to its tasks itself, on loopback HTTP.)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The task whose file `current_task` returns.
    #[arg(long, value_name = "ID")]
    pub task: Option<String>,
}

pub fn run(dir: &Path, args: Args) -> CmdResult<()> {
    let vault = crate::memory::vault_dir()?;
    let context = match crate::workspace::Workspace::discover(dir) {
        Ok(ws) => Some(ws),
        Err(crate::workspace::WorkspaceError::Git(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let task = match (&args.task, &context) {
        (Some(id), _) if !crate::task::is_slug(id) => {
            return Err(CommandError::invalid(format!(
                "--task `{id}` is not a task id"
            ))
            .hint("give the id of a task in .agentos/todo/, doing/, done/ or failed/ (its file name without .md), not a path"))
        }
        (Some(id), Some(ctx)) => {
            let entry = ctx.find_task(id)?;
            Some((id.clone(), entry.path.clone()))
        }
        (Some(id), None) => {
            return Err(CommandError::env(format!(
                "--task {id}: `{}` is not inside a git repository",
                dir.display()
            ))
            .hint("start the server with -C REPO"))
        }
        (None, _) => None,
    };
    let repo = context.map(|c| c.repo.root().to_path_buf());
    crate::memory::mcp::serve(crate::memory::mcp::MemoryServer::new(vault, task, repo))?;
    Ok(())
}
