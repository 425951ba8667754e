//! Reading a task file: the checks on the file itself (regular, UTF-8, at most
//! 1 MiB, never through a symbolic link), then its `+++` front matter and body.
use super::{
    Problem, Task, TaskFileError, FIELDS, MAX_RESULT_BYTES, MAX_TASK_BYTES, RESULT_MARKER,
};
use std::path::Path;

const DELIMITER: &str = "+++";

fn is_delimiter(line: &str) -> bool {
    line.trim_end() == DELIMITER
}

/// Parse a task file's text. Checks syntax and types only; see [`super::validate`] for the rules.
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
    let mut task: Task = toml::from_str(front).map_err(|e| toml_problem(text, front_start, &e))?;
    task.body = body.to_string();
    Ok(task)
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
        format!(
            "remove it or correct its name (known fields: {})",
            FIELDS.join(", ")
        )
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

/// Read a finished task from done/. The size limit is judged on the task as it
/// was written: the result section appended when it finished (from
/// [`RESULT_MARKER`] on, at most [`MAX_RESULT_BYTES`]) does not count.
pub fn load_finished(path: &Path) -> Result<Task, TaskFileError> {
    let (text, _) = read_capped(path, MAX_TASK_BYTES + MAX_RESULT_BYTES)?;
    let written = text.rfind(RESULT_MARKER).unwrap_or(text.len());
    if written as u64 > MAX_TASK_BYTES {
        return Err(TaskFileError {
            file: path.to_path_buf(),
            problem: Problem::new(
                None,
                format!("is {written} bytes before its result section, over the 1 MiB limit for a task file"),
                "move large context into the repository or the memory vault and refer to it from the task",
            ),
        });
    }
    parse(&text).map_err(|problem| TaskFileError {
        file: path.to_path_buf(),
        problem,
    })
}

/// [`read_text`], also returning the file's metadata. Opens the file once, refusing
/// to follow a symbolic link, so the checks and the read see the same file.
pub fn read_text_with_meta(path: &Path) -> Result<(String, std::fs::Metadata), TaskFileError> {
    read_capped(path, MAX_TASK_BYTES)
}

/// [`read_text_with_meta`] for a file of at most `cap` bytes.
fn read_capped(path: &Path, cap: u64) -> Result<(String, std::fs::Metadata), TaskFileError> {
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
    if meta.len() > cap {
        return Err(fail(
            format!("is {} bytes, over the 1 MiB limit for a task file", meta.len()),
            "move large context into the repository or the memory vault and refer to it from the task",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    (&mut file)
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            fail(
                format!("cannot be read: {e}"),
                "check the file's permissions",
            )
        })?;
    if bytes.len() as u64 > cap {
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
