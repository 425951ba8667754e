//! Command-line definitions (clap), and the one place where logging is set up and
//! errors are printed and become exit codes.
use crate::commands;
use crate::error::CommandError;
use crate::term::untrusted;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// git agentos: run coding agents on a backlog of task files, one git worktree and
/// branch per task, and turn each verified change into a pull request.
///
/// Tasks are Markdown files with TOML front matter in .agentos/todo/. Start with
/// `git agentos init`, queue work with `git agentos add`, and process it with
/// `git agentos run`.
#[derive(Parser, Debug)]
#[command(
    name = "git-agentos",
    bin_name = "git agentos",
    version,
    max_term_width = 100
)]
pub struct Cli {
    /// Run as if started in DIR (like `git -C`).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Say more on stderr: -v what the dispatcher does, -vv each step
    /// (RUST_LOG, when set, decides instead).
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum Command {
    Init(commands::init::Args),
    Add(commands::add::Args),
    List(commands::list::Args),
    Show(commands::show::Args),
    Status(commands::status::Args),
    Run(commands::run::Args),
    Watch(commands::watch::Args),
    Sync(commands::sync::Args),
    Verify(commands::verify::Args),
    Retry(commands::retry::Args),
    Resume(commands::resume::Args),
    Cancel(commands::cancel::Args),
    Clean(commands::clean::Args),
    Logs(commands::logs::Args),
    Board(commands::board::Args),
    Fleet(commands::fleet::Args),
    Memory(commands::memory::Args),
    Mcp(commands::mcp::Args),
    Friction(commands::friction::Args),
    Demo(commands::demo::Args),
    Doctor(commands::doctor::Args),
    Hooks(commands::hooks::Args),
    Agent(commands::agent::Args),
    Templates(commands::templates::Args),
    InstallMan(commands::install_man::Args),
    Completions(commands::completions::Args),
    /// (internal) Candidates for the completion scripts; see src/completion/.
    #[command(name = "__complete", hide = true)]
    Complete(commands::completions::CompleteArgs),
    #[command(hide = true)]
    Hook(commands::hook::Args),
    /// (internal) The demo's scripted agent.
    #[command(hide = true)]
    DemoAgent,
    /// (internal) git's credential helper while git agentos pushes with the
    /// token; see src/git/credential.rs.
    #[command(hide = true)]
    Credential {
        /// get, store or erase (git's credential protocol).
        action: String,
    },
    /// (internal) Lead, confine and end a task's command; see src/agent/shim.rs.
    #[command(hide = true)]
    AgentShim {
        /// Confine the command with Landlock.
        #[arg(long)]
        sandbox: bool,
        /// A path the confined command may write.
        #[arg(long = "write", value_name = "PATH")]
        write: Vec<PathBuf>,
        /// The dispatcher's pid: the shim stops at once when it is not its parent.
        #[arg(long, value_name = "PID")]
        parent: Option<i32>,
        #[arg(last = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
}

/// Parse the command line, run the command, print any error; returns the exit code.
pub fn main() -> i32 {
    // Past a file-size limit (RLIMIT_FSIZE, or a quota) the kernel kills a writer
    // with SIGXFSZ unless the signal is blocked; blocked, the write fails with
    // EFBIG and becomes a reason like any full disk. Threads inherit the mask;
    // agents start with a clean one.
    let mut xfsz = nix::sys::signal::SigSet::empty();
    xfsz.add(nix::sys::signal::Signal::SIGXFSZ);
    let _ = xfsz.thread_block();
    // Before any thread exists: the token leaves the environment, and every
    // secret the agents' environment is scrubbed of leaves the memory
    // /proc/<pid>/environ shows, so no reader of /proc sees them here.
    crate::secrets::take_from_environment();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if no_command(&e) => {
            eprint!("{}", commands::usage::no_command(&Cli::command()));
            return crate::error::ErrorKind::Invalid.exit_code();
        }
        Err(e) => e.exit(),
    };
    if let Command::AgentShim {
        sandbox,
        write,
        parent,
        command,
    } = cli.command
    {
        let options = crate::agent::shim::ShimOptions {
            sandbox,
            writable: write,
            parent,
            grace: crate::agent::runner::GRACE,
        };
        return crate::agent::shim::shim_main(options, command);
    }
    if let Command::DemoAgent = cli.command {
        return commands::demo::scripted_agent();
    }
    if let Command::Credential { action } = &cli.command {
        return commands::credential::helper(action);
    }
    crate::logging::init(cli.verbose);
    if let Err(err) = crate::clock::check_env().map_err(CommandError::from) {
        report(&err);
        return err.kind.exit_code();
    }
    match run(cli) {
        Ok(()) => 0,
        Err(err) => {
            report(&err);
            err.kind.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<(), CommandError> {
    let dir = match cli.dir {
        Some(dir) => dir,
        None => std::env::current_dir()
            .map_err(|e| CommandError::env(format!("cannot read the current folder: {e}")))?,
    };
    match cli.command {
        Command::Init(args) => commands::init::run(&dir, args),
        Command::Add(args) => commands::add::run(&dir, args),
        Command::List(args) => commands::list::run(&dir, args),
        Command::Show(args) => commands::show::run(&dir, args),
        Command::Status(args) => commands::status::run(&dir, args),
        Command::Run(args) => commands::run::run(&dir, args),
        Command::Watch(args) => commands::watch::run(&dir, args),
        Command::Sync(args) => commands::sync::run(&dir, args),
        Command::Verify(args) => commands::verify::run(&dir, args),
        Command::Retry(args) => commands::retry::run(&dir, args),
        Command::Resume(args) => commands::resume::run(&dir, args),
        Command::Cancel(args) => commands::cancel::run(&dir, args),
        Command::Clean(args) => commands::clean::run(&dir, args),
        Command::Logs(args) => commands::logs::run(&dir, args),
        Command::Board(args) => commands::board::run(&dir, args),
        Command::Fleet(args) => commands::fleet::run(&dir, args),
        Command::Memory(args) => commands::memory::run(&dir, args),
        Command::Mcp(args) => commands::mcp::run(&dir, args),
        Command::Friction(args) => commands::friction::run(&dir, args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Doctor(args) => commands::doctor::run(&dir, args, &Cli::command()),
        Command::Hooks(args) => commands::hooks::run(&dir, args),
        Command::Agent(args) => commands::agent::run(&dir, args),
        Command::Templates(args) => commands::templates::run(&dir, args),
        Command::Hook(args) => commands::hook::run(&dir, args),
        Command::InstallMan(args) => commands::install_man::run(args, &Cli::command()),
        Command::Completions(args) => commands::completions::run(args),
        Command::Complete(args) => commands::completions::complete(&dir, args, Cli::command()),
        Command::AgentShim { .. } | Command::DemoAgent | Command::Credential { .. } => Ok(()),
    }
}

/// A command line that names no command (`git agentos`, `git agentos -v`).
fn no_command(e: &clap::Error) -> bool {
    use clap::error::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    )
}

/// Print an error and its hints to stderr. Messages quote ids, fields and
/// reasons from files, so they are shown through [`untrusted`].
pub fn report(err: &CommandError) {
    eprintln!("error: {}", untrusted(&err.message));
    for hint in &err.hints {
        eprintln!("hint: {}", untrusted(hint));
    }
}
