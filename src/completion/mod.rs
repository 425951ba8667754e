//! Shell completion: the scripts `git agentos completions` prints for bash, zsh
//! and fish (thin glue for each shell's git completion that asks
//! `git agentos __complete` for candidates), and the candidates themselves,
//! found by clap_complete's engine over the clap definitions, with task ids,
//! agents and templates read from `.agentos/` (see `values`).
mod values;

pub use crate::git::find_root;
pub use values::{with_arg, Values, DYNAMIC};

use crate::queue::Tree;
use clap::Command;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The shells there is a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => include_str!("git-agentos.bash"),
        Shell::Zsh => include_str!("_git-agentos.zsh"),
        Shell::Fish => include_str!("git-agentos.fish"),
    }
}

/// The candidates for the last of `words` (the command line up to the cursor,
/// `git-agentos` first, the word being completed last, maybe empty), one per
/// line as `shell`'s script reads them. `cwd` is where the shell is; a `-C DIR`
/// among the words moves there, as it does for the command itself.
pub fn candidates(cli: Command, shell: Shell, mut words: Vec<OsString>, cwd: &Path) -> Vec<String> {
    if words.is_empty() {
        words.push("git-agentos".into());
    }
    if words.len() == 1 {
        words.push(OsString::new());
    }
    let dir = run_dir(&words, cwd);
    let tree = find_root(&dir).map(|root| Tree::new(&root));
    let mut cmd = values::attach(cli, tree.as_ref());
    let index = words.len() - 1;
    let current = words[index].to_string_lossy().into_owned();
    let Ok(found) = clap_complete::engine::complete(&mut cmd, words, index, Some(&dir)) else {
        return Vec::new();
    };
    // Hidden commands stay out; hidden files only come when a `.` asks for them.
    let dotted = current
        .rsplit('/')
        .next()
        .is_some_and(|l| l.starts_with('.'));
    found
        .into_iter()
        .filter(|c| dotted || !c.is_hide_set())
        .map(|c| {
            let value = c.get_value().to_string_lossy().into_owned();
            let help = c.get_help().map(|h| h.to_string()).unwrap_or_default();
            (value, help)
        })
        // Options only once a `-` is typed, as git's own completion does.
        .filter(|(value, _)| current.starts_with('-') || !value.starts_with('-'))
        .map(|(value, help)| line(shell, &current, &value, &help))
        .collect()
}

/// The folder the command would run in: the last `-C DIR` before the word being
/// completed, relative to `cwd`.
fn run_dir(words: &[OsString], cwd: &Path) -> PathBuf {
    let mut dir = cwd.to_path_buf();
    let before = &words[1..words.len() - 1];
    let mut i = 0;
    while i < before.len() {
        let word = before[i].to_string_lossy();
        if word == "--" {
            break;
        }
        if word == "-C" {
            if let Some(next) = before.get(i + 1) {
                dir = dir.join(next);
            }
            i += 2;
            continue;
        }
        if let Some(attached) = word.strip_prefix("-C") {
            if !word.starts_with("--") {
                dir = dir.join(attached.trim_start_matches('='));
            }
        }
        i += 1;
    }
    dir
}

/// One candidate as the shell's script reads it. bash: the text that replaces
/// the word bash sees (which begins after its last `=` or `:`), and a space after
/// it unless it is a folder that goes on; zsh and fish: value, a tab, and the
/// help's first line.
fn line(shell: Shell, current: &str, value: &str, help: &str) -> String {
    match shell {
        Shell::Bash => {
            let cut = current.rfind(['=', ':']).map_or(0, |at| at + 1);
            let shown = value.strip_prefix(&current[..cut]).unwrap_or(value);
            if shown.ends_with('/') || shown.ends_with('=') {
                shown.to_string()
            } else {
                format!("{shown} ")
            }
        }
        Shell::Zsh | Shell::Fish => {
            let help = short_help(help);
            if help.is_empty() {
                value.to_string()
            } else {
                format!("{value}\t{help}")
            }
        }
    }
}

/// A help text as its first clause (see `manual::summary`), at most 70
/// characters, with control characters (tabs and newlines included) dropped.
fn short_help(help: &str) -> String {
    let clause: String = crate::manual::summary(help)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if clause.chars().count() <= 70 {
        return clause;
    }
    let mut cut: String = clause.chars().take(69).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests;
