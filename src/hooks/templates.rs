//! Task templates: built-in ones (bugfix, docs, tests, refactor) embedded in the
//! binary, each overridable by `.agentos/templates/<name>.md`, and any other
//! template a repository adds there. A template is a task file whose text may hold
//! `{{title}}`, `{{body}}`, `{{commit}}`, `{{subject}}`, `{{files}}` and `{{targets}}`,
//! filled in after the template is parsed (in `verify`, only `{{commit}}`: the
//! other values reach a verify command as environment variables).
use crate::nofollow::Dir;
use crate::queue::Tree;
use crate::task::{self, Problem, Task, TaskFileError, MAX_TASK_BYTES};

pub const BUILT_IN: [(&str, &str); 4] = [
    ("bugfix", include_str!("../../templates/tasks/bugfix.md")),
    ("docs", include_str!("../../templates/tasks/docs.md")),
    ("tests", include_str!("../../templates/tasks/tests.md")),
    (
        "refactor",
        include_str!("../../templates/tasks/refactor.md"),
    ),
];

/// A template that cannot be found, read or filled in.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("`{0}` is not a template name")]
    BadName(String),
    #[error(transparent)]
    Unreadable(#[from] TaskFileError),
    #[error("there is no template `{name}` (templates: {})", known.join(", "))]
    Missing { name: String, known: Vec<String> },
    #[error("template `{name}`: {problem}")]
    Invalid { name: String, problem: Problem },
    #[error("template `{name}`: {reason}")]
    Unquotable {
        name: String,
        reason: super::shell::Unquotable,
    },
}

/// Where a template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    BuiltIn,
    /// `.agentos/templates/<name>.md` (overriding a built-in one, or new).
    Repository {
        overrides: bool,
    },
}

/// Every template this repository can use, by name.
pub fn list(tree: &Tree) -> Vec<(String, Source)> {
    let mut out: Vec<(String, Source)> = BUILT_IN
        .iter()
        .map(|(n, _)| (n.to_string(), Source::BuiltIn))
        .collect();
    if let Ok(names) = templates_dir(tree).and_then(|d| d.names()) {
        for name in names {
            let name = name.to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".md") else {
                continue;
            };
            match out.iter_mut().find(|(n, _)| n == stem) {
                Some(slot) => slot.1 = Source::Repository { overrides: true },
                None => out.push((stem.to_string(), Source::Repository { overrides: false })),
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `.agentos/templates/`, opened without following a link.
fn templates_dir(tree: &Tree) -> std::io::Result<Dir> {
    Dir::open(&tree.dir)?.sub("templates", false)
}

/// The text of a template: the repository's copy first, then the built-in one.
/// The repository's is read as a task file is: never through a link, a regular
/// UTF-8 file of at most 1 MiB.
pub fn load(tree: &Tree, name: &str) -> Result<String, TemplateError> {
    if !task::is_slug(name) {
        return Err(TemplateError::BadName(name.to_string()));
    }
    let file = format!("{name}.md");
    let path = tree.dir.join("templates").join(&file);
    let unreadable = |what: String| {
        TemplateError::Unreadable(TaskFileError {
            file: path.clone(),
            problem: Problem::new(
                None,
                what,
                "a template is a regular Markdown file in .agentos/templates/ (not a link)",
            ),
        })
    };
    let found = match templates_dir(tree).and_then(|d| d.read(&file, MAX_TASK_BYTES)) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(unreadable(format!("cannot be read: {e}"))),
    };
    if let Some(bytes) = found {
        return String::from_utf8(bytes).map_err(|_| unreadable("is not UTF-8".into()));
    }
    if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name) {
        return Ok(text.to_string());
    }
    Err(TemplateError::Missing {
        name: name.to_string(),
        known: list(tree).into_iter().map(|(n, _)| n).collect(),
    })
}

/// Placeholders whose values are safe in a command as they are: a commit id.
const VERBATIM: [&str; 1] = ["commit"];

/// Parse a template as a task, then fill the placeholders in its fields. A value
/// never changes the file's syntax (it is filled in after parsing), and in
/// `verify`, the commands that are run, no value but the commit id is filled in:
/// the others reach a command as environment variables (see [`super::shell`]).
pub fn render(template: &str, name: &str, vars: &[(&str, &str)]) -> Result<Task, TemplateError> {
    let mut task = task::parse(template).map_err(|problem| TemplateError::Invalid {
        name: name.to_string(),
        problem,
    })?;
    let fill = |text: &mut String| {
        if text.contains("{{") {
            *text = substitute(text, vars);
        }
    };
    fill(&mut task.title);
    fill(&mut task.body);
    for text in task.targets.iter_mut().chain(task.labels.iter_mut()) {
        fill(text);
    }
    for text in [
        &mut task.agent,
        &mut task.base,
        &mut task.base_branch,
        &mut task.timeout,
    ]
    .into_iter()
    .flatten()
    {
        fill(text);
    }
    for command in &mut task.verify {
        *command = super::shell::fill(command, vars, &VERBATIM).map_err(|reason| {
            TemplateError::Unquotable {
                name: name.to_string(),
                reason,
            }
        })?;
    }
    Ok(task)
}

/// Fill placeholders in one pass: a value is never read again, so a value that
/// holds `{{body}}` stays that text.
pub fn substitute(text: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match vars
            .iter()
            .find(|(key, _)| rest.starts_with(&format!("{{{{{key}}}}}")))
        {
            Some((key, value)) => {
                out.push_str(value);
                rest = &rest[key.len() + 4..];
            }
            None => {
                out.push_str("{{");
                rest = &rest[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where a template comes from, for messages: its file, or "the built-in template".
pub fn describe(tree: &Tree, name: &str) -> String {
    let path = tree.dir.join("templates").join(format!("{name}.md"));
    if std::fs::symlink_metadata(&path).is_ok() {
        path.strip_prefix(&tree.repo_root)
            .unwrap_or(&path)
            .display()
            .to_string()
    } else {
        format!("the built-in template `{name}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_render_into_tasks() {
        for (name, text) in BUILT_IN {
            let task = render(
                text,
                name,
                &[
                    ("title", "Do \"it\"\nnow"),
                    ("body", "+++\nnot front matter"),
                ],
            )
            .expect(name);
            assert!(
                task.title.contains("Do \"it\"\nnow"),
                "{name}: {}",
                task.title
            );
            assert!(
                task.body.ends_with("+++\nnot front matter\n"),
                "{name}: {}",
                task.body
            );
        }
    }
}
