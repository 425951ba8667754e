//! The rules a task must meet before it can run: a title, targets inside the
//! repository, slugs for ids and agents, a revision for `base`, durations.
use super::{parse_duration, Problem, Task};
use std::path::{Component, Path};

/// True for a task id or agent name: `[a-z0-9][a-z0-9._-]*`.
pub fn is_slug(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
        && s.len() <= 200
}

/// Which of git's ref-name rules (check-ref-format) a slug breaks, if any.
fn branch_rule_broken(id: &str) -> Option<&'static str> {
    if id.contains("..") {
        Some("git refuses `..` in a branch name")
    } else if id.ends_with(".lock") {
        Some("git refuses a branch name that ends with `.lock`")
    } else if id.ends_with('.') {
        Some("git refuses a branch name that ends with `.`")
    } else {
        None
    }
}

/// The first control character in `text` (C0, DEL or C1), as `U+XXXX`.
fn control_char(text: &str) -> Option<String> {
    text.chars()
        .find(|c| c.is_control())
        .map(|c| format!("U+{:04X}", c as u32))
}

/// An id made from a title: lower case, every run of other characters a single `-`.
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
        if out.len() >= 60 {
            break;
        }
    }
    if out.is_empty() {
        "task".to_string()
    } else {
        out
    }
}

/// Check a target path or glob: relative, inside the repository, not into `.git`.
pub fn check_target(target: &str) -> Result<(), Problem> {
    let field = Some("targets");
    if let Some(c) = control_char(target) {
        return Err(Problem::new(
            field,
            format!(
                "target `{}` holds a control character ({c})",
                target.escape_debug()
            ),
            "targets are paths: remove the control character (a NUL, an escape, a newline…)",
        ));
    }
    if target.trim().is_empty() {
        return Err(Problem::new(
            field,
            "a target is empty",
            "give a repository-relative path or glob such as \"src/**\"",
        ));
    }
    let looks_absolute = target.starts_with('/')
        || target.starts_with('\\')
        || target.starts_with('~')
        || (target.len() > 1
            && target.as_bytes()[1] == b':'
            && target.as_bytes()[0].is_ascii_alphabetic());
    if looks_absolute {
        return Err(Problem::new(
            field,
            format!("target `{target}` is an absolute path"),
            "write it relative to the repository's top folder, e.g. \"src/lib.rs\"",
        ));
    }
    let mut depth: i64 = 0;
    for component in Path::new(target).components() {
        match component {
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return Err(Problem::new(
                        field,
                        format!("target `{target}` leaves the repository through `..`"),
                        "name a path inside the repository, relative to its top folder",
                    ));
                }
            }
            Component::Normal(part) => {
                let part = part.to_string_lossy();
                if part == ".git" {
                    return Err(Problem::new(
                        field,
                        format!("target `{target}` points into `.git`"),
                        "targets name files of the working tree; git's own folder is never a target",
                    ));
                }
                if part.contains("**") && depth >= 0 {
                    // `**/..` could climb any number of levels: refuse to guess.
                    depth = i64::MAX / 2;
                }
                depth += 1;
            }
            _ => {}
        }
    }
    if target.split(['/', '\\']).any(|p| p == "..") && depth > i64::MAX / 4 {
        return Err(Problem::new(
            field,
            format!("target `{target}` combines `**` with `..`"),
            "name the folder directly instead of climbing out of a glob",
        ));
    }
    Ok(())
}

/// A target with glob syntax must compile as the verifier compiles it: a task
/// whose target the verifier would refuse never runs.
fn check_glob(target: &str) -> Result<(), Problem> {
    if !super::targets::is_glob(target) {
        return Ok(());
    }
    super::targets::glob_set(&[target.to_string()]).map_err(|e| {
        Problem::new(
            Some("targets"),
            e.to_string(),
            "close the bracket or brace, or write a literal `[`, `*` or `?` as `[[]`, `[*]` or `[?]`",
        )
    })?;
    Ok(())
}

/// Check the rules a task must meet before it can run.
pub fn validate(task: &Task) -> Result<(), Problem> {
    if task.title.trim().is_empty() {
        return Err(Problem::new(
            Some("title"),
            "the title is missing or empty",
            "add a line such as `title = \"Fix the install command in the README\"`",
        ));
    }
    if task.title.contains('\n') || task.title.contains('\r') {
        return Err(Problem::new(
            Some("title"),
            "the title spans several lines",
            "keep the title on one line and put the details in the body",
        ));
    }
    if task.targets.is_empty() {
        return Err(Problem::new(
            Some("targets"),
            "there are no targets",
            "add the paths the change may touch, e.g. `targets = [\"README.md\"]` or `targets = [\"src/api/**\"]`",
        ));
    }
    for target in &task.targets {
        check_target(target)?;
        check_glob(target)?;
    }
    if let Some(agent) = &task.agent {
        if !is_slug(agent) {
            return Err(Problem::new(
                Some("agent"),
                format!("agent `{agent}` is not a valid agent name"),
                "use the name of a folder under .agentos/agents/ (lower-case letters, digits, `.`, `_`, `-`)",
            ));
        }
    }
    if let Some(base) = &task.base {
        if base.trim().is_empty() || base.starts_with('-') || base.contains(char::is_whitespace) {
            return Err(Problem::new(
                Some("base"),
                format!("base `{base}` is not a revision"),
                "name a branch or commit, e.g. `base = \"main\"`, or leave it out to use HEAD",
            ));
        }
    }
    if task.verify.iter().any(|c| c.trim().is_empty()) {
        return Err(Problem::new(
            Some("verify"),
            "a verify command is empty",
            "remove the empty entry or write the command to run",
        ));
    }
    if let Some(timeout) = &task.timeout {
        match parse_duration(timeout) {
            Some(d) if !d.is_zero() => {}
            _ => {
                return Err(Problem::new(
                    Some("timeout"),
                    format!("timeout `{timeout}` is not a duration"),
                    "write it like \"90s\", \"30m\" or \"1h30m\"",
                ))
            }
        }
    }
    super::scheduling::validate(task)
}

/// Check that a task id is a slug that can name its branch `agentos/<id>`
/// (git's check-ref-format rules that a slug can break: no `..`, no trailing
/// `.` and no `.lock` at the end); the id is the file stem.
pub fn check_id(id: &str) -> Result<(), Problem> {
    if is_slug(id) {
        if let Some(rule) = branch_rule_broken(id) {
            let suggestion = id.replace("..", ".").trim_end_matches(['.']).to_string();
            let suggestion = suggestion
                .strip_suffix(".lock")
                .map_or(suggestion.clone(), |s| format!("{s}-lock"));
            return Err(Problem::new(
                None,
                format!("the task id `{id}` (the file name without `.md`) cannot name the git branch `agentos/{id}`: {rule}"),
                format!("rename the file to `{suggestion}.md`"),
            ));
        }
        return Ok(());
    }
    let suggestion = slugify(id);
    if let Some(c) = control_char(id) {
        return Err(Problem::new(
            None,
            format!(
                "the task id `{}` (the file name without `.md`) holds a control character ({c})",
                id.escape_debug()
            ),
            format!("rename the file to `{suggestion}.md`: ids use lower-case letters, digits, `.`, `_` and `-`"),
        ));
    }
    Err(Problem::new(
        None,
        format!("the task id `{id}` (the file name without `.md`) is not a slug"),
        format!("rename the file to `{suggestion}.md`: ids use lower-case letters, digits, `.`, `_` and `-`, and start with a letter or digit"),
    ))
}
