//! `hooks`, `hook`, `agent` and `templates`: how work enters, and who does it.
use super::Context;
use crate::agent::config as agent_config;
use crate::error::{io_error, CmdResult, CommandError};
use crate::hooks;
use crate::templates;
use std::path::Path;

/// Manage the post-commit hook that queues work from commits: a task for each
/// `Agentos-Task: <title>` trailer (targets from `Agentos-Targets:`, agent from
/// `Agentos-Agent:`) and for each trigger in .agentos/triggers/ whose paths the
/// commit touched. The hook never runs agents and never fails a commit.
#[derive(clap::Args, Debug)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub action: HooksAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum HooksAction {
    /// Add the one-line shim to the post-commit hook (core.hooksPath is respected;
    /// an existing hook keeps running).
    Install,
    /// Remove only the shim's lines.
    Uninstall,
    /// Say what is installed, and where.
    Status,
}

/// (internal) Hook entry points, called by the installed shim.
#[derive(clap::Args, Debug)]
pub struct HookArgs {
    #[command(subcommand)]
    pub hook: HookName,
}

#[derive(clap::Subcommand, Debug)]
pub enum HookName {
    /// After a commit: queue the tasks it asks for, then wake the dispatcher.
    PostCommit,
}

/// Agents are folders: .agentos/agents/<name>/AGENT.md (instructions) and an
/// optional agent.toml (command, model, allowed_tools, permission_mode, timeout).
#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    #[command(subcommand)]
    pub action: AgentAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum AgentAction {
    /// Create .agentos/agents/NAME/ with an AGENT.md and a commented agent.toml.
    New {
        /// The agent's name (lower-case letters, digits, `.`, `_`, `-`).
        name: String,
    },
    /// List the agents and their settings.
    List,
}

/// Task templates: built-in ones (bugfix, docs, tests, refactor) and any in
/// .agentos/templates/<name>.md, which also override the built-in ones.
#[derive(clap::Args, Debug)]
pub struct TemplatesArgs {
    #[command(subcommand)]
    pub action: TemplatesAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum TemplatesAction {
    /// List the templates and where each comes from.
    List,
}

pub fn hooks(dir: &Path, args: HooksArgs) -> CmdResult {
    let ctx = Context::discover(dir)?;
    match args.action {
        HooksAction::Install => {
            let path = hooks::install(&ctx.repo)?;
            println!("installed the post-commit hook: {}", path.display());
        }
        HooksAction::Uninstall => match hooks::uninstall(&ctx.repo)? {
            Some(path) => println!("removed git agentos from {}", path.display()),
            None => println!("the post-commit hook has no git agentos lines; nothing to do"),
        },
        HooksAction::Status => {
            let s = hooks::status(&ctx.repo)?;
            let source = if s.from_hooks_path {
                " (from core.hooksPath)"
            } else {
                ""
            };
            println!("post-commit  {}{source}", s.path.display());
            println!(
                "installed    {}",
                if s.installed {
                    "yes"
                } else {
                    "no (git agentos hooks install)"
                }
            );
            if s.installed && !s.executable {
                println!("warning      the hook is not executable; git will not run it");
            }
            if s.chained {
                println!("chained      the hook also runs lines of its own, kept as they are");
            }
            let triggers = hooks::load_triggers(&ctx.tree);
            println!("triggers     {}", triggers.len());
            for t in triggers {
                match t {
                    Ok((name, trigger)) => println!(
                        "  {name}: {} → template {}",
                        trigger.paths.join(", "),
                        trigger.template
                    ),
                    Err(e) => println!("  broken: {e}"),
                }
            }
        }
    }
    Ok(())
}

pub fn hook(dir: &Path, args: HookArgs) -> CmdResult {
    match args.hook {
        HookName::PostCommit => hooks::run_post_commit(dir),
    }
}

const AGENT_TOML: &str = "\
# Settings of this agent (all optional).
# command = \"claude\"                # the agent's command line
# model = \"claude-sonnet-4-5\"
# allowed_tools = [\"Read\", \"Glob\", \"Grep\"]  # pre-approved; never Write/Edit: that approves them outside the worktree too
# permission_mode = \"acceptEdits\"
# timeout = \"30m\"
# start_timeout = \"60s\"
# memory = true                     # hand it the memory server (`git agentos mcp`)
";

pub fn agent(dir: &Path, args: AgentArgs) -> CmdResult {
    let ctx = Context::discover(dir)?;
    match args.action {
        AgentAction::New { name } => {
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
            std::fs::create_dir_all(&folder).map_err(|e| io_error("create", &folder, e))?;
            let md =
                format!("# The {name} agent\n\nWhat this agent is for, and how it should work.\n\nMemory topics to search first: {name}.\n");
            for (file, text) in [("AGENT.md", md.as_str()), ("agent.toml", AGENT_TOML)] {
                let path = folder.join(file);
                crate::durable::write(&path, text.as_bytes())
                    .map_err(|e| io_error("write", &path, e))?;
            }
            println!("created {}/ (AGENT.md, agent.toml)", ctx.rel(&folder));
            println!("queue work for it in .agentos/todo/{name}/, or with `add --agent {name}`");
        }
        AgentAction::List => {
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
            for name in names {
                match agent_config::load(&ctx.tree, &name, None) {
                    Ok(a) => println!(
                        "{name:<16} {}{}, timeout {}",
                        a.command,
                        a.model.map(|m| format!(" ({m})")).unwrap_or_default(),
                        crate::agent::runner::human(a.timeout)
                    ),
                    Err(e) => println!("{name:<16} broken: {}", e.message),
                }
            }
        }
    }
    Ok(())
}

pub fn templates(dir: &Path, args: TemplatesArgs) -> CmdResult {
    let ctx = Context::discover(dir)?;
    match args.action {
        TemplatesAction::List => {
            for (name, source) in templates::list(&ctx.tree) {
                let from = match source {
                    templates::Source::BuiltIn => "built in".to_string(),
                    templates::Source::Repository { overrides: true } => {
                        format!(".agentos/templates/{name}.md (overrides the built-in one)")
                    }
                    templates::Source::Repository { overrides: false } => {
                        format!(".agentos/templates/{name}.md")
                    }
                };
                println!("{name:<12} {from}");
            }
        }
    }
    Ok(())
}
