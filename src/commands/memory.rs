//! `git agentos memory`: notes shared by every repository, searched by relevance.
use crate::error::CmdResult;
use crate::memory::{Note, Vault};
use crate::term::untrusted;
use serde::Serialize;
use std::path::Path;

/// Notes shared by every repository (in $AGENTOS_HOME/memory, default
/// ~/.agentos/memory), as Markdown files you can read and edit. Agents search them
/// through `git agentos mcp` instead of carrying copied context.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Add a note: `memory add "integration tests need docker" --tag testing`.
    Add {
        /// The note's text.
        text: String,
        /// A tag (repeatable).
        #[arg(long = "tag", short = 't', value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Notes ranked by relevance to the query (BM25 over text and tags).
    Search {
        query: String,
        /// Print JSON (id, score, tags, repo, time, text, path).
        #[arg(long)]
        json: bool,
        /// At most this many notes.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Every note, oldest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a note by id.
    Rm { id: String },
}

#[derive(Serialize)]
pub struct NoteView<'a> {
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<&'a str>,
    pub time: String,
    pub text: &'a str,
    pub path: String,
}

pub fn view<'a>(vault: &Vault, note: &'a Note, score: Option<f64>) -> NoteView<'a> {
    NoteView {
        id: &note.id,
        score: score.map(|s| (s * 1000.0).round() / 1000.0),
        tags: &note.tags,
        repo: note.repo.as_deref(),
        time: note.time.to_string(),
        text: &note.text,
        path: vault
            .dir
            .join(format!("{}.md", note.id))
            .display()
            .to_string(),
    }
}

/// A note for a person: agents write notes too, so its text is [`untrusted`].
fn print_note(note: &Note, score: Option<f64>) {
    let tags = if note.tags.is_empty() {
        String::new()
    } else {
        format!("  [{}]", note.tags.join(", "))
    };
    let score = score.map(|s| format!("  ({s:.2})")).unwrap_or_default();
    let mut text = format!("{}{tags}{score}\n", note.id);
    for line in note.text.lines() {
        text.push_str(&format!("    {line}\n"));
    }
    out!("{}", untrusted(&text));
}

/// The repository a note comes from: the enclosing repository's top folder.
fn source_repo(dir: &Path) -> Option<std::path::PathBuf> {
    crate::git::Repo::discover(dir)
        .ok()
        .map(|r| r.root().to_path_buf())
}

pub fn run(dir: &Path, args: Args) -> CmdResult<()> {
    let vault = Vault::open()?;
    match args.action {
        Action::Add { text, tags } => {
            let note = vault.add(&text, &tags, source_repo(dir).as_deref())?;
            outln!("{}", note.id);
        }
        Action::Search { query, json, limit } => {
            let (notes, bad) = vault.load()?;
            warn_bad(&bad);
            let hits = crate::memory::search::rank(&notes, &query);
            let hits = &hits[..hits.len().min(limit)];
            if json {
                let views: Vec<_> = hits
                    .iter()
                    .map(|h| view(&vault, h.note, Some(h.score)))
                    .collect();
                super::print_json(&views)?;
            } else if hits.is_empty() {
                outln!(
                    "no note matches `{}` ({} notes in {})",
                    untrusted(&query),
                    notes.len(),
                    vault.dir.display()
                );
            } else {
                for h in hits {
                    print_note(h.note, Some(h.score));
                }
            }
        }
        Action::List { json } => {
            let (notes, bad) = vault.load()?;
            warn_bad(&bad);
            if json {
                let views: Vec<_> = notes.iter().map(|n| view(&vault, n, None)).collect();
                super::print_json(&views)?;
            } else if notes.is_empty() {
                outln!(
                    "no notes yet in {}; add one with `git agentos memory add TEXT`",
                    vault.dir.display()
                );
            } else {
                for n in &notes {
                    print_note(n, None);
                }
            }
        }
        Action::Rm { id } => {
            vault.remove(&id)?;
            outln!("removed {id}");
        }
    }
    Ok(())
}

fn warn_bad(bad: &[crate::memory::Unreadable]) {
    for (path, why) in bad {
        eprintln!(
            "warning: skipped {}: {} (fix its `+++` front matter: tags, repo, time)",
            untrusted(&path.display().to_string()),
            untrusted(why)
        );
    }
}
