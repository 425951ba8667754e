//! `git agentos install-man`: write the manual where `man` finds it.
use crate::error::CmdResult;
use crate::manual;
use std::path::PathBuf;

/// Write the manual where `man` finds it, so that `git agentos --help`,
/// `git help agentos` and `man git-agentos` open it.
///
/// The manual is git-agentos(1) and a page per command (git-agentos-run(1),
/// git-agentos-hooks-install(1), …), generated from the same definitions as
/// `-h`. Pages already current are left alone; pages of commands that no longer
/// exist are removed. It says so when `man` does not search the folder, and how
/// to make it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The manual folder to write into: pages go to DIR/man1 (or into DIR itself
    /// when it is a man1 folder). Default: $XDG_DATA_HOME/man, else
    /// ~/.local/share/man.
    // Its own id: `dir` is the global `-C`'s.
    #[arg(long = "dir", id = "man_dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args, cli: &clap::Command) -> CmdResult {
    let dir = match args.dir {
        Some(dir) => dir,
        None => manual::default_dir()?,
    };
    let done = manual::install(cli, &dir)?;
    if done.written.is_empty() {
        outln!(
            "the manual in {} is current: {} pages",
            done.dir.display(),
            done.pages
        );
    } else {
        outln!(
            "wrote the manual to {}: {} of its {} pages were new or changed",
            done.dir.display(),
            done.written.len(),
            done.pages
        );
    }
    if !done.removed.is_empty() {
        outln!(
            "removed the pages of commands that no longer exist: {}",
            done.removed.join(", ")
        );
    }
    let entry = manual::manpath_entry(&done.dir);
    match done.on_manpath {
        Some(true) => {
            outln!("open it with `git agentos --help`, `git help agentos` or `man git-agentos`");
            outln!("(one command: `man git-agentos-run`)");
        }
        Some(false) => {
            outln!("warning: `man` does not search {}", entry.display());
            outln!("hint: {}", manual::manpath_hint(entry));
            if manual::default_dir().is_ok_and(|d| d == entry) {
                outln!(
                    "hint: or put ~/.local/bin on PATH: man-db then searches ~/.local/share/man by itself"
                );
            }
        }
        None => outln!(
            "could not run `manpath` to check that `man` searches {}",
            entry.display()
        ),
    }
    Ok(())
}
