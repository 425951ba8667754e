//! `git agentos add`: write a valid task into todo/ and print its id.
use crate::error::{CmdResult, CommandError};
use crate::ops::{self, body_text, AddError, NewTask};
use crate::task::{self, Task};
use crate::workspace::Workspace;
use std::io;
use std::path::{Path, PathBuf};

/// Queue a task: write it into .agentos/todo/ and print its id.
///
/// The id comes from the title (lower case, every run of other characters one `-`;
/// "Fix the README" → `fix-the-readme`), with -2, -3… added when a task or an
/// `agentos/<id>` branch has it. The task starts from HEAD's commit unless --base
/// says otherwise.
///
/// Example: git agentos add "Fix the install command" --target README.md
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to do, in one line; becomes the pull request's title.
    pub title: Option<String>,

    /// A path or gitignore-style glob the change may touch (repeatable; at least one).
    #[arg(long = "target", short = 't', value_name = "GLOB")]
    pub targets: Vec<String>,

    /// The agent to run it (a folder under .agentos/agents/); default: "default".
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,

    /// A command that must pass in the worktree after the change (repeatable).
    #[arg(long = "verify", value_name = "CMD")]
    pub verify: Vec<String>,

    /// The branch or commit to start from; default: the commit HEAD is on now.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// The task's description: what to change and why.
    #[arg(long, value_name = "TEXT", conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Read the description from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,

    /// Higher runs first; equal priorities run in the order they were queued.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub priority: Option<i64>,

    /// The agent's wall-clock limit, like 90s, 30m or 1h30m (default 30m).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Run only once this task is done (repeatable). After exactly one task, the
    /// new one starts from that task's branch (a stack) unless --no-stack.
    #[arg(long = "after", value_name = "ID")]
    pub after: Vec<String>,

    /// With one --after: start from the base as usual, not from its branch.
    #[arg(long)]
    pub no_stack: bool,

    /// Stop the agent after this many turns (else agent.toml's `max_turns`).
    #[arg(long, value_name = "N")]
    pub max_turns: Option<u64>,

    /// Stop the agent once it has spent this many US dollars (else agent.toml's
    /// `max_cost_usd`).
    #[arg(long, value_name = "USD")]
    pub max_cost_usd: Option<f64>,

    /// Use this id instead of one made from the title.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,

    /// Start from a task template (bugfix, docs, tests, refactor, or one in
    /// .agentos/templates/); the title and body fill its placeholders.
    #[arg(long, value_name = "NAME", conflicts_with = "file")]
    pub template: Option<String>,

    /// Queue an existing task file (checked first; flags given too override its fields).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let ctx = Workspace::discover(dir)?;
    let (mut task, source) = match &args.file {
        Some(file) => (load_file(dir, file)?, file.display().to_string()),
        None => (Task::default(), "the new task".to_string()),
    };
    apply_flags(dir, &mut task, &args)?;
    let new = NewTask {
        task,
        template: args.template.clone(),
        id: args
            .id
            .clone()
            .or_else(|| file_stem_id(args.file.as_deref())),
        priority_given: args.priority.is_some(),
    };
    let id = ops::add(&ctx, new).map_err(|e| match e {
        AddError::Invalid(problem) => {
            let mut err = CommandError::invalid(format!("{source}: {problem}"));
            if args.file.is_none() {
                err = err.hint(
                    "on the command line: the title is the first argument, targets are --target PATH",
                );
            }
            err
        }
        // A slug that git cannot use in its branch name (`x.lock`, `a..b`).
        AddError::BadId { id, problem } if crate::task::is_slug(&id) => CommandError::invalid(
            format!("--id: {}", problem.what.replace(" (the file name without `.md`)", "")),
        )
        .hint(format!("use --id {}", crate::task::slugify(&id))),
        AddError::BadId { id, .. } => CommandError::invalid(format!(
            "--id `{}`: a task id is a slug: lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit",
            crate::term::untrusted(&id)
        ))
        .hint(format!("use --id {}", crate::task::slugify(&id))),
        other => other.into(),
    })?;
    outln!("{id}");
    Ok(())
}

fn load_file(dir: &Path, file: &Path) -> CmdResult<Task> {
    let path = dir.join(file);
    task::load(&path).map_err(|e| {
        let mut err = CommandError::invalid(format!("{}: {}", file.display(), e.problem));
        err.hints.clear();
        err
    })
}

fn file_stem_id(file: Option<&Path>) -> Option<String> {
    let stem = file?.file_stem()?.to_str()?;
    task::is_slug(stem).then(|| stem.to_string())
}

fn apply_flags(dir: &Path, task: &mut Task, args: &Args) -> CmdResult {
    if let Some(title) = &args.title {
        task.title = title.clone();
    }
    if !args.targets.is_empty() {
        task.targets = args.targets.clone();
    }
    if args.agent.is_some() {
        task.agent = args.agent.clone();
    }
    if !args.verify.is_empty() {
        task.verify = args.verify.clone();
    }
    if args.base.is_some() {
        task.base = args.base.clone();
        task.base_branch = None;
    }
    if !args.after.is_empty() {
        task.after = args.after.clone();
    }
    if args.no_stack {
        task.stack = Some(false);
    }
    if args.max_turns.is_some() {
        task.max_turns = args.max_turns;
    }
    if let Some(usd) = args.max_cost_usd {
        task.max_cost_usd = Some(task::Usd(usd));
    }
    if let Some(p) = args.priority {
        task.priority = p;
    }
    if args.timeout.is_some() {
        task.timeout = args.timeout.clone();
    }
    if let Some(body) = &args.body {
        task.body = body_text(body.clone());
    }
    if let Some(file) = &args.body_file {
        let text = if file.as_os_str() == "-" {
            let mut s = String::new();
            io::Read::read_to_string(&mut io::stdin(), &mut s).map_err(|e| {
                CommandError::invalid(format!(
                    "--body-file -: standard input is not UTF-8 text: {e}"
                ))
            })?;
            s
        } else {
            task::read_text(&dir.join(file)).map_err(|e| {
                CommandError::invalid(format!("--body-file {}: {}", file.display(), e.problem))
            })?
        };
        task.body = body_text(text);
    }
    Ok(())
}
