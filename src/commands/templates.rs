//! `git agentos templates`: the task templates, built-in and the repository's.
use crate::error::CmdResult;
use crate::hooks::templates;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::Path;

/// Task templates: built-in ones (bugfix, docs, tests, refactor) and any in
/// .agentos/templates/<name>.md, which also override the built-in ones.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// List the templates and where each comes from.
    List,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    match args.action {
        Action::List => {
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
                outln!("{:<12} {}", untrusted(&name), untrusted(&from));
            }
        }
    }
    Ok(())
}
