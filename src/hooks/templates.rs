//! Task templates: built-in ones (bugfix, docs, tests, refactor) embedded in the
//! binary, each overridable by `.agentos/templates/<name>.md`, and any other
//! template a repository adds there. A template is a task file whose text may hold
//! `{{title}}`, `{{body}}`, `{{commit}}`, `{{subject}}`, `{{files}}` and `{{targets}}`.
use crate::queue::Tree;
use crate::task::{self, Problem, Task, TaskFileError};

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
    if let Ok(rd) = std::fs::read_dir(tree.dir.join("templates")) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
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

/// The text of a template: the repository's copy first, then the built-in one.
pub fn load(tree: &Tree, name: &str) -> Result<String, TemplateError> {
    if !task::is_slug(name) {
        return Err(TemplateError::BadName(name.to_string()));
    }
    let path = tree.dir.join("templates").join(format!("{name}.md"));
    if path.exists() {
        return Ok(task::read_text(&path)?);
    }
    if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name) {
        return Ok(text.to_string());
    }
    Err(TemplateError::Missing {
        name: name.to_string(),
        known: list(tree).into_iter().map(|(n, _)| n).collect(),
    })
}

/// Fill a template's placeholders and parse the result as a task. Inside the front
/// matter a value is escaped for a TOML string, so no value can change its syntax.
pub fn render(template: &str, name: &str, vars: &[(&str, &str)]) -> Result<Task, TemplateError> {
    let (front, body) = split(template);
    let fill = |text: &str, escape: bool| {
        let mut out = text.to_string();
        for (key, value) in vars {
            let value = if escape {
                toml_inner(value)
            } else {
                value.to_string()
            };
            out = out.replace(&format!("{{{{{key}}}}}"), &value);
        }
        out
    };
    let text = format!("{}{}", fill(front, true), fill(body, false));
    task::parse(&text).map_err(|problem| TemplateError::Invalid {
        name: name.to_string(),
        problem,
    })
}

/// The front matter (with its `+++` lines) and the body of a template.
fn split(text: &str) -> (&str, &str) {
    let mut seen = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end() == "+++" {
            seen += 1;
            if seen == 2 {
                return (&text[..offset], &text[offset..]);
            }
        }
    }
    (text, "")
}

/// A value as it may appear between the quotes of a TOML basic string.
fn toml_inner(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
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
