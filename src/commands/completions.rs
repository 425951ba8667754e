//! `git agentos completions SHELL`: the completion script; and the hidden
//! `__complete` the scripts call for candidates.
use crate::completion::{self, Shell};
use crate::error::CmdResult;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

/// Print the completion script for bash, zsh or fish.
///
/// The script completes commands, options, task ids (for show, retry, cancel,
/// logs and verify, from the state folders), agents and templates after
/// `git agentos `, through the shell's own git completion. Install it once: for
/// bash as ~/.local/share/bash-completion/completions/git-agentos, for zsh as
/// _git-agentos in a folder of $fpath, for fish as
/// ~/.config/fish/conf.d/git-agentos.fish. The script's first lines say how.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The arguments of the hidden `__complete`: the shell, then after `--` the
/// words up to the cursor (`git-agentos` first, the word being completed last).
#[derive(clap::Args, Debug)]
pub struct CompleteArgs {
    #[arg(value_enum)]
    pub shell: Shell,
    #[arg(last = true)]
    pub words: Vec<OsString>,
}

pub fn run(args: Args) -> CmdResult {
    write_out(completion::script(args.shell))
}

pub fn complete(dir: &Path, args: CompleteArgs, cli: clap::Command) -> CmdResult {
    let lines = completion::candidates(cli, args.shell, args.words, dir);
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    write_out(&text)
}

fn write_out(text: &str) -> CmdResult {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        super::output::fail(&e);
    }
    Ok(())
}
