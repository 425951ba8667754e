//! `git agentos agent`: agents are folders; make one, list them.
use crate::agent::config as agent_config;
use crate::agent::sandbox::Plan;
use crate::error::{CmdResult, CommandError};
use crate::path_error::PathError;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// Agents are folders: .agentos/agents/<name>/AGENT.md (instructions) and an
/// optional agent.toml (command, model, allowed_tools, permission_mode, timeout).
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Create .agentos/agents/NAME/ with an AGENT.md and a commented agent.toml.
    New {
        /// The agent's name (lower-case letters, digits, `.`, `_`, `-`).
        name: String,
    },
    /// List the agents and their settings.
    List,
}

const AGENT_TOML: &str = "\
# Settings of this agent (all optional).
# command = \"claude\"                # the agent's command line
# model = \"claude-sonnet-4-5\"
# allowed_tools = [\"Read\", \"Glob\", \"Grep\"]  # pre-approved (default: these, and Bash inside the sandbox); never Write/Edit: that approves them outside the worktree too
# permission_mode = \"acceptEdits\"
# timeout = \"30m\"
# start_timeout = \"60s\"
# memory = true                     # hand it the memory server (`git agentos mcp`)
# max_turns = 40                    # turn cap of its tasks (a task's own `max_turns` wins)
# max_cost_usd = 2.0                # spending cap in US dollars (a task's `max_cost_usd` wins)
#
# [sandbox]                         # the kernel's write boundary (README: Sandbox)
# mode = \"on\"                       # \"off\": run it unsandboxed, on purpose
# writable = [\"~/.cargo/registry\"]  # caches a build needs, besides its worktree
# pass_env = [\"NPM_TOKEN\"]          # variables it gets although they are scrubbed
";

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    match args.action {
        Action::New { name } => {
            if !crate::task::is_slug(&name) {
                return Err(
                    CommandError::invalid(format!("`{name}` is not a valid agent name"))
                        .hint("use lower-case letters, digits, `.`, `_` and `-`"),
                );
            }
            let folder = ctx.tree.agents_dir().join(&name);
            if folder.exists() {
                return Err(CommandError::invalid(format!(
                    "{} already exists",
                    ctx.rel(&folder)
                )));
            }
            std::fs::create_dir_all(&folder).map_err(PathError::at("create", &folder))?;
            let md =
                format!("# The {name} agent\n\nWhat this agent is for, and how it should work.\n\nMemory topics to search first: {name}.\n");
            for (file, text) in [("AGENT.md", md.as_str()), ("agent.toml", AGENT_TOML)] {
                let path = folder.join(file);
                crate::durable::write(&path, text.as_bytes())
                    .map_err(PathError::at("write", &path))?;
            }
            outln!("created {}/ (AGENT.md, agent.toml)", ctx.rel(&folder));
            outln!("queue work for it in .agentos/todo/{name}/, or with `add --agent {name}`");
        }
        Action::List => {
            let mut names: Vec<String> = std::fs::read_dir(ctx.tree.agents_dir())
                .map(|rd| {
                    rd.flatten()
                        .filter(|e| e.path().is_dir())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            if !names.iter().any(|n| n == "default") {
                names.push("default".into());
            }
            names.sort();
            let support = crate::agent::sandbox::support();
            for name in names {
                match agent_config::load(&ctx.tree, &name, None) {
                    Ok(a) => outln!(
                        "{:<16} {}{}, timeout {}, sandbox {}",
                        untrusted(&name),
                        untrusted(&a.command),
                        untrusted(
                            &a.model
                                .clone()
                                .map(|m| format!(" ({m})"))
                                .unwrap_or_default()
                        ),
                        crate::task::human(a.timeout),
                        match crate::agent::sandbox::plan(&a, &support) {
                            Plan::Sandboxed { .. } => "on",
                            Plan::Unsandboxed { .. } => "off",
                            Plan::Refused { .. } =>
                                "unavailable: it will not start (see `git agentos doctor`)",
                        }
                    ),
                    Err(e) => outln!(
                        "{:<16} broken: {}",
                        untrusted(&name),
                        untrusted(&e.to_string())
                    ),
                }
            }
        }
    }
    Ok(())
}
