//! Triggers, `.agentos/triggers/<name>.toml`: path globs over a commit's changed
//! files and the task template they start.
use super::templates;
use crate::git::{ChangedFile, CommitInfo};
use crate::nofollow::Dir;
use crate::queue::Tree;
use crate::task::{Task, MAX_TASK_BYTES};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A trigger file that cannot be read or does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct TriggerError {
    pub path: PathBuf,
    pub message: String,
}

/// `.agentos/triggers/<name>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Globs over the commit's changed paths; any match fires the trigger.
    pub paths: Vec<String>,
    /// The task template (built-in or .agentos/templates/<name>.md).
    pub template: String,
    /// The task's targets.
    pub targets: Vec<String>,
    /// The `{{title}}` given to the template; may use `{{subject}}` and `{{commit}}`.
    pub title: Option<String>,
    pub agent: Option<String>,
    pub priority: Option<i64>,
}

/// Read every trigger; a broken one is an error naming its file. The folder and
/// each file are opened without following a link, only regular files are read,
/// and a file over the 1 MiB limit of a task file is refused unread (a trigger
/// that is a link to `/dev/zero` costs nothing).
pub fn load_triggers(tree: &Tree) -> Vec<Result<(String, Trigger), TriggerError>> {
    let path = tree.dir.join("triggers");
    let dir = Dir::open(&tree.dir).and_then(|d| d.sub("triggers", false));
    let (dir, mut names) = match dir.and_then(|d| d.names().map(|n| (d, n))) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            let message = e.to_string();
            return vec![Err(TriggerError { path, message })];
        }
    };
    names.retain(|n| Path::new(n).extension().is_some_and(|x| x == "toml"));
    names.sort();
    names
        .into_iter()
        .map(|file| {
            let path = path.join(&file);
            let name = Path::new(&file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let fail = |message: String| TriggerError {
                path: path.clone(),
                message,
            };
            let bytes = dir
                .read(&file, MAX_TASK_BYTES)
                .map_err(|e| fail(e.to_string()))?
                .ok_or_else(|| fail("it is gone".into()))?;
            let text = String::from_utf8(bytes).map_err(|_| fail("it is not UTF-8".into()))?;
            let trigger: Trigger = toml::from_str(&text).map_err(|e| {
                fail(format!(
                    "{} (fields: paths, template, targets, title, agent, priority)",
                    e.message().trim()
                ))
            })?;
            Ok((name, trigger))
        })
        .collect()
}

/// The files of a commit a trigger's `paths` match (compared as bytes, so a
/// name that is not UTF-8 matches too); an error names the trigger's file.
pub(super) fn matching<'c>(
    tree: &Tree,
    name: &str,
    trigger: &Trigger,
    commit: &'c CommitInfo,
) -> Result<Vec<&'c ChangedFile>, String> {
    let set = crate::task::targets::glob_set(&trigger.paths).map_err(|e| {
        format!(
            "{}/triggers/{name}.toml: field `paths`: {e}",
            tree.dir.display()
        )
    })?;
    Ok(commit
        .files
        .iter()
        .filter(|f| set.is_match(f.path()))
        .collect())
}

/// `{{files}}`: one `- path` line per file, at most `limit` of them, then how
/// many more there are.
fn files_list(matched: &[&ChangedFile], limit: Option<usize>) -> String {
    let shown = limit.unwrap_or(usize::MAX).min(matched.len());
    let mut out: String = matched[..shown]
        .iter()
        .map(|f| format!("- {}\n", f.shown))
        .collect();
    if shown < matched.len() {
        out.push_str(&format!(
            "- … and {} more ({} files in all)\n",
            matched.len() - shown,
            matched.len()
        ));
    }
    out
}

/// The task a trigger makes from a commit and the files it matched, the list
/// shortened to `limit` files when given; an error names the trigger's file and
/// the template.
pub(super) fn trigger_task(
    tree: &Tree,
    name: &str,
    trigger: &Trigger,
    commit: &CommitInfo,
    matched: &[&ChangedFile],
    limit: Option<usize>,
) -> Result<Task, String> {
    let files = files_list(matched, limit);
    let short = &commit.sha[..commit.sha.len().min(12)];
    let title = templates::substitute(
        trigger.title.as_deref().unwrap_or("{{subject}}"),
        &[("subject", &commit.subject), ("commit", short)],
    );
    let body = format!(
        "Commit {} (\"{}\") changed files that trigger `{name}` watches:\n{files}",
        commit.sha, commit.subject
    );
    let targets = trigger.targets.join(", ");
    let vars = [
        ("title", title.as_str()),
        ("body", body.as_str()),
        ("commit", commit.sha.as_str()),
        ("subject", commit.subject.as_str()),
        ("files", files.as_str()),
        ("targets", targets.as_str()),
    ];
    let mut task = templates::load(tree, &trigger.template)
        .and_then(|text| templates::render(&text, &trigger.template, &vars))
        .map_err(|e| {
            format!(
                "{}/triggers/{name}.toml: {}: {e}",
                tree.dir.display(),
                templates::describe(tree, &trigger.template)
            )
        })?;
    task.targets = trigger.targets.clone();
    if trigger.agent.is_some() {
        task.agent = trigger.agent.clone();
    }
    if let Some(p) = trigger.priority {
        task.priority = p;
    }
    Ok(task)
}
