//! The verifier: did the change land where the task said it would? Checks intent,
//! not well-formedness, and writes a Markdown report (the future PR body).
//!
//! (a) the change is not empty; (b) it touches only paths the targets cover;
//! (c) it touches every plain-path target, unless `require_all = false`;
//! (d) nothing was written outside the worktree (the agent's own write calls and
//! the writes Claude Code denied it; symlinks pointing out of the repository);
//! (e) every `verify` command passes in the worktree.
use crate::agent::stream::Denial;
use crate::error::CmdResult;
use crate::git::{Change, ChangeKind, Repo};
use crate::paths::Targets;
use crate::task::Task;
use serde::Serialize;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// The largest unified diff the report carries; the rest is summarised.
pub const DIFF_CAP: usize = 200 * 1024;
/// How long one verify command may run.
pub const VERIFY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// What the verifier looks at.
pub struct Input<'a> {
    pub repo: &'a Repo,
    pub id: &'a str,
    pub task: &'a Task,
    pub base: &'a str,
    pub worktree: &'a Path,
    /// Files the agent's tools wrote, as it named them.
    pub agent_writes: &'a [String],
    /// Tool calls Claude Code refused.
    pub denials: &'a [Denial],
    /// Where verify command logs go.
    pub log_dir: &'a Path,
}

/// One rule's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub name: &'static str,
    pub passed: bool,
    /// Why it failed (or a short note when it passed), one line per problem.
    pub details: Vec<String>,
}

/// A verify command's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CommandOutcome {
    pub command: String,
    pub passed: bool,
    pub status: String,
    /// The last lines of its output.
    pub tail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub passed: bool,
    pub rules: Vec<Rule>,
    pub targets: Vec<String>,
    pub touched: Vec<(String, String)>,
    pub commands: Vec<CommandOutcome>,
    #[serde(skip)]
    pub diff: String,
}

impl Report {
    /// The failing rules' details, for the task's reason.
    pub fn reason(&self) -> String {
        let problems: Vec<String> = self
            .rules
            .iter()
            .filter(|r| !r.passed)
            .flat_map(|r| r.details.clone())
            .collect();
        format!("verification rejected the change: {}", problems.join("; "))
    }
}

/// Verify a task as its record describes it: its base commit, the files its agent
/// wrote and the writes it was denied.
pub fn verify_task(
    repo: &Repo,
    id: &str,
    task: &Task,
    record: &crate::queue::Record,
    worktree: &Path,
    log_dir: &Path,
) -> CmdResult<Report> {
    let base = record.base_commit.as_deref().ok_or_else(|| {
        crate::error::CommandError::invalid(format!(
            "`{id}` has no base commit recorded: it never got past preflight"
        ))
    })?;
    let denials = record
        .agent_result
        .as_ref()
        .map(|r| r.permission_denials.clone())
        .unwrap_or_default();
    verify(&Input {
        repo,
        id,
        task,
        base,
        worktree,
        agent_writes: &record.agent_writes,
        denials: &denials,
        log_dir,
    })
}

/// Check a task's change. Errors only when the change cannot be read at all.
pub fn verify(input: &Input) -> CmdResult<Report> {
    let changes = input.repo.changes(input.id, input.base, input.worktree)?;
    let targets = Targets::new(&input.task.targets).map_err(crate::error::CommandError::invalid)?;
    let mut rules = Vec::new();

    // (a) not empty
    rules.push(Rule {
        name: "the change is not empty",
        passed: !changes.is_empty(),
        details: if changes.is_empty() {
            vec!["the agent made no change".into()]
        } else {
            vec![format!("{} path(s) changed", changes.len())]
        },
    });

    // (b) only the targets
    let mut outside = Vec::new();
    for change in &changes {
        for path in std::iter::once(&change.path).chain(change.from.as_ref()) {
            if !targets.covers(path) {
                let hint = targets
                    .closest(path)
                    .map(|t| format!("; did you mean `{t}`?"))
                    .unwrap_or_default();
                outside.push(format!("`{path}` is outside the targets{hint}"));
            }
        }
    }
    rules.push(Rule {
        name: "only the targets changed",
        passed: outside.is_empty(),
        details: outside,
    });

    // (c) every plain target
    let mut missed = Vec::new();
    if input.task.require_all != Some(false) {
        for target in targets.plain() {
            let touched = changes.iter().any(|c| {
                std::iter::once(&c.path)
                    .chain(c.from.as_ref())
                    .any(|p| p == target || p.starts_with(&format!("{target}/")))
            });
            if !touched {
                missed.push(format!("the target `{target}` was not changed (set `require_all = false` if that is fine)"));
            }
        }
    }
    rules.push(Rule {
        name: "every plain-path target changed",
        passed: missed.is_empty(),
        details: missed,
    });

    // (d) nothing outside the worktree
    let mut escaped = Vec::new();
    let root = canonical(input.worktree);
    let denied: Vec<&str> = input
        .denials
        .iter()
        .filter_map(|d| d.path.as_deref())
        .collect();
    for path in input
        .agent_writes
        .iter()
        .filter(|p| !denied.contains(&p.as_str()))
    {
        if let Some(abs) = outside_of(&root, input.worktree, path) {
            escaped.push(format!(
                "the agent tried to write `{abs}`, outside its worktree"
            ));
        }
    }
    for denial in input.denials {
        if let Some(path) = &denial.path {
            if let Some(abs) = outside_of(&root, input.worktree, path) {
                escaped.push(format!(
                    "the agent tried to write `{abs}`, outside its worktree ({} was denied)",
                    denial.tool_name
                ));
            }
        }
    }
    for change in &changes {
        if let Some(to) = &change.symlink_to {
            if leaves(&change.path, to) {
                escaped.push(format!(
                    "`{}` is a symbolic link to `{to}`, outside the repository",
                    change.path
                ));
            }
        }
    }
    rules.push(Rule {
        name: "nothing written outside the worktree",
        passed: escaped.is_empty(),
        details: escaped,
    });

    // (e) verify commands (only worth running on a change that is otherwise right)
    let mut commands = Vec::new();
    let others_pass = rules.iter().all(|r| r.passed);
    if !input.task.verify.is_empty() && input.worktree.is_dir() && others_pass {
        for (n, command) in input.task.verify.iter().enumerate() {
            commands.push(run_command(
                command,
                input.worktree,
                &input.log_dir.join(format!("verify-{}.log", n + 1)),
            ));
        }
    }
    let failed: Vec<String> = commands
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("`{}` {}", c.command, c.status))
        .collect();
    let skipped = !input.task.verify.is_empty() && commands.is_empty();
    rules.push(Rule {
        name: "the verify commands pass",
        passed: failed.is_empty(),
        details: if skipped {
            vec!["not run: the change already breaks a rule above".into()]
        } else {
            failed
        },
    });

    let passed = rules.iter().all(|r| r.passed);
    Ok(Report {
        id: input.id.to_string(),
        passed,
        rules,
        targets: targets.list.clone(),
        touched: changes
            .iter()
            .map(|c| (describe(c), c.path.clone()))
            .collect(),
        commands,
        diff: unified_diff(&changes),
    })
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The absolute form of a path the agent named, when it is not inside the worktree.
fn outside_of(root: &Path, worktree: &Path, named: &str) -> Option<String> {
    let path = Path::new(named);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        worktree.join(path)
    };
    let lexical = lexical_normalize(&abs);
    // Resolve what exists (symlinks in the path), keep the rest as written.
    let resolved = lexical
        .ancestors()
        .find_map(|a| {
            let canonical = a.canonicalize().ok()?;
            let rest = lexical.strip_prefix(a).unwrap_or(Path::new(""));
            Some(if rest.as_os_str().is_empty() {
                canonical
            } else {
                canonical.join(rest)
            })
        })
        .unwrap_or(lexical.clone());
    let inside = resolved.starts_with(root);
    (!inside).then(|| resolved.display().to_string())
}

fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// True when a symlink at `at` (repository-relative) pointing to `to` leaves the
/// repository.
fn leaves(at: &str, to: &str) -> bool {
    if Path::new(to).is_absolute() {
        return true;
    }
    let mut depth: i64 = at.matches('/').count() as i64;
    for part in to.split('/') {
        match part {
            ".." => depth -= 1,
            "" | "." => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

fn describe(c: &Change) -> String {
    let kind = match c.kind {
        ChangeKind::Added => "added",
        ChangeKind::Modified => "modified",
        ChangeKind::Deleted => "deleted",
        ChangeKind::Renamed => "renamed",
        ChangeKind::TypeChanged => "type or mode changed",
    };
    match (&c.from, &c.symlink_to) {
        (Some(from), _) => format!("{kind} from `{from}`"),
        (None, Some(to)) => format!("{kind} (symlink to `{to}`)"),
        _ => kind.to_string(),
    }
}

/// Run one verify command in the worktree under the timeout; keep its output.
fn run_command(command: &str, worktree: &Path, log: &Path) -> CommandOutcome {
    let outcome = |passed: bool, status: String| {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        CommandOutcome {
            command: command.to_string(),
            passed,
            status,
            tail,
        }
    };
    let Ok(file) = std::fs::File::create(log) else {
        return outcome(
            false,
            format!("could not start: cannot create {}", log.display()),
        );
    };
    let Ok(err_file) = file.try_clone() else {
        return outcome(false, "could not start: cannot share its log".into());
    };
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(worktree)
        .stdin(std::process::Stdio::null())
        .stdout(file)
        .stderr(err_file);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    crate::agent::process::unblock_signals_in_child(&mut cmd);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return outcome(false, format!("could not start: {e}")),
    };
    let pgid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let result = rx.recv_timeout(VERIFY_TIMEOUT);
    crate::agent::process::kill_group(pgid);
    match result {
        Ok(Ok(status)) if status.success() => outcome(true, "passed".into()),
        Ok(Ok(status)) => outcome(false, format!("failed ({status})")),
        Ok(Err(e)) => outcome(false, format!("could not be waited for: {e}")),
        Err(_) => outcome(
            false,
            format!(
                "timed out after {}",
                crate::agent::runner::human(VERIFY_TIMEOUT)
            ),
        ),
    }
}

/// The unified diff of every change, text files only, capped at [`DIFF_CAP`].
fn unified_diff(changes: &[Change]) -> String {
    let mut out = String::new();
    let mut left_out = 0;
    for c in changes {
        if out.len() >= DIFF_CAP {
            left_out += 1;
            continue;
        }
        let old_name = c.from.as_deref().unwrap_or(&c.path);
        let text = |b: &Option<Vec<u8>>| -> Option<String> {
            match b {
                None => Some(String::new()),
                Some(bytes) if bytes.contains(&0) => None,
                Some(bytes) => String::from_utf8(bytes.clone()).ok(),
            }
        };
        match (text(&c.old_text), text(&c.new_text)) {
            (Some(old), Some(new)) => {
                let diff = similar::TextDiff::from_lines(&old, &new);
                let body = diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{old_name}"), &format!("b/{}", c.path))
                    .to_string();
                if body.is_empty() {
                    out.push_str(&format!(
                        "--- a/{old_name}\n+++ b/{}\n({}, content unchanged)\n",
                        c.path,
                        describe(c)
                    ));
                } else {
                    out.push_str(&body);
                }
            }
            _ => out.push_str(&format!("Binary file `{}` {}\n", c.path, describe(c))),
        }
    }
    if out.len() > DIFF_CAP {
        let cut = (0..=DIFF_CAP)
            .rev()
            .find(|i| out.is_char_boundary(*i))
            .unwrap_or(0);
        out.truncate(cut);
        out.push_str(&format!("\n… the diff was cut at {} KiB", DIFF_CAP / 1024));
    }
    if left_out > 0 {
        out.push_str(&format!(
            "\n… and {left_out} more changed file(s) not shown (the diff is capped at {} KiB)\n",
            DIFF_CAP / 1024
        ));
    }
    out
}

/// The report as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut md = format!(
        "# Verification of `{}`: {}\n\n| rule | verdict | detail |\n| --- | --- | --- |\n",
        report.id,
        if report.passed { "passed" } else { "rejected" }
    );
    for (letter, rule) in ["a", "b", "c", "d", "e"].iter().zip(&report.rules) {
        let detail = rule.details.join("<br>").replace('|', "\\|");
        md.push_str(&format!(
            "| ({letter}) {} | {} | {detail} |\n",
            rule.name,
            if rule.passed {
                "✅ passed"
            } else {
                "❌ failed"
            }
        ));
    }
    md.push_str("\n## Declared targets\n\n");
    for t in &report.targets {
        md.push_str(&format!("- `{t}`\n"));
    }
    md.push_str("\n## Touched paths\n\n");
    if report.touched.is_empty() {
        md.push_str("(none)\n");
    }
    for (kind, path) in &report.touched {
        md.push_str(&format!("- `{path}`: {kind}\n"));
    }
    if !report.commands.is_empty() {
        md.push_str("\n## Verify commands\n");
        for c in &report.commands {
            md.push_str(&format!(
                "\n### `{}`: {}\n\n```text\n{}\n```\n",
                c.command, c.status, c.tail
            ));
        }
    }
    md.push_str(&format!("\n## Diff\n\n```diff\n{}```\n", report.diff));
    md
}

/// The report for a terminal: Markdown, with verdicts and diff lines in colour.
pub fn coloured(md: &str) -> String {
    let mut out = String::new();
    let mut in_diff = false;
    for line in md.lines() {
        if line.starts_with("```diff") {
            in_diff = true;
        } else if line.starts_with("```") {
            in_diff = false;
        }
        let colour = if in_diff && line.starts_with('+') && !line.starts_with("+++") {
            "32"
        } else if in_diff && line.starts_with('-') && !line.starts_with("---") {
            "31"
        } else if line.contains("❌") || line.contains(": rejected") {
            "31;1"
        } else if line.contains(": passed") {
            "32;1"
        } else {
            ""
        };
        if colour.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(&format!("\x1b[{colour}m{line}\x1b[0m"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_that_leave_the_repository() {
        assert!(leaves("link", "/etc/passwd"));
        assert!(leaves("link", "../outside"));
        assert!(leaves("a/link", "../../x"));
        assert!(!leaves("a/link", "../b/file"));
        assert!(!leaves("link", "docs/x"));
    }

    #[test]
    fn writes_outside_the_worktree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wt = dir.path().join("wt");
        std::fs::create_dir_all(&wt).expect("mkdir");
        let root = canonical(&wt);
        assert_eq!(outside_of(&root, &wt, "README.md"), None);
        assert_eq!(
            outside_of(&root, &wt, &wt.join("a/b.md").display().to_string()),
            None
        );
        assert!(outside_of(&root, &wt, "../main/README.md").is_some());
        assert!(outside_of(&root, &wt, "/etc/passwd").is_some());
        // A symlink inside the worktree that points out of it does not hide a write.
        std::os::unix::fs::symlink(dir.path(), wt.join("escape")).expect("symlink");
        assert!(outside_of(&root, &wt, "escape/secret").is_some());
    }
}
