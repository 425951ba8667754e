//! The task file: Markdown with TOML front matter between `+++` lines; parse, validate, write.
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// The largest task file accepted.
pub const MAX_TASK_BYTES: u64 = 1024 * 1024;

/// One task, as its file says it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Task {
    pub title: String,
    pub targets: Vec<String>,
    pub agent: Option<String>,
    pub base: Option<String>,
    /// The branch HEAD was on when the task was enqueued (the pull request's base).
    pub base_branch: Option<String>,
    pub verify: Vec<String>,
    pub priority: i64,
    pub timeout: Option<String>,
    /// When the task entered the queue; orders tasks of equal priority.
    pub enqueued: Option<Timestamp>,
    /// `false`: the change need not touch every plain-path target.
    pub require_all: Option<bool>,
    /// Open the pull request as a draft.
    pub draft: Option<bool>,
    /// Labels for the pull request.
    pub labels: Vec<String>,
    pub body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: Option<String>,
    targets: Option<Vec<String>>,
    agent: Option<String>,
    base: Option<String>,
    base_branch: Option<String>,
    verify: Option<Vec<String>>,
    priority: Option<i64>,
    timeout: Option<String>,
    enqueued: Option<Timestamp>,
    require_all: Option<bool>,
    draft: Option<bool>,
    labels: Option<Vec<String>>,
}

/// What is wrong with a task, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The front-matter field at fault, if one is.
    pub field: Option<String>,
    /// The line in the file, when known.
    pub line: Option<usize>,
    pub what: String,
    pub fix: String,
}

impl Problem {
    fn new(field: Option<&str>, what: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem {
            field: field.map(str::to_string),
            line: None,
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}; {}", self.what, self.fix)
    }
}

/// A problem with a named task file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFileError {
    pub file: PathBuf,
    pub problem: Problem,
}

impl fmt::Display for TaskFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.problem)
    }
}

impl std::error::Error for TaskFileError {}

const DELIMITER: &str = "+++";

fn is_delimiter(line: &str) -> bool {
    line.trim_end() == DELIMITER
}

/// Parse a task file's text. Checks syntax and types only; see [`validate`] for the rules.
pub fn parse(text: &str) -> Result<Task, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let missing = || {
        Problem::new(
            None,
            "the file does not start with a `+++` line",
            "begin the file with `+++`, the TOML front matter (title, targets), and another `+++` line",
        )
    };
    let (first, mut rest) = match text.split_once('\n') {
        Some((first, rest)) => (first, rest),
        None => (text, ""),
    };
    if !is_delimiter(first) {
        return Err(missing());
    }
    let front_start = text.len() - rest.len();
    let mut front_len = 0;
    let body;
    loop {
        let (line, after, had_newline) = match rest.split_once('\n') {
            Some((line, after)) => (line, after, true),
            None => (rest, "", false),
        };
        if is_delimiter(line) {
            body = after;
            break;
        }
        if !had_newline {
            return Err(Problem::new(
                None,
                "the front matter has no closing `+++` line",
                "end the TOML front matter with a line that holds only `+++`",
            ));
        }
        front_len += line.len() + 1;
        rest = after;
    }
    let front = &text[front_start..front_start + front_len];
    let fm: FrontMatter = toml::from_str(front).map_err(|e| toml_problem(text, front_start, &e))?;
    Ok(Task {
        title: fm.title.unwrap_or_default(),
        targets: fm.targets.unwrap_or_default(),
        agent: fm.agent,
        base: fm.base,
        base_branch: fm.base_branch,
        verify: fm.verify.unwrap_or_default(),
        priority: fm.priority.unwrap_or(0),
        timeout: fm.timeout,
        enqueued: fm.enqueued,
        require_all: fm.require_all,
        draft: fm.draft,
        labels: fm.labels.unwrap_or_default(),
        body: body.to_string(),
    })
}

fn toml_problem(text: &str, front_start: usize, e: &toml::de::Error) -> Problem {
    let line = e.span().map(|span| {
        text[..(front_start + span.start).min(text.len())]
            .matches('\n')
            .count()
            + 1
    });
    let message = e.message().trim().to_string();
    let field = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
        .map(str::to_string);
    let fix = if field.is_some() {
        "remove it or correct its name (known fields: title, targets, agent, base, base_branch, verify, priority, timeout, enqueued, require_all, draft, labels)".to_string()
    } else {
        "fix the TOML between the `+++` lines (strings need double quotes; lists look like [\"a\", \"b\"])".to_string()
    };
    Problem {
        field,
        line,
        what: format!("the front matter is not valid TOML: {message}"),
        fix,
    }
}

/// Write a task as file text; `parse(&write(t)) == Ok(t)` for every task.
pub fn write(task: &Task) -> String {
    let mut out = String::from("+++\n");
    let mut kv = |key: &str, value: String| {
        out.push_str(key);
        out.push_str(" = ");
        out.push_str(&value);
        out.push('\n');
    };
    kv("title", toml_string(&task.title));
    kv("targets", toml_array(&task.targets));
    if let Some(agent) = &task.agent {
        kv("agent", toml_string(agent));
    }
    if let Some(base) = &task.base {
        kv("base", toml_string(base));
    }
    if let Some(branch) = &task.base_branch {
        kv("base_branch", toml_string(branch));
    }
    if !task.verify.is_empty() {
        kv("verify", toml_array(&task.verify));
    }
    if task.priority != 0 {
        kv("priority", task.priority.to_string());
    }
    if let Some(timeout) = &task.timeout {
        kv("timeout", toml_string(timeout));
    }
    if let Some(enqueued) = task.enqueued {
        kv("enqueued", enqueued.to_string());
    }
    if let Some(require_all) = task.require_all {
        kv("require_all", require_all.to_string());
    }
    if let Some(draft) = task.draft {
        kv("draft", draft.to_string());
    }
    if !task.labels.is_empty() {
        kv("labels", toml_array(&task.labels));
    }
    out.push_str("+++\n");
    out.push_str(&task.body);
    out
}

/// A TOML basic string on one line, whatever the text holds.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_array(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// True for a task id or agent name: `[a-z0-9][a-z0-9._-]*`.
pub fn is_slug(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
        && s.len() <= 200
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

/// Parse a duration such as `90s`, `30m`, `1h30m`, `2h`, `500ms`, `1d`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            "h" => Duration::from_secs(n.checked_mul(3600)?),
            "d" => Duration::from_secs(n.checked_mul(86_400)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
    }
    Some(total)
}

/// Check a target path or glob: relative, inside the repository, not into `.git`.
pub fn check_target(target: &str) -> Result<(), Problem> {
    let field = Some("targets");
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
    Ok(())
}

/// Check that a task id is a slug; the id is the file stem.
pub fn check_id(id: &str) -> Result<(), Problem> {
    if is_slug(id) {
        return Ok(());
    }
    let suggestion = slugify(id);
    Err(Problem::new(
        None,
        format!("the task id `{id}` (the file name without `.md`) is not a slug"),
        format!("rename the file to `{suggestion}.md`: ids use lower-case letters, digits, `.`, `_` and `-`, and start with a letter or digit"),
    ))
}

/// Read a task file from disk, with the checks on the file itself: a regular file,
/// at most 1 MiB, UTF-8. Then parse it.
pub fn load(path: &Path) -> Result<Task, TaskFileError> {
    let (text, _) = read_text_with_meta(path)?;
    parse(&text).map_err(|problem| TaskFileError {
        file: path.to_path_buf(),
        problem,
    })
}

/// Read a file that must be a regular, UTF-8 file of at most 1 MiB.
pub fn read_text(path: &Path) -> Result<String, TaskFileError> {
    read_text_with_meta(path).map(|(text, _)| text)
}

/// [`read_text`], also returning the file's metadata. Opens the file once, refusing
/// to follow a symbolic link, so the checks and the read see the same file.
pub fn read_text_with_meta(path: &Path) -> Result<(String, std::fs::Metadata), TaskFileError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |what: String, fix: &str| TaskFileError {
        file: path.to_path_buf(),
        problem: Problem::new(None, what, fix),
    };
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits() | nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(fail(
                "is a symbolic link".to_string(),
                "task files must be regular files: replace the link with a copy of the file it points to",
            ))
        }
        Err(e) => return Err(fail(format!("cannot be read: {e}"), "check that the file exists and is readable")),
    };
    let meta = file.metadata().map_err(|e| {
        fail(
            format!("cannot be read: {e}"),
            "check the file's permissions",
        )
    })?;
    if !meta.is_file() {
        return Err(fail(
            "is not a regular file".to_string(),
            "task files are regular Markdown files",
        ));
    }
    if meta.len() > MAX_TASK_BYTES {
        return Err(fail(
            format!("is {} bytes, over the 1 MiB limit for a task file", meta.len()),
            "move large context into the repository or the memory vault and refer to it from the task",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    (&mut file)
        .take(MAX_TASK_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            fail(
                format!("cannot be read: {e}"),
                "check the file's permissions",
            )
        })?;
    if bytes.len() as u64 > MAX_TASK_BYTES {
        return Err(fail(
            "grew over the 1 MiB limit while being read".to_string(),
            "shorten the file",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        fail(
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "save the file as UTF-8",
        )
    })?;
    Ok((text, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_from_titles() {
        assert_eq!(slugify("Task 1"), "task-1");
        assert_eq!(slugify("  Fix the README!! now "), "fix-the-readme-now");
        assert_eq!(slugify("Ünïcode ✓"), "n-code");
        assert_eq!(slugify("!!!"), "task");
    }

    #[test]
    fn parses_the_design_example() {
        let text = "+++\ntitle = \"Fix the install command in the README\"\ntargets = [\"README.md\"]  # only this\nagent = \"docs\"\nbase = \"main\"\nverify = [\"cargo test --quiet\"]\npriority = 0\ntimeout = \"30m\"\n+++\nThe install section says `cargo instal`; fix it.\n";
        let task = parse(text).expect("parses");
        assert_eq!(task.title, "Fix the install command in the README");
        assert_eq!(task.targets, vec!["README.md"]);
        assert_eq!(task.agent.as_deref(), Some("docs"));
        assert_eq!(
            task.body,
            "The install section says `cargo instal`; fix it.\n"
        );
        assert!(validate(&task).is_ok());
    }

    #[test]
    fn bad_toml_names_the_line() {
        let err = parse("+++\ntitle = \"x\"\ntargets = [README.md]\n+++\n").expect_err("rejects");
        assert_eq!(err.line, Some(3), "{err}");
        let err = parse("+++\ntitle = \"x\"\ntargest = []\n+++\n").expect_err("rejects");
        assert_eq!(err.field.as_deref(), Some("targest"), "{err}");
    }

    #[test]
    fn target_rules() {
        assert!(check_target("src/**").is_ok());
        assert!(check_target("a/../b").is_ok());
        assert!(check_target("/etc/passwd").is_err());
        assert!(check_target("../x").is_err());
        assert!(check_target("a/../../x").is_err());
        assert!(check_target(".git/config").is_err());
        assert!(check_target("**/../x").is_err());
        assert!(check_target("C:/x").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("3x"), None);
    }

    fn any_task() -> impl Strategy<Value = Task> {
        (
            any::<String>(),
            proptest::collection::vec(any::<String>(), 0..4),
            proptest::option::of(any::<String>()),
            proptest::option::of(any::<String>()),
            proptest::option::of(any::<String>()),
            proptest::collection::vec(any::<String>(), 0..3),
            any::<i64>(),
            proptest::option::of(any::<String>()),
            proptest::option::of(-4_000_000_000_000_000_000i128..9_000_000_000_000_000_000i128),
            (
                proptest::option::of(any::<bool>()),
                proptest::option::of(any::<bool>()),
                proptest::collection::vec(any::<String>(), 0..3),
                any::<String>(),
            ),
        )
            .prop_map(
                |(
                    title,
                    targets,
                    agent,
                    base,
                    base_branch,
                    verify,
                    priority,
                    timeout,
                    enqueued,
                    (require_all, draft, labels, body),
                )| Task {
                    title,
                    targets,
                    agent,
                    base,
                    base_branch,
                    verify,
                    priority,
                    timeout,
                    enqueued: enqueued.map(Timestamp),
                    require_all,
                    draft,
                    labels,
                    body,
                },
            )
    }

    proptest! {
        #[test]
        fn write_then_parse_is_exact(task in any_task()) {
            let text = write(&task);
            prop_assert_eq!(parse(&text), Ok(task));
        }

        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }

        /// Front matter of any content between `+++` lines: parsed, or rejected
        /// with a problem that says what to fix; a target never leaves the tree.
        #[test]
        fn front_matter_of_any_shape(front in any::<String>(), body in ".{0,40}") {
            match parse(&format!("+++\n{front}\n+++\n{body}")) {
                Err(problem) => prop_assert!(!problem.to_string().trim().is_empty()),
                Ok(task) => {
                    if validate(&task).is_ok() {
                        for t in &task.targets {
                            prop_assert!(check_target(t).is_ok());
                        }
                    }
                }
            }
        }

        /// Front matter built from real field names with arbitrary values.
        #[test]
        fn known_fields_with_arbitrary_values(
            field in prop_oneof![Just("title"), Just("targets"), Just("priority"), Just("timeout"),
                                 Just("base"), Just("agent"), Just("verify"), Just("labels"), Just("draft")],
            value in ".{0,30}"
        ) {
            let text = format!("+++\ntitle = \"t\"\ntargets = [\"a\"]\n{field} = {value}\n+++\n");
            let _ = parse(&text).map(|t| validate(&t));
        }

        #[test]
        fn slugify_makes_slugs(title in any::<String>()) {
            prop_assert!(is_slug(&slugify(&title)));
        }
    }
}
