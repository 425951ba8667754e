//! `git agentos fleet`: the repositories one `watch --fleet` serves, as links in
//! $AGENTOS_HOME/fleet/ (add, list, rm); and the fleet's side of `status`,
//! `list` and `friction --fleet`.
use super::print_json;
use crate::error::CmdResult;
use crate::fleet::{self, Member};
use crate::term::untrusted;
use crate::workspace::Workspace;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The fleet: repositories served by one `git agentos watch --fleet`.
///
/// The fleet is the folder $AGENTOS_HOME/fleet/ (default ~/.agentos/fleet):
/// one symbolic link per repository, named for it. `ln -s ~/src/web
/// ~/.agentos/fleet/web` does what `fleet add ~/src/web` does. A link whose
/// repository is gone is shown, never fatal.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    /// Link a repository (PATH, default: this one) into the fleet.
    Add {
        /// A folder of the repository.
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
        /// Its name in the fleet (default: its folder's name, as a slug).
        #[arg(long, value_name = "N")]
        name: Option<String>,
    },
    /// The fleet's repositories, and what is wrong with any that cannot be served.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a repository's link from the fleet (the repository stays as it is).
    Rm {
        #[arg(value_name = "NAME")]
        name: String,
    },
}

/// The fleet folder, made if missing.
pub fn fleet_dir() -> CmdResult<PathBuf> {
    let home = crate::memory::agentos_home()?;
    Ok(fleet::fleet_dir(&home))
}

pub fn run(dir: &Path, args: Args) -> CmdResult {
    let fleet_dir = fleet_dir()?;
    match args.command {
        Sub::Add { path, name } => {
            let ws = Workspace::discover(&path.unwrap_or_else(|| dir.to_path_buf()))?;
            let (name, made) = fleet::add(&fleet_dir, &ws, name.as_deref())?;
            let root = ws.tree.repo_root.display().to_string();
            if made {
                outln!("added {name}: {}", untrusted(&root));
            } else {
                outln!("{name} is already in the fleet: {}", untrusted(&root));
            }
        }
        Sub::Rm { name } => {
            let target = fleet::remove(&fleet_dir, &name)?;
            outln!(
                "removed {name} (it pointed to {}; nothing there was touched)",
                untrusted(&target.display().to_string())
            );
        }
        Sub::List { json } => {
            let members = fleet::members(&fleet_dir);
            if json {
                return print_json(&members.iter().map(Listed::from).collect::<Vec<_>>());
            }
            if members.is_empty() {
                outln!(
                    "The fleet is empty. Add a repository with: git agentos fleet add PATH (links go in {})",
                    untrusted(&fleet_dir.display().to_string())
                );
            }
            for m in &members {
                let l = Listed::from(m);
                let line = match &l.problem {
                    None => format!("{:<20} {}", l.name, l.path),
                    Some(p) => format!("{:<20} {}  ({p})", l.name, l.path),
                };
                outln!("{}", untrusted(&line));
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Listed {
    name: String,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

impl From<&Member> for Listed {
    fn from(m: &Member) -> Listed {
        Listed {
            name: m.name.clone(),
            path: fleet::folder::target(&m.origin).display().to_string(),
            problem: m.tree.as_ref().err().cloned(),
        }
    }
}

/// The fleet's repositories that can be read, as workspaces; the others said
/// on stderr (a dangling link is never fatal).
fn workspaces() -> CmdResult<Vec<(String, Workspace)>> {
    let mut found = Vec::new();
    for m in fleet::members(&fleet_dir()?) {
        match m.tree.map(|t| Workspace::discover(&t.repo_root)) {
            Ok(Ok(ws)) => found.push((m.name, ws)),
            Ok(Err(e)) => eprintln!("{}: {}", untrusted(&m.name), untrusted(&e.to_string())),
            Err(problem) => eprintln!("{}: {}", untrusted(&m.name), untrusted(&problem)),
        }
    }
    Ok(found)
}

/// A value with the repository it belongs to.
#[derive(Serialize)]
struct InRepo<T: Serialize> {
    repository: String,
    #[serde(flatten)]
    value: T,
}

/// `list --fleet`.
pub fn list(states: &[crate::queue::State], json: bool) -> CmdResult {
    let members = workspaces()?;
    if json {
        let mut all = Vec::new();
        for (name, ws) in &members {
            for value in super::list::views(ws, states)? {
                all.push(InRepo {
                    repository: name.clone(),
                    value,
                });
            }
        }
        return print_json(&all);
    }
    let (mut rows, mut repos) = (Vec::new(), Vec::new());
    for (name, ws) in &members {
        let mine = super::list::rows(ws, states)?;
        repos.extend(std::iter::repeat_n(name.clone(), mine.len()));
        rows.extend(mine);
    }
    if rows.is_empty() {
        outln!("No tasks in the fleet.");
        return Ok(());
    }
    super::list::print_table(&rows, Some(&repos));
    Ok(())
}

/// `friction --fleet`: each repository's log, summarised.
pub fn friction(since: Option<crate::clock::Timestamp>, json: bool) -> CmdResult {
    let now = crate::clock::Timestamp::now();
    let mut all = Vec::new();
    for (name, ws) in workspaces()? {
        let log = crate::friction::path(&ws.tree);
        let (mut events, unreadable) = crate::friction::read(&ws.tree)
            .map_err(crate::path_error::PathError::at("read", &log))?;
        if let Some(from) = since {
            events.retain(|e| e.time >= from);
        }
        let value = crate::friction::report::summarize(&events, unreadable, now);
        all.push(InRepo {
            repository: name,
            value,
        });
    }
    if json {
        return print_json(&all);
    }
    if all.is_empty() {
        outln!("The fleet is empty.");
    }
    for (i, r) in all.iter().enumerate() {
        if i > 0 {
            outln!();
        }
        outln!("== {} ==", untrusted(&r.repository));
        super::friction::print_text(&r.value);
    }
    Ok(())
}

/// `status --fleet`.
pub fn status(json: bool) -> CmdResult {
    let all = fleet::status::status(&fleet_dir()?, crate::clock::now());
    if json {
        return print_json(&all);
    }
    let mut out = String::new();
    if all.is_empty() {
        out.push_str("The fleet is empty. Add a repository with: git agentos fleet add PATH\n");
    }
    for r in &all {
        let _ = write_status(r, &mut out);
    }
    out!("{}", untrusted(&out));
    Ok(())
}

fn write_status(r: &fleet::status::RepoStatus, out: &mut String) -> std::fmt::Result {
    use std::fmt::Write;
    writeln!(out, "{}  {}", r.name, r.path)?;
    if let Some(problem) = &r.problem {
        writeln!(out, "  cannot be served: {problem}")?;
        if r.counts.is_empty() {
            return Ok(());
        }
    }
    match &r.dispatcher {
        Some(h) => writeln!(out, "  dispatcher: {h}")?,
        None => writeln!(out, "  dispatcher: none")?,
    }
    let counts: Vec<String> = crate::queue::State::ALL
        .iter()
        .filter_map(|s| Some(format!("{} {}", s.name(), r.counts.get(s.name())?)))
        .collect();
    writeln!(out, "  {}", counts.join(", "))?;
    for t in &r.running {
        writeln!(out, "  running {} (agent {}): {}", t.id, t.agent, t.step)?;
    }
    if let Some(pause) = &r.pause {
        writeln!(out, "  {pause}")?;
    }
    for p in &r.open_pull_requests {
        writeln!(out, "  review {}: {} ({})", p.id, p.url, p.waiting)?;
    }
    if let Some(f) = &r.last_failure {
        writeln!(out, "  last failure {}: {}", f.id, f.reason)?;
    }
    Ok(())
}
