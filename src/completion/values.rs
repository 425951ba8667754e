//! The values completion offers beyond the clap definitions: task ids by state
//! folder, agent names, templates, states and memory notes, each read from file
//! names only (no task file is opened or parsed); the repository they belong
//! to is found without libgit2 ([`crate::git::find_root`]: a Tab press should
//! cost a few milliseconds).
use crate::queue::{self, State, Tree};
use clap::{Arg, Command, ValueHint};
use clap_complete::engine::{
    ArgValueCandidates, ArgValueCompleter, CompletionCandidate, PathCompleter,
};
use std::fs;
use std::path::Path;

/// What an argument completes to.
#[derive(Debug, Clone, Copy)]
pub enum Values {
    /// Ids of the tasks in these state folders.
    Tasks(&'static [State]),
    /// Agent names: `.agentos/agents/<name>/`, and `default`.
    Agents,
    /// Template names: the built-in ones and `.agentos/templates/<name>.md`.
    Templates,
    /// The state names.
    States,
    /// Note ids in the memory vault.
    Notes,
    /// Paths relative to the repository's top folder (task targets).
    RepoPaths,
}

const ALL: &[State] = &State::ALL;
const SETTLED: &[State] = &[State::Doing, State::Review, State::Done, State::Failed];

/// Which argument of which command takes which values: the command's path
/// (`["memory", "rm"]`), the argument's id, the values. A test checks that every
/// entry names an argument that exists.
pub const DYNAMIC: &[(&[&str], &str, Values)] = &[
    (&["show"], "id", Values::Tasks(ALL)),
    (&["retry"], "id", Values::Tasks(&[State::Failed])),
    (
        &["cancel"],
        "id",
        Values::Tasks(&[State::Todo, State::Doing, State::Review]),
    ),
    (&["logs"], "id", Values::Tasks(SETTLED)),
    (&["verify"], "id", Values::Tasks(SETTLED)),
    (&["mcp"], "task", Values::Tasks(ALL)),
    (&["friction"], "task", Values::Tasks(ALL)),
    (&["add"], "agent", Values::Agents),
    (&["add"], "template", Values::Templates),
    (&["add"], "targets", Values::RepoPaths),
    (&["list"], "state", Values::States),
    (&["sync"], "id", Values::Tasks(&[State::Review])),
    (&["memory", "rm"], "id", Values::Notes),
];

/// `cmd` with every argument in [`DYNAMIC`] given its values, read from `tree`
/// (None outside a repository: then those arguments complete to nothing).
pub fn attach(mut cmd: Command, tree: Option<&Tree>) -> Command {
    for (path, arg, values) in DYNAMIC {
        let tree = tree.cloned();
        let values = *values;
        cmd = with_arg(cmd, path, arg, move |a| give(a, values, tree));
    }
    cmd
}

fn give(arg: Arg, values: Values, tree: Option<Tree>) -> Arg {
    match values {
        Values::RepoPaths => {
            let mut paths = PathCompleter::any();
            if let Some(tree) = tree {
                paths = paths.current_dir(tree.repo_root);
            }
            arg.value_hint(ValueHint::AnyPath)
                .add(ArgValueCompleter::new(paths))
        }
        _ => arg.add(ArgValueCandidates::new(move || match &tree {
            Some(tree) => candidates(values, tree),
            None => static_candidates(values),
        })),
    }
}

/// The argument `id` of the command at `path` changed by `f`; `cmd` unchanged
/// when there is no such command or argument.
pub fn with_arg(cmd: Command, path: &[&str], id: &str, f: impl FnOnce(Arg) -> Arg) -> Command {
    match path.split_first() {
        None if cmd.get_arguments().any(|a| a.get_id() == id) => cmd.mut_arg(id, f),
        None => cmd,
        Some((first, rest)) if cmd.find_subcommand(first).is_some() => {
            cmd.mut_subcommand(first, |sub| with_arg(sub, rest, id, f))
        }
        Some(_) => cmd,
    }
}

fn static_candidates(values: Values) -> Vec<CompletionCandidate> {
    match values {
        Values::States => State::ALL
            .iter()
            .map(|s| CompletionCandidate::new(s.name()))
            .collect(),
        Values::Notes => notes(),
        _ => Vec::new(),
    }
}

fn candidates(values: Values, tree: &Tree) -> Vec<CompletionCandidate> {
    match values {
        Values::Tasks(states) => tasks(tree, states),
        Values::Agents => agents(tree),
        Values::Templates => crate::hooks::templates::list(tree)
            .into_iter()
            .filter(|(name, _)| crate::task::is_slug(name))
            .map(|(name, source)| {
                let from = match source {
                    crate::hooks::templates::Source::BuiltIn => "built in".to_string(),
                    crate::hooks::templates::Source::Repository { .. } => {
                        format!(".agentos/templates/{name}.md")
                    }
                };
                CompletionCandidate::new(name).help(Some(from.into()))
            })
            .collect(),
        Values::States | Values::Notes | Values::RepoPaths => static_candidates(values),
    }
}

/// Ids of the tasks in these folders, with the folder as help. Only ids that
/// are slugs: a file name with odd characters never reaches a terminal.
fn tasks(tree: &Tree, states: &[State]) -> Vec<CompletionCandidate> {
    let mut out = Vec::new();
    for state in states {
        for entry in queue::entries(tree, *state).unwrap_or_default() {
            if !crate::task::is_slug(&entry.id) {
                continue;
            }
            let help = match &entry.folder_agent {
                Some(agent) if crate::task::is_slug(agent) => {
                    format!("{} (agent {agent})", state.name())
                }
                _ => state.name().to_string(),
            };
            out.push((entry.id, help));
        }
    }
    out.sort();
    out.into_iter()
        .map(|(id, help)| CompletionCandidate::new(id).help(Some(help.into())))
        .collect()
}

fn agents(tree: &Tree) -> Vec<CompletionCandidate> {
    let mut names = vec!["default".to_string()];
    names.extend(dir_names(&tree.agents_dir(), |e| {
        e.file_type().is_ok_and(|t| t.is_dir())
    }));
    names.sort();
    names.dedup();
    names.into_iter().map(CompletionCandidate::new).collect()
}

fn notes() -> Vec<CompletionCandidate> {
    let Ok(dir) = crate::memory::vault_dir() else {
        return Vec::new();
    };
    let mut ids: Vec<String> = dir_names(&dir, |e| e.file_type().is_ok_and(|t| t.is_file()))
        .into_iter()
        .filter_map(|n| n.strip_suffix(".md").map(str::to_string))
        .filter(|n| crate::task::is_slug(n))
        .collect();
    ids.sort();
    ids.into_iter().map(CompletionCandidate::new).collect()
}

/// The slug-like names of the entries in `dir` that `keep` accepts.
fn dir_names(dir: &Path, keep: impl Fn(&fs::DirEntry) -> bool) -> Vec<String> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| keep(e))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect()
}
